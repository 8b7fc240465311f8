/**
 * The part of a Waku signalling run both roles share: the Waku endpoint, the counters, publishing,
 * reading raw messages (a refusal is counted, never thrown), and closing down.
 */
import {ProtocolError, type WakuDiscError} from '../../errors.js'
import {refusalCode, type RefusalCode} from './messages.js'
import type {WakuEndpoint} from './network.js'
import {signalObservers} from './observers.js'
import type {WakuSignaller, WakuSignalOptions, WakuSignalStats} from './types.js'
import {waiter, type Waiter} from './waiter.js'

export interface SessionPlace {
  /** `--waku-node`, normalised to a multiaddr. */
  nodeAddress: string
  pubsubTopic: string
  /** The listener's peer id and content topic. */
  peerId: string
  topic: string
}

export class SignalSession {
  readonly stats: WakuSignalStats
  readonly w: Waiter
  readonly progress: (text: string) => void
  /** The peer id of the Waku node we are connected to. */
  readonly nodePeerId: string
  readonly unsubscribers: (() => void)[] = []
  readonly timers = new Set<NodeJS.Timeout>()
  /** The Waku node the other peer says it used, once its offer or answer is read. */
  otherNode: string | undefined
  /** A bug met while reading a message: fails the run instead of dying in a callback. */
  failure: WakuDiscError | undefined
  readonly closed: Promise<void>
  private readonly times: number[] = []
  private readonly topicsUsed = new Set<string>()
  private closing: Promise<void> | undefined
  private resolveClosed!: () => void

  constructor(
    readonly options: WakuSignalOptions,
    readonly endpoint: WakuEndpoint,
    readonly place: SessionPlace,
  ) {
    this.stats = {
      role: options.role,
      node: place.nodeAddress,
      pubsubTopic: place.pubsubTopic,
      peerId: place.peerId,
      topic: place.topic,
      published: {messages: 0, bytes: 0, byKind: {}},
      received: {messages: 0, bytes: 0},
      refused: {},
      refusedTotal: 0,
      duplicates: 0,
      otherAnnouncements: 0,
    }
    this.w = waiter(options.signal)
    this.progress = options.onProgress ?? (() => {})
    this.nodePeerId = /\/p2p\/([^/]+)$/.exec(place.nodeAddress)?.[1] ?? ''
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve))
  }

  stopEndpoint(): Promise<void> {
    return (this.closing ??= this.endpoint.stop().finally(this.resolveClosed))
  }

  refuse(code: RefusalCode): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1
    this.stats.refusedTotal++
  }

  received(bytes: Uint8Array): void {
    this.stats.received.messages++
    this.stats.received.bytes += bytes.length
  }

  async publish(contentTopic: string, kind: string, bytes: Uint8Array): Promise<void> {
    await this.endpoint.publish(contentTopic, bytes)
    this.stats.published.messages++
    this.stats.published.bytes += bytes.length
    this.stats.published.byKind[kind] = (this.stats.published.byKind[kind] ?? 0) + 1
    this.topicsUsed.add(contentTopic)
    this.times.push(Date.now())
  }

  /** Wraps a message handler: counts what arrives, and turns a thrown refusal into a count. */
  onRaw(handler: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
    return (bytes) => {
      this.received(bytes)
      try {
        handler(bytes)
      } catch (err) {
        const code = refusalCode(err)
        if (code) return this.refuse(code)
        // Not a refusal: our bug. Fail the run with it instead of dying in a callback.
        this.failure ??= new ProtocolError('SIGNAL_INTERNAL', `reading a signalling message failed: ${(err as Error).message}`, {cause: err})
        this.w.wake()
      }
    }
  }

  stopTimers(): void {
    for (const t of this.timers) clearInterval(t)
    this.timers.clear()
  }

  close(): void {
    this.stopTimers()
    for (const u of this.unsubscribers) u()
    this.w.wake()
    void this.stopEndpoint()
  }

  /** The signaller members both roles share. */
  base(): Pick<WakuSignaller, 'stats' | 'observers' | 'closed' | 'close'> {
    const sameNode = () => (this.otherNode !== undefined ? {sameNode: this.otherNode === this.nodePeerId} : {})
    return {
      stats: () => ({...this.stats, published: {...this.stats.published, byKind: {...this.stats.published.byKind}}, refused: {...this.stats.refused}, ...sameNode()}),
      observers: () =>
        signalObservers({
          role: this.options.role,
          nodeAddress: this.place.nodeAddress,
          pubsubTopic: this.place.pubsubTopic,
          peerId: this.place.peerId,
          announceIntervalMs: this.options.announceIntervalMs ?? 2000,
          stats: this.stats,
          times: this.times,
          topicsUsed: this.topicsUsed,
          observedAddresses: this.endpoint.observedAddresses(),
          sameNode: this.otherNode !== undefined && this.otherNode === this.nodePeerId,
        }),
      closed: this.closed,
      close: () => this.close(),
    }
  }
}
