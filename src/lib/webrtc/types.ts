import type {IceServerSpec} from './ice.js'
import type {CandidateType} from './sdp.js'

export type IcePolicy = 'all' | 'relay'

export interface GatheredCandidate {
  type: CandidateType
  protocol: string
  address: string
  port: number
  relatedAddress?: string
  relatedPort?: number
  /** ms since the PeerConnection was created; undefined when only found in localDescription(). */
  atMs?: number
}

export interface GatherRun {
  id: string
  iceServers: IceServerSpec[]
  policy: IcePolicy
  timeoutMs: number
  graceMs: number
}

export interface GatherResult {
  id: string
  candidates: GatheredCandidate[]
  /** ms to gathering "complete", or null when it did not complete within timeoutMs. */
  completeMs: number | null
  /** ms to the first srflx / relay candidate. */
  firstSrflxMs: number | null
  firstRelayMs: number | null
  /** Log lines from libjuice/libdatachannel at Warning or above while this run was active. */
  logs: string[]
  turnAuthFailed: boolean
  error?: string
}

export interface SelectedPairEnd {
  local: {type: string; address: string; port: number; transport: string}
  remote: {type: string; address: string; port: number; transport: string}
}

export interface LinkSide {
  role: 'offerer' | 'answerer'
  /** null when node-datachannel's getSelectedCandidatePair() named none: it does not always (e.g. once the other end has closed). */
  selectedPair: SelectedPairEnd | null
  /** ICE RTT from node-datachannel in ms, null when unknown (-1). */
  iceRttMs: number | null
  /** This end's DTLS role as negotiated in the SDP (RFC 8842 a=setup), null before both descriptions are in. */
  dtlsRole: 'client' | 'server' | null
  localCandidates: GatheredCandidate[]
  remoteCandidates: number
  events: {name: string; atMs: number}[]
}

export interface LinkMeasurement {
  ok: boolean
  /** Why it failed, in words. */
  reason?: string
  /** ms from PeerConnection creation (offerer) to the data channel being open. */
  openMs: number | null
  /**
   * ms to ICE "connected" on the offerer (same origin as openMs). The gap to openMs is DTLS+SCTP;
   * about 1 s there is one DTLS retransmission: the answerer's first flight left before the offerer
   * had the answer (no trickle ICE in our signalling; the loopback pair avoids it, see offererActive in worker/offer.ts).
   */
  iceConnectedMs: number | null
  /** Data-channel ping-pong round trips, ms. */
  rttMs: number[]
  rttMedianMs: number | null
  bytes: number
  throughputMbps: number | null
  transferMs: number | null
  /** "direct" unless either end reports a relay candidate in its selected pair. */
  path: 'direct' | 'relayed' | 'unknown'
  offerer?: LinkSide
  answerer?: LinkSide
  logs: string[]
  /** Set when a first loopback attempt hit a native setup race and the pair was built again: its error. */
  retriedAfter?: string
}

/** What every data-channel measurement task (`pair` in one worker, `listen`/`dial` across two) needs. */
export interface LinkTaskOptions {
  iceServers: IceServerSpec[]
  policy: IcePolicy
  bytes: number
  pings: number
  connectTimeoutMs: number
  gatherTimeoutMs: number
}

/** Messages exchanged with the native worker over the IPC channel. */
export type WorkerTask =
  | {kind: 'gather'; runs: GatherRun[]}
  | ({kind: 'loopback'} & LinkTaskOptions)
  /** holdCandidatesMs: how long the answerer waits for 'release-candidates' before adding the offer's candidates anyway. */
  | ({kind: 'peer'; role: 'offerer' | 'answerer'; holdCandidatesMs?: number} & LinkTaskOptions)

export type ToWorker =
  | {op: 'run'; task: WorkerTask}
  | {op: 'remote-description'; sdpType: 'offer' | 'answer'; sdp: string}
  /** To the answerer: the offerer has applied our answer, so the offer's candidates may now be checked. */
  | {op: 'release-candidates'}
  | {op: 'abort'}

export type FromWorker =
  | {op: 'ready'}
  | {op: 'local-description'; sdpType: 'offer' | 'answer'; sdp: string}
  /** From the offerer: setRemoteDescription(answer) returned. */
  | {op: 'answer-applied'}
  | {op: 'progress'; text: string}
  | {op: 'result'; result: unknown}
  | {op: 'error'; code: string; message: string}
