/**
 * The link protocol both ends of a measured data channel speak, with no transport in it: the
 * native worker runs it over node-datachannel (channel.ts), the browser page of `webrtc listen
 * --page` over RTCDataChannel (src/page/webrtc.ts bundles this file). It imports nothing from
 * Node or node-datachannel, so it also runs over an in-memory channel in the tests.
 *
 * Messages, all on one ordered, reliable channel (text unless said otherwise):
 *   dialer → listener  `ping:<i>`          listener → dialer  `pong:<i>`
 *   dialer → listener  binary chunks of 0x61 bytes, then `done:<bytes sent>`
 *                                          listener → dialer  `recv:<binary bytes received>`
 *   dialer → listener  `report:<JSON>`     listener → dialer  `report:<JSON>`  (then it is done)
 * Binary and text messages share one ordered stream, so when `done:` arrives every chunk sent
 * before it has arrived too. A report is each end's own view (selected pair, DTLS role, …), cut
 * to REPORT_LIMIT characters; the other end treats it as untrusted (link-report.ts).
 */
import {ProtocolError, UnreachableError} from '../../errors.js'

export const CHUNK = 16 * 1024
export const HIGH_WATER = 1024 * 1024
/** Longest text message kept; longer ones are cut (a report is cut before it is sent). */
export const MAX_TEXT = 8192
export const REPORT_LIMIT = 60000
/** Text messages waiting to be read; more are dropped. */
export const MAX_QUEUED = 1000

/** What the protocol needs of a data channel: the two transports adapt to this. */
export interface LinkChannel {
  sendText(text: string): void
  sendBinary(bytes: Uint8Array<ArrayBuffer>): void
  /** Bytes queued for sending. */
  bufferedAmount(): number
  setBufferedAmountLowThreshold(bytes: number): void
  /** Replaces the callback run when bufferedAmount falls to the threshold. */
  onBufferedAmountLow(cb: () => void): void
}

/** The incoming side of a channel: the transport pushes every message it receives. */
export class LinkInbox {
  private readonly queue: string[] = []
  private waiter: (() => void) | undefined
  private binaryBytes = 0

  text(m: string): void {
    if (this.queue.length < MAX_QUEUED) this.queue.push(m.slice(0, MAX_TEXT))
    this.waiter?.()
  }

  binary(byteLength: number): void {
    this.binaryBytes += byteLength
    this.waiter?.()
  }

  /** Binary bytes received so far. */
  bytes(): number {
    return this.binaryBytes
  }

  /** The first queued text message `pred` accepts (others stay queued); LINK_TIMEOUT after timeoutMs. */
  async next(pred: (m: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const i = this.queue.findIndex(pred)
      if (i >= 0) return this.queue.splice(i, 1)[0]!
      const left = deadline - performance.now()
      if (left <= 0) throw new UnreachableError('LINK_TIMEOUT', `no answer on the data channel within ${timeoutMs} ms`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50))
        this.waiter = () => {
          clearTimeout(t)
          r()
        }
      })
    }
  }
}

/** Sends `bytes` in CHUNK-sized binary messages, keeping at most about HIGH_WATER queued. */
export async function sendBulk(ch: LinkChannel, bytes: number): Promise<void> {
  ch.setBufferedAmountLowThreshold(HIGH_WATER / 4)
  const chunk = new Uint8Array(CHUNK).fill(0x61)
  let sent = 0
  while (sent < bytes) {
    if (ch.bufferedAmount() > HIGH_WATER) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20)
        ch.onBufferedAmountLow(() => {
          clearTimeout(t)
          r()
        })
      })
      continue
    }
    const n = Math.min(CHUNK, bytes - sent)
    ch.sendBinary(n === CHUNK ? chunk : chunk.subarray(0, n))
    sent += n
  }
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 1000) / 1000
}

function reportMessage(own: unknown): string {
  return `report:${JSON.stringify(own)}`.slice(0, REPORT_LIMIT)
}

/** The JSON after `report:`, or undefined when it does not parse (a cut or hostile report). */
function readReport(m: string): unknown {
  try {
    return JSON.parse(m.slice(7)) as unknown
  } catch {
    return undefined
  }
}

export interface DialOptions {
  pings: number
  /** Bytes for the throughput test (0: none). */
  bytes: number
  /** This end's report (or a promise of it), taken after the measurements and sent as JSON. */
  ownReport: () => unknown
  /** Who the other end is, in the short-transfer error ("the peer", "the CLI"). */
  peerName?: string
  /** How long to wait for each pong, the `recv:` count, and the report (defaults 5 s, 60 s, 5 s). */
  timeouts?: {pongMs?: number; recvMs?: number; reportMs?: number}
}

export interface DialResult {
  /** Ping-pong round trips, ms (3 decimals). */
  rtts: number[]
  /** ms from the first bulk chunk to the `recv:` answer, null without a transfer. */
  transferMs: number | null
  /** The listener's report as parsed JSON (untrusted), undefined when it did not parse. */
  remote: unknown
}

/**
 * The active side: pings, bulk transfer, then a report exchange. Fails with LINK_TIMEOUT
 * (UnreachableError) when an answer does not come, LINK_SHORT_TRANSFER (ProtocolError) when the
 * listener counted another number of bytes than were sent.
 */
export async function dial(ch: LinkChannel, inbox: LinkInbox, options: DialOptions): Promise<DialResult> {
  const {pings, bytes} = options
  const rtts: number[] = []
  for (let i = 0; i < pings; i++) {
    const t = performance.now()
    ch.sendText(`ping:${i}`)
    await inbox.next((m) => m === `pong:${i}`, options.timeouts?.pongMs ?? 5000)
    rtts.push(Math.round((performance.now() - t) * 1000) / 1000)
  }
  let transferMs: number | null = null
  if (bytes > 0) {
    const t = performance.now()
    await sendBulk(ch, bytes)
    ch.sendText(`done:${bytes}`)
    const ack = await inbox.next((m) => m.startsWith('recv:'), options.timeouts?.recvMs ?? 60_000)
    transferMs = performance.now() - t
    const got = Number(ack.slice(5))
    if (got !== bytes) throw new ProtocolError('LINK_SHORT_TRANSFER', `${options.peerName ?? 'the peer'} received ${got} of ${bytes} bytes`)
  }
  ch.sendText(reportMessage(await options.ownReport()))
  const rep = await inbox.next((m) => m.startsWith('report:'), options.timeouts?.reportMs ?? 5000)
  return {rtts, transferMs, remote: readReport(rep)}
}

/**
 * The passive side: answers pings, counts bulk bytes, then swaps reports and returns. Text it does
 * not know is skipped. LINK_TIMEOUT when the dialer has not sent its report within timeoutMs.
 */
export async function listen<S>(ch: LinkChannel, inbox: LinkInbox, ownReport: () => S, timeoutMs: number): Promise<{remote: unknown; own: S}> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const left = deadline - performance.now()
    if (left <= 0) throw new UnreachableError('LINK_TIMEOUT', 'the dialer did not finish its measurements in time')
    const m = await inbox.next(() => true, left)
    if (m.startsWith('ping:') && m.length < 20) ch.sendText(`pong:${m.slice(5)}`)
    else if (m.startsWith('done:')) {
      // Everything sent before "done" has arrived (one ordered stream): the count is final.
      if (Number.isSafeInteger(Number(m.slice(5)))) ch.sendText(`recv:${inbox.bytes()}`)
    } else if (m.startsWith('report:')) {
      const remote = readReport(m)
      const own = ownReport()
      ch.sendText(reportMessage(own))
      return {remote, own}
    }
  }
}
