/** TXT lookups through the operating system's resolver (node:dns, c-ares). */
import {Resolver as SystemResolver} from 'node:dns/promises'

import {UnreachableError, abortError} from '../errors.js'
import type {ResolverCounters, TxtQueryOptions, TxtResolver} from './txt-resolver.js'

/** The operating system's resolver (node:dns, c-ares), optionally pointed at given servers. */
export class SystemTxtResolver implements TxtResolver {
  readonly counters: ResolverCounters = {queries: 0, tcpFallbacks: 0, retransmits: 0, bytesReceived: 0}
  readonly description = 'system resolver'
  private readonly resolver: SystemResolver

  constructor(options: {timeoutMs?: number; tries?: number} = {}) {
    this.resolver = new SystemResolver({timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2})
  }

  async resolveTxt(name: string, options: TxtQueryOptions = {}): Promise<string[]> {
    this.counters.queries++
    const onAbort = (): void => this.resolver.cancel()
    options.signal?.addEventListener('abort', onAbort, {once: true})
    try {
      const records = await this.resolver.resolveTxt(name)
      return records.map((chunks) => chunks.join(''))
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, `TXT lookup of ${name}`)
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTFOUND' || code === 'ENODATA') return []
      throw new UnreachableError('DNS_UNREACHABLE', `system resolver failed for ${name} (${code ?? (error as Error).message})`, {cause: error})
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  async close(): Promise<void> {
    this.resolver.cancel()
  }
}
