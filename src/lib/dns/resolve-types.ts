/**
 * The shapes of an EIP-1459 resolution: the options `resolveTree` takes and the tree it returns.
 * Types only; client.ts re-exports them as the public API.
 */
import type {TxtResolver} from './txt-resolver.js'

export interface TreeProblem {
  code: string
  severity: 'error' | 'warning'
  message: string
  /** The DNS name concerned, when there is one. */
  name?: string
}

export interface ResolvedNode {
  nodeId: string
  seq: string
  enr: string
  /** The hash label the record was found at. */
  hash: string
}

export interface ResolveStats {
  /** DNS queries sent (retransmissions and TCP retries included). */
  queries: number
  /** Tree entries fetched (root not counted). */
  entries: number
  branches: number
  leaves: number
  /** Levels below the root: root → … → leaf. */
  depth: number
  elapsedMs: number
  tcpFallbacks: number
  retransmits: number
  concurrency: number
  rateLimit: number
}

export interface ResolvedTree {
  url: string
  domain: string
  publicKey: string
  seq: string
  root: string
  eroot: string
  lroot: string
  mode: 'full' | 'random'
  nodes: ResolvedNode[]
  links: string[]
  /** Every TXT record fetched, by name, as geth's to-txt would list it (root included). */
  txt: Record<string, string>
  linkedTrees: ResolvedTree[]
  problems: TreeProblem[]
  complete: boolean
  stats: ResolveStats
}

export interface ResolveTreeOptions {
  resolver: TxtResolver
  signal?: AbortSignal
  /** Lookups in flight at once (default 16). */
  concurrency?: number
  /** Lookups per second, 0 = unlimited (default 0); `burst` defaults to max(10, rate). */
  rateLimit?: number
  burst?: number
  /** Keep going on errors and report them instead of failing on the first (geth fails). */
  lenient?: boolean
  /** Resolve linked trees too (their results land in `linkedTrees`). */
  followLinks?: boolean
  maxLinkDepth?: number
  maxTrees?: number
  /** Random descent: return this many distinct leaves, walking root → leaf one query at a time. */
  random?: number
  /** Refuse (or report, when lenient) a root whose seq is below this: rollback protection. */
  minSeq?: bigint
  /** Largest tree accepted, in entries (default 200 000). */
  maxEntries?: number
  verifySignatures?: boolean
  /** Called after every fetched entry (for progress lines). */
  onProgress?: (progress: {fetched: number; pending: number; nodes: number}) => void
  /** Called for each node as it is found (for streaming output). */
  onNode?: (node: ResolvedNode) => void
  /** Random source for `random` (tests make it deterministic). */
  randomInt?: (max: number) => number
}

/** What a full sync or a random descent found below the root (client.ts adds root, links followed and stats). */
export interface TreeScan {
  /** By node id. */
  nodes: Map<string, ResolvedNode>
  links: string[]
  branches: number
  leaves: number
  depth: number
  complete: boolean
}
