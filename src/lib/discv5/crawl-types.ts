/**
 * The crawl's public shapes: options, the per-node report, live stats, the summary and the event
 * stream. Kept apart from the engine so that readers of results (the UI, history, outputs) do not
 * import the engine.
 */
import type {NodeFilter, WakuCapability} from '../enr/index.js'
import type {RefusalReason} from '../net/index.js'
import type {GatherOptions, SourcesReport} from '../sources/index.js'
import type {PeerVisit, VisitReport} from '../visit/index.js'
import type {CurvePoint, RandomWalkEstimate} from './analysis.js'
import type {TimeoutPhase} from './adapter/index.js'
import type {SendObservation, WireCounters} from './node.js'
import type {DiscoveryNetwork} from './protocol.js'
import type {NetworkPreset, PresetFindingCode} from './presets.js'
import type {RecordView} from './view.js'

export type CrawlStrategy = 'exhaustive' | 'census' | 'random-walk'
export const CRAWL_STRATEGIES: readonly CrawlStrategy[] = ['exhaustive', 'census', 'random-walk']

/** A FINDNODE answer with this many records means the bucket is full (5 packets × 3 records). */
export const FULL_BUCKET = 15

export interface CrawlOptions {
  /** Bootstrap records (ENR text). */
  bootnodes: string[]
  network?: DiscoveryNetwork
  /** Overrides the network's protocol id. */
  protocolId?: string
  strategy?: CrawlStrategy
  /** Contact private/loopback/link-local addresses wherever they were learned. */
  allowPrivate?: boolean
  /** Contact UDP ports ≤ 1024. */
  allowLowPorts?: boolean
  /** Extra trusted CIDRs; the bootnodes' own ranges are always added. */
  trustedRanges?: string[]
  /** Applied to the reported results (not to the traversal). */
  filter?: NodeFilter
  /** Requests in flight at once (default 256). */
  concurrency?: number
  /** New handshakes in flight at once (default 48), reached after a ramp. */
  maxNewSessions?: number
  /** Milliseconds over which the new-handshake cap ramps up from 8 (default 1000). */
  rampMs?: number
  /** Per-request timeout in ms (default 2500). */
  requestTimeoutMs?: number
  /** Retries after a timed-out first contact, from the back of the queue (default 1). */
  retries?: number
  /**
   * Least wait (ms) for the WHOAREYOU answering a first contact before that attempt counts as a
   * timeout (default 1000; it grows to 4× the slowest recent challenge round trip). A node's last
   * attempt always waits the full request timeout. 0 disables the shorter wait.
   */
  challengeTimeoutMs?: number
  /** Maximum requests per second to one node (default 10). */
  perNodeRate?: number
  /** random-walk: stop after this many ms. */
  durationMs?: number
  /** random-walk: stop after this many lookups. */
  maxLookups?: number
  /** random-walk: lookups run in parallel (default 1, as a Waku node does). */
  walkers?: number
  /** Local bind address (default 127.0.0.1 when every bootnode is loopback, else 0.0.0.0). */
  bindHost?: string
  /**
   * Also bind this IPv6 address beside the IPv4 one (dual stack); null = IPv4 only. Default: ::1
   * (loopback bootnodes) or :: when some bootnode has an ip6/udp6 address, else none.
   */
  bindHost6?: string | null
  bindPort?: number
  /** 32-byte key of the crawler's identity (default random). */
  privateKey?: Uint8Array
  signal?: AbortSignal
  /** Observes every datagram handed to the socket (tests use it to prove the address policy). */
  onSend?: (send: SendObservation) => void
  /** Called once for every node the crawl learns of (benchmarks stop walks at a coverage). */
  onDiscover?: (nodeId: string) => void
  /** Keep each node's first-discovery time and request count in the result (benchmarks). */
  recordDiscoveryLog?: boolean
  /** Milliseconds between progress events (default 250). */
  progressIntervalMs?: number
  /** Clock (tests). */
  now?: () => number
  /**
   * Dial every responsive node with a libp2p address (identify, metadata, ping) and check its
   * record's claims (src/lib/visit). Off unless given.
   */
  visit?: {concurrency?: number; timeoutMs?: number; resolve?: (name: string, family: 4 | 6) => Promise<string[]>}
  /** Check every Waku record against this network's cluster and shards (see presets.ts). */
  preset?: NetworkPreset
  /**
   * Other discovery sources to gather from before the crawl (DNS tree, peer exchange, rendezvous):
   * their records are crawled too, each node reports which sources knew it, and the summary
   * compares the sources.
   */
  gather?: Omit<GatherOptions, 'signal'>
}

export type NodeStatus = 'responsive' | 'unresponsive' | 'refused' | 'no-address' | 'unvisited'

/** One node as reported (ndjson line, CSV row). */
export interface CrawledNode extends RecordView {
  status: NodeStatus
  /** true: answered; false: contacted and silent; null: never contacted. */
  responsive: boolean | null
  /** Why the address was not contacted. */
  refusal?: RefusalReason
  /** How many NODES answers listed it. */
  seenBy: number
  firstSeen: string
  lastSeen: string
  /** Milliseconds to the first answer (including the handshake). */
  rttMs?: number
  requests: number
  timeouts: number
  /** Node ids of its routing table entries (exhaustive strategy). */
  neighbours?: string[]
  /** Whether the node passes the crawl's filter. */
  matches: boolean
  /** With visits on: what dialling it over libp2p found (responsive nodes only). */
  visit?: PeerVisit
  /** The address family the crawler reached it on (or would have tried first). */
  family?: 4 | 6
  /** Discovery sources that knew the node: discv5 (a NODES answer listed it), dns, px, …; a bootnode no source lists has none. */
  sources?: string[]
  /** Source → the highest ENR seq it held (decimal strings). */
  sourceSeqs?: Record<string, string>
  /** With a preset: why this Waku record is outside it (cluster, shards). */
  outsidePreset?: {code: PresetFindingCode; message: string}
}

export interface CrawlStats {
  elapsedMs: number
  discovered: number
  responsive: number
  unresponsive: number
  refused: number
  queued: number
  inFlight: number
  requests: number
  timeouts: number
  handshakes: number
  wakuResponsive: number
  lookups: number
  requestsPerSecond: number
  wire: WireCounters
  /** With visits on: finished (ok or not), failed, and in flight or waiting. */
  visits?: {done: number; failed: number; pending: number}
}

export interface CrawlSummary {
  state: 'complete' | 'cancelled' | 'time-limit'
  network: DiscoveryNetwork | 'custom'
  protocolId: string
  strategy: CrawlStrategy
  startedAt: string
  durationMs: number
  bootnodes: number
  counts: {
    discovered: number
    responsive: number
    unresponsive: number
    refused: number
    noAddress: number
    unvisited: number
    /** Responsive nodes with a waku2 field. */
    waku: number
    /** Discovered nodes with a waku2 field (responsive or not). */
    wakuDiscovered: number
    /** Nodes passing the filter (all statuses). */
    matching: number
    matchingResponsive: number
  }
  refusals: Partial<Record<RefusalReason, number>>
  requests: {
    sent: number
    succeeded: number
    timeouts: number
    failed: number
    perResponsiveNode: number
    /** Timeouts by stage: no WHOAREYOU to a first contact, no reply after the handshake, or on an established session. */
    timeoutsByPhase: Record<TimeoutPhase, number>
  }
  handshakes: number
  lookups?: {count: number; requestsPerLookup: number}
  wire: WireCounters
  capabilities: Partial<Record<WakuCapability, number>>
  clusters: Record<string, number>
  shards: Record<string, number>
  analysis: {
    networkSize: {enumerated: number; kademliaEstimate: number | null; kademliaSamples: number}
    /** Waku share among responsive nodes. */
    wakuShare: number
    randomWalk: RandomWalkEstimate
    observed: {requestsToFirstWaku: number | null; msToFirstWaku: number | null}
  }
  curve: CurvePoint[]
  /** With visits on (see VisitReport). */
  visits?: VisitReport['visits']
  agents?: VisitReport['agents']
  protocols?: VisitReport['protocols']
  metadata?: VisitReport['metadata']
  findings?: VisitReport['findings']
  /** With a preset: responsive Waku nodes outside it, by reason. */
  preset?: {name: string; cluster: number; numShards: number | null; checked: number; outside: Partial<Record<PresetFindingCode, number>>}
  /** With gather: per-source comparison (see SourcesReport). */
  sources?: SourcesReport
  /** Dual stack: responsive nodes by the family they were reached on. */
  families?: {ipv4: number; ipv6: number}
}

export interface CrawlResult extends CrawlSummary {
  /** Every node seen (filter not applied; see `matches`). */
  nodes: CrawledNode[]
  /** With recordDiscoveryLog: node id → first discovery. */
  discoveryLog?: Array<{nodeId: string; ms: number; requests: number}>
  /** With recordDiscoveryLog: every request timeout (ms since start, stage, the node's attempt number). */
  timeoutLog?: Array<{nodeId: string; ms: number; phase: TimeoutPhase; attempt: number}>
  /** With recordDiscoveryLog: when each node first answered (ms since start) and on which visit. */
  answerLog?: Array<{nodeId: string; ms: number; attempt: number}>
  /** With recordDiscoveryLog: the scheduler every 100 ms (requests and handshake slots in flight, the cap, loop lag, queue). */
  schedulerLog?: Array<{ms: number; inFlight: number; handshakes: number; cap: number; lagMs: number; queued: number; challengeWaitMs: number}>
}

export type CrawlEvent =
  | {type: 'start'; protocolId: string; strategy: CrawlStrategy; bootnodes: number; bindAddress: string; nodeId: string}
  | {type: 'node'; node: CrawledNode}
  | {type: 'progress'; stats: CrawlStats}
  | {type: 'sources'; sources: Array<{name: string; records: number; peers: number; ms: number; errors: number}>}
  | {type: 'done'; result: CrawlResult}

