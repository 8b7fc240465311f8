/** The node-set shapes: geth's entry, the set keyed by node id, read options and results, filters. */
import type {Readable} from 'node:stream'

import type {NodeFilter} from '../enr/index.js'

/** One node in geth's node-set format. `seq` is a decimal string (uint64). Times are RFC 3339 UTC. */
export interface NodeSetEntry {
  seq: string
  record: string
  score?: number
  firstResponse?: string
  lastResponse?: string
  lastCheck?: string
}

/** Keyed by node id (64 lowercase hex characters, no 0x), like geth. */
export type NodeSet = Record<string, NodeSetEntry>

export type NodeSetFormat = 'nodes.json' | 'ndjson' | 'enr-list'

export interface NodeSetProblem {
  /** `file:line` (or `stdin:line`). */
  where: string
  message: string
}

export interface ReadNodeSetOptions {
  signal?: AbortSignal
  /** Stream read for the path `-` (default process.stdin). */
  stdin?: Readable
  /** Skip bad entries (reported through onProblem) instead of throwing on the first. */
  lenient?: boolean
  onProblem?: (problem: NodeSetProblem) => void
  /** Check every record's signature (default true; about 1 ms per record). */
  verifySignatures?: boolean
}

export interface NodeSetReadResult {
  set: NodeSet
  format: NodeSetFormat
  problems: NodeSetProblem[]
}

/** Go's zero time.Time, which geth writes for times it never set (omitempty has no effect on structs). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

export interface NodeSetFilter extends NodeFilter {
  /** Keep at most this many nodes: highest score first, ties by node id (geth's -limit is random among ties). */
  limit?: number
  /** Keep nodes whose score is at least this. */
  minScore?: number
  /** Keep nodes seen for at least this many seconds (lastResponse − firstResponse), like geth's -min-age. */
  minAge?: number
}

/** How many nodes each criterion of a {@link NodeSetFilter} dropped (each node counted once, by the first criterion it failed). */
export interface NodeSetFilterDrops {
  minScore: number
  minAge: number
  /** Waku criteria of the record: waku-only, capabilities, cluster, shard. */
  record: number
  limit: number
}
