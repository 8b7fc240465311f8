/**
 * A bounded-concurrency limiter: at most `limit` tasks run at once, the rest wait in arrival
 * order. Small enough to keep here rather than add p-limit (which is ESM-only and does the same
 * in more lines); `idle()` lets a caller wait for everything it started.
 */
export class Limiter {
  private running = 0
  private readonly waiting: Array<() => void> = []
  private readonly idleWaiters: Array<() => void> = []

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
  }

  /** Tasks running now. */
  get active(): number {
    return this.running
  }

  /** Tasks waiting for a place. */
  get pending(): number {
    return this.waiting.length
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its place straight to the next waiter (running stays counted), so
    // no other finish can see the limiter idle while a woken task has not resumed yet.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else if (--this.running === 0) for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  /** Resolves once no task runs or waits. */
  async idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }
}
