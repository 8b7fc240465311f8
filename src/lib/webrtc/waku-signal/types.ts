/** The public shapes of the Waku signaller: its options, its identity, its counters. */
import type {Signaller} from '../peer.js'
import type {PrivacyObserver} from '../privacy.js'
import type {WakuSignalLimits} from './intake.js'
import type {RefusalCode} from './messages.js'

export interface WakuSignalOptions {
  role: 'offerer' | 'answerer'
  /** `--waku-node`: a WebSocket multiaddr with /p2p/, or an ENR with one. */
  node: string
  cluster?: number
  shard?: number
  /** Listener: its static key (a new one per run when absent). */
  privateKey?: Uint8Array
  /** Dialer: the listener's ENR (`enr:…`) or libp2p peer id. */
  peer?: string
  signal?: AbortSignal
  /** Listener: how often it announces itself (default 2 s). */
  announceIntervalMs?: number
  /** Dialer: how long it waits for the listener's announcement (default 120 s). */
  waitPeerTimeoutMs?: number
  /** Dialer: how long it waits for the answer once it has invited (default 60 s); resends the invitation every resendMs (3 s). */
  answerTimeoutMs?: number
  resendMs?: number
  connectTimeoutMs?: number
  limits?: Partial<WakuSignalLimits>
  /** Listener: called once subscribed, with what a dialer needs (the command prints it). */
  onIdentity?: (identity: ListenerIdentity) => void
  onProgress?: (text: string) => void
}

export interface ListenerIdentity {
  enr: string
  peerId: string
  topic: string
  pubsubTopic: string
}

export interface WakuSignalStats {
  role: 'offerer' | 'answerer'
  node: string
  pubsubTopic: string
  /** The listener's peer id and content topic (ours when listening, the target's when dialling). */
  peerId: string
  topic: string
  replyTopic?: string
  published: {messages: number; bytes: number; byKind: Record<string, number>}
  received: {messages: number; bytes: number}
  /** Refused messages by code (they never stop the run). */
  refused: Partial<Record<RefusalCode, number>>
  refusedTotal: number
  /** Copies of the invitation being served, or of our answer (resends), handled without a refusal. */
  duplicates: number
  /** Valid announcements of other listeners (dialer). */
  otherAnnouncements: number
  /** Whether the other peer said it used the same Waku node as we did (known once the offer or answer is read). */
  sameNode?: boolean
}

export interface WakuSignaller extends Signaller {
  identity?: ListenerIdentity
  stats(): WakuSignalStats
  observers(): PrivacyObserver[]
  /** Resolves when close() has stopped the Waku node. */
  readonly closed: Promise<void>
}
