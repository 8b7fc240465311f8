import {FRESH_WINDOW_MS} from './messages.js'

/** Remembers ephemeral keys and invitation ids for twice the freshness window; bounded. */
export class ReplayGuard {
  readonly #seen = new Map<string, number>()
  constructor(
    private readonly ttlMs = 2 * FRESH_WINDOW_MS,
    private readonly max = 8192,
  ) {}

  /** True when `key` was seen within the window (and remembers it otherwise). */
  seen(key: string, now = Date.now()): boolean {
    const at = this.#seen.get(key)
    if (at !== undefined && now - at < this.ttlMs) return true
    if (this.#seen.size >= this.max) {
      for (const [k, t] of this.#seen) if (now - t >= this.ttlMs) this.#seen.delete(k)
      // Still full: forget the oldest (timestamps outside the window are refused as stale anyway).
      if (this.#seen.size >= this.max) this.#seen.delete(this.#seen.keys().next().value!)
    }
    this.#seen.set(key, now)
    return false
  }

  /** True when `key` was seen within the window (without remembering it). */
  has(key: string, now = Date.now()): boolean {
    const at = this.#seen.get(key)
    return at !== undefined && now - at < this.ttlMs
  }

  get size(): number {
    return this.#seen.size
  }
}
