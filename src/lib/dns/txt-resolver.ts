/**
 * The interface every TXT lookup for tree resolution goes through, so callers inject what they
 * need (system resolver, a given server, DNS-over-HTTPS): one string per TXT RR with its
 * character-strings joined (EIP-1459 entries longer than 255 bytes arrive split). Also the decoding
 * of a DNS answer into those strings, shared by the server and DoH resolvers.
 */
import type dnsPacket from 'dns-packet'

import {UnreachableError} from '../errors.js'

export interface TxtQueryOptions {
  signal?: AbortSignal
}

export interface TxtResolver {
  /** TXT RRs at `name`, each RR's strings joined; [] when the name or the type does not exist. */
  resolveTxt(name: string, options?: TxtQueryOptions): Promise<string[]>
  close(): Promise<void>
  /** Transport counters (queries sent, TCP retries after truncation, retransmissions). */
  readonly counters: ResolverCounters
  readonly description: string
}

export interface ResolverCounters {
  queries: number
  tcpFallbacks: number
  retransmits: number
  bytesReceived: number
}

/** TXT strings of a decoded response, each RR's character-strings joined; rcode errors typed. */
export function txtOf(decoded: dnsPacket.Packet, name: string, description: string): string[] {
  const rcode = (decoded as {rcode?: string}).rcode ?? 'NOERROR'
  if (rcode === 'NXDOMAIN') return []
  if (rcode !== 'NOERROR') {
    throw new UnreachableError(`DNS_${rcode}`, `${description} answered ${rcode} for ${name}`, {
      hint: rcode === 'REFUSED' ? 'the server is not authoritative for this name and does not recurse' : undefined,
    })
  }
  const out: string[] = []
  for (const answer of decoded.answers ?? []) {
    if (answer.type !== 'TXT' || answer.name.toLowerCase() !== name.toLowerCase().replace(/\.$/, '')) continue
    const data = answer.data as Array<Buffer | string> | Buffer | string
    const parts = Array.isArray(data) ? data : [data]
    out.push(parts.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'))).join(''))
  }
  return out
}

/** A transport failure (socket, connection) as our typed error. */
export function unreachable(description: string, error: Error): UnreachableError {
  const code = (error as NodeJS.ErrnoException).code ?? 'ERROR'
  return new UnreachableError('DNS_UNREACHABLE', `${description} cannot be reached (${code})`, {cause: error})
}
