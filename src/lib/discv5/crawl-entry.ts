/**
 * The crawl's per-node state, and what a strategy may ask of the engine that schedules it: the
 * engine owns the queues, the pacing and the reports; a strategy decides whom to ask for which
 * distances and what the answers mean.
 */
import type {ENR} from '@chainsafe/enr'

import type {RefusalReason} from '../net/index.js'
import type {PeerVisit} from '../visit/index.js'
import type {RecordView} from './view.js'

export interface CrawlEntry {
  nodeId: string
  enr: ENR
  status: 'queued' | 'visiting' | 'responsive' | 'unresponsive' | 'refused' | 'no-address' | 'known'
  refusal?: RefusalReason
  firstSeen: number
  lastSeen: number
  seenBy: number
  requests: number
  timeouts: number
  rttMs?: number
  neighbours?: Set<string>
  hasSession: boolean
  /** First-contact attempts that timed out (retried from the back of the queue). */
  failedVisits: number
  emitted: boolean
  nextRequestAt: number
  view?: RecordView
  visit?: PeerVisit
  /** Families to try, the current one first (after admission). */
  families?: Array<4 | 6>
}

export interface StrategyHost {
  readonly aborted: boolean
  readonly entries: ReadonlyMap<string, CrawlEntry>
  readonly selfId: string
  /** ms since the crawl started. */
  elapsed(): number
  /** One FINDNODE with the engine's pacing and retries; undefined after the last timeout. */
  findNode(entry: CrawlEntry, distances: number[], retries?: number): Promise<ENR[] | undefined>
  /** Learns every record of an answer (the asking node's neighbours for exhaustive). */
  absorb(entry: CrawlEntry, enrs: ENR[]): number
  learn(enr: ENR, from: string | undefined, source?: string): void
  /** Puts a silent first contact back in the queue; false when it has had its retries. */
  requeue(entry: CrawlEntry): boolean
  /** The node's state is final: report it (after its visit, when visits are on). */
  finalize(entry: CrawlEntry): void
  /** First contacts still waiting. */
  readonly queued: number
  /** Exhaustive: the node answered its first contact; enumerate its buckets next. */
  enqueueEnumeration(entry: CrawlEntry): void
}
