/**
 * The shapes of a doctor report, shared by the steps (index.ts, reachability.ts) so that neither
 * imports the other. Steps carry data and machine-readable reasons; the words are src/ui/doctor.ts's.
 */
import {isWakuDiscError, type ErrorJson} from '../errors.js'
import type {PortMapProtocolName, PortMapReport, ReachReport} from '../nat/index.js'
import type {TxtResolver} from '../dns/index.js'
import type {Discv5ProtocolId} from './discv5-ping.js'

export type StepStatus = 'ok' | 'warn' | 'fail' | 'skipped' | 'unavailable'

export type DoctorStepName = 'decode' | 'lint' | 'discv5-ping' | 'caps' | 'peer-exchange' | 'tree' | 'reachability'

/** Why a step was skipped, or why it warns when its data alone does not say. */
export type DoctorReason =
  /** discv5-ping: a multiaddr carries no discv5 endpoint. */
  | 'multiaddr-no-discv5'
  /** discv5-ping: turned off by the caller. */
  | 'disabled'
  /** discv5-ping: the record has no ip+udp (or ip6+udp6); `error` says so. */
  | 'no-discv5-endpoint'
  /** discv5-ping (warn): the node reports a newer ENR seq than the record's. */
  | 'stale-record'
  /** caps, peer-exchange: the record has no libp2p address (tcp, tcp6 or multiaddrs). */
  | 'no-libp2p-address'
  /** peer-exchange: caps could not reach the node. */
  | 'node-unreachable'
  /** peer-exchange: identify lists no peer-exchange protocol. */
  | 'no-peer-exchange'
  /** caps on a tree node: its record is not a dialable target; `error` says why. */
  | 'not-a-target'
  /** caps on a tree node: every address was refused by the destination policy (`data.refused`). */
  | 'no-admissible-address'

export interface DoctorStep {
  step: DoctorStepName
  /** Which node the step looked at (tree samples name theirs). */
  subject: string
  status: StepStatus
  reason?: DoctorReason
  durationMs: number
  error?: ErrorJson
  data?: unknown
}

export interface DoctorReport {
  target: string
  kind: 'enr' | 'multiaddr' | 'enrtree'
  steps: DoctorStep[]
  ok: boolean
  /** 0 healthy (warnings allowed), 3 a check failed, 4 the node was unreachable. */
  exitCode: number
}

/** `data` of a tree node's caps step skipped for `no-admissible-address`. */
export interface RefusedAddresses {
  refused: {address: string; reason: string}[]
}

/** `data` of the reachability step. */
export interface ReachabilityData {
  portmap?: PortMapReport
  reach?: ReachReport
  /** Port mapping could not be checked. */
  portmapError?: ErrorJson
  /** The relay was given but the dial through it could not be tried. */
  reachError?: ErrorJson
}

export interface ReachabilityOptions {
  gateway?: string
  protocols?: PortMapProtocolName[]
  natPmpPort?: number
  /** A circuit relay v2 address: dial the node through it and watch for a DCUtR upgrade. */
  relay?: string
  timeoutMs?: number
}

/** A discv5 PING to the node's ENR; absent in builds without the discv5 engine. */
export type Discv5Pinger = (enr: string, options: {signal?: AbortSignal}) => Promise<{rttMs: number; enrSeq?: string}>

export interface DoctorOptions {
  signal?: AbortSignal
  /** Per-node budget for caps and peer exchange (default 10 s). */
  timeoutMs?: number
  /** Peers asked for in the PX sample (default 5). */
  pxPeers?: number
  /** For enrtree:// targets. */
  resolver?: TxtResolver
  /** Nodes of a tree to check with caps (default 3). */
  treeSample?: number
  /** The discv5 PING; default: @chainsafe/discv5 (discv5Ping), false to skip the step. */
  discv5Ping?: Discv5Pinger | false
  /** Packet protocol id for the default pinger (default by record: d5waku for Waku, discv5 otherwise). */
  discv5Protocol?: Discv5ProtocolId
  /** Run on the node's own host: port mapping at its gateway vs the record, and a hole punch through a relay. */
  reachability?: ReachabilityOptions
}

/** A step's error as JSON (any thrown value: ours keep code and exit code, others are UNEXPECTED). */
export function stepError(err: unknown): ErrorJson {
  return isWakuDiscError(err) ? err.toJSON() : {name: 'Error', code: 'UNEXPECTED', exitCode: 1, message: (err as Error)?.message ?? String(err)}
}
