/** TXT lookups by DNS-over-HTTPS (RFC 8484 wire format by POST, through undici), answers read to at most 64 KiB. */
import dnsPacket from 'dns-packet'
import {request} from 'undici'

import {BadInputError, ProtocolError, UnreachableError, abortError} from '../errors.js'
import {readBodyLimited} from '../net/http.js'
import {txtOf, unreachable, type ResolverCounters, type TxtQueryOptions, type TxtResolver} from './txt-resolver.js'

/** DNS-over-HTTPS, RFC 8484 wire format by POST. */
export class DohTxtResolver implements TxtResolver {
  readonly counters: ResolverCounters = {queries: 0, tcpFallbacks: 0, retransmits: 0, bytesReceived: 0}
  readonly description: string

  constructor(
    readonly url: string,
    private readonly options: {timeoutMs?: number} = {},
  ) {
    try {
      const u = new URL(url)
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)')
    } catch {
      throw new BadInputError('DNS_BAD_DOH', `invalid DNS-over-HTTPS URL ${JSON.stringify(url)}`, {hint: 'e.g. https://cloudflare-dns.com/dns-query'})
    }
    this.description = `DoH ${url}`
  }

  async resolveTxt(name: string, options: TxtQueryOptions = {}): Promise<string[]> {
    this.counters.queries++
    const body = dnsPacket.encode({type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{type: 'TXT', name, class: 'IN'}]})
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 5000)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    let response
    let bytes: Buffer
    try {
      response = await request(this.url, {
        method: 'POST',
        headers: {'content-type': 'application/dns-message', accept: 'application/dns-message'},
        body,
        signal,
      })
      // A DNS message is at most 65,535 bytes: never buffer more than that from one answer.
      bytes = await readBodyLimited(response.body, 65_535, `${this.description} answer for ${name}`)
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, `TXT lookup of ${name}`)
      if (timeout.aborted) throw new UnreachableError('DNS_TIMEOUT', `${this.description} did not answer for ${name}`)
      if (error instanceof ProtocolError) throw error
      throw unreachable(this.description, error as Error)
    }
    this.counters.bytesReceived += bytes.length
    if (response.statusCode !== 200) {
      throw new UnreachableError('DNS_DOH_HTTP', `${this.description} answered HTTP ${response.statusCode} for ${name}`)
    }
    let decoded: dnsPacket.Packet
    try {
      decoded = dnsPacket.decode(bytes)
    } catch (error) {
      throw new ProtocolError('DNS_BAD_RESPONSE', `${this.description} sent an undecodable answer for ${name}: ${(error as Error).message}`)
    }
    return txtOf(decoded, name, this.description)
  }

  async close(): Promise<void> {}
}
