/**
 * The crawl's event stream between the engine (a producer that must never wait) and the caller's
 * `for await` (a consumer that reads at its own pace): an unbounded FIFO with an end. It is not
 * the Limiter of ../pool.ts, which bounds how many tasks run at once; nothing here runs tasks or
 * limits anything, and a producer push must not block the crawl on a slow reader.
 */
export class EventQueue<T> {
  private readonly items: T[] = []
  private waiter?: () => void
  private closed = false

  push(item: T): void {
    this.items.push(item)
    this.waiter?.()
  }

  /** No more items: drain() ends once the queued ones are read. */
  close(): void {
    this.closed = true
    this.waiter?.()
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!
      if (this.closed) return
      await new Promise<void>((resolve) => (this.waiter = resolve))
      this.waiter = undefined
    }
  }
}
