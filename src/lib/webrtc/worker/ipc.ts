/**
 * The worker's message channel to its parent (native.ts): Node's IPC with JSON serialization, so
 * every message arrives as one whole object and there is no framing to parse here. Messages are
 * read by `op`, in any order: each waiting step takes the first message of its kind.
 */
import type {FromWorker, ToWorker} from '../types.js'

/** Messages from the parent, kept until a step asks for their op. */
export class Mailbox {
  private readonly inbox: ToWorker[] = []
  private waiter: (() => void) | undefined

  push(m: ToWorker): void {
    this.inbox.push(m)
    this.waiter?.()
  }

  async next<T extends ToWorker['op']>(op: T, timeoutMs: number): Promise<Extract<ToWorker, {op: T}>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex((m) => m?.op === op)
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<ToWorker, {op: T}>
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for the remote description`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, left)
        this.waiter = () => {
          clearTimeout(t)
          r()
        }
      })
    }
  }
}

const mailbox = new Mailbox()

/**
 * Starts reading the parent's messages. `onStop` runs when the parent sends 'abort' or goes away
 * (the worker then tears down and exits).
 */
export function connectParent(onStop: () => void): void {
  process.on('message', (m: ToWorker) => {
    if (m?.op === 'abort') onStop()
    mailbox.push(m)
  })
  process.on('disconnect', onStop)
}

/** Sends one message to the parent; resolves once it is written (or at once without a parent). */
export function send(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve()
    process.send(msg, undefined, {}, () => resolve())
  })
}

/** The first message with this op from the parent (waiting up to timeoutMs for it). */
export function nextMessage<T extends ToWorker['op']>(op: T, timeoutMs: number): Promise<Extract<ToWorker, {op: T}>> {
  return mailbox.next(op, timeoutMs)
}
