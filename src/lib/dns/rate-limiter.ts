/** The request-rate limit of tree resolution: a token bucket, abortable while it waits. */
import {abortError} from '../errors.js'

/** Token bucket: `rate` per second with `burst` (geth's client uses 3/s, burst 10). rate 0 = unlimited. */
export class RateLimiter {
  private tokens: number
  private last = performance.now()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  async take(signal?: AbortSignal): Promise<void> {
    if (this.rate <= 0) return
    for (;;) {
      const now = performance.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      const waitMs = ((1 - this.tokens) / this.rate) * 1000
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }, Math.max(1, waitMs))
        const onAbort = (): void => {
          clearTimeout(t)
          reject(abortError(signal!, 'rate-limited lookup'))
        }
        signal?.addEventListener('abort', onAbort, {once: true})
      })
    }
  }
}
