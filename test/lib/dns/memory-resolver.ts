// An in-memory TXT resolver for tests that need no DNS server: answers from a map after a delay.
import {abortError} from '../../../src/lib/errors.js'
import type {ResolverCounters, TxtQueryOptions, TxtResolver} from '../../../src/lib/dns/resolvers.js'

/** Answers from a map after `delayMs`, honouring the signal; counts lookups started and the most in flight at once. */
export class MemoryResolver implements TxtResolver {
  readonly counters: ResolverCounters = {queries: 0, tcpFallbacks: 0, retransmits: 0, bytesReceived: 0}
  readonly description = 'memory'
  inFlight = 0
  maxInFlight = 0

  constructor(
    private readonly txt: Record<string, string>,
    private readonly delayMs = 2,
  ) {}

  resolveTxt(name: string, options: TxtQueryOptions = {}): Promise<string[]> {
    const signal = options.signal
    if (signal?.aborted) return Promise.reject(abortError(signal, `TXT lookup of ${name}`))
    this.counters.queries++
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    return new Promise<string[]>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        this.inFlight--
        reject(abortError(signal!, `TXT lookup of ${name}`))
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        this.inFlight--
        const value = this.txt[name]
        resolve(value === undefined ? [] : [value])
      }, this.delayMs)
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  async close(): Promise<void> {}
}
