/**
 * What keeps a flood from stopping the listener: a bounded queue for raw messages on its topic
 * (read in small batches, so the event loop keeps turning) and a token bucket for the expensive
 * part, the ECDH of each new invitation.
 */
import {MAX_SIGNAL_BYTES, type RefusalCode} from './messages.js'

export interface WakuSignalLimits {
  /** Raw messages waiting to be read on the listener's topic (more are dropped: SIGNAL_QUEUE_FULL). */
  queue: number
  /** Invitations whose ECDH we do at once, and per second after that (more: SIGNAL_RATE_LIMITED). */
  burst: number
  perSecond: number
}

export const DEFAULT_LIMITS: WakuSignalLimits = {queue: 256, burst: 64, perSecond: 32}

export class TokenBucket {
  #tokens: number
  #at = Date.now()
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.#tokens = burst
  }
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}

/**
 * A subscription handler that queues raw messages (at most `limit`) and hands them to `read` 16 at
 * a time, one batch per event-loop turn. An oversized message or one that finds the queue full is
 * refused at once, unread (`refuse` with SIGNAL_TOO_BIG or SIGNAL_QUEUE_FULL).
 */
export function boundedIntake(limit: number, read: (bytes: Uint8Array) => void, refuse: (bytes: Uint8Array, code: RefusalCode) => void): (bytes: Uint8Array) => void {
  const queue: Uint8Array[] = []
  let draining = false
  const drain = () => {
    draining = false
    for (let i = 0; i < 16 && queue.length; i++) read(queue.shift()!)
    if (queue.length) {
      draining = true
      setImmediate(drain)
    }
  }
  return (bytes) => {
    const early: RefusalCode | undefined = bytes.length > MAX_SIGNAL_BYTES ? 'SIGNAL_TOO_BIG' : queue.length >= limit ? 'SIGNAL_QUEUE_FULL' : undefined
    if (early) return refuse(bytes, early)
    queue.push(bytes)
    if (!draining) {
      draining = true
      setImmediate(drain)
    }
  }
}
