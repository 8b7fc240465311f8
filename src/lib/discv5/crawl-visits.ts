/**
 * The crawl's libp2p visits (src/lib/visit): when they may start while the discv5 traversal runs,
 * a responsive node's visit before its line is written, the peers other sources named outside
 * the crawl, and waiting for them all at the end.
 */
import type {DestinationPolicy} from '../net/index.js'
import type {SourceResult} from '../sources/index.js'
import {Visitor, type PeerVisit} from '../visit/index.js'
import type {CrawlEntry} from './crawl-entry.js'
import type {CrawlOptions} from './crawl-types.js'

/** Event-loop lag (ms) above which new libp2p visits wait while the discv5 traversal runs. */
const VISIT_HOLD_LAG_MS = 40
/** While the traversal runs, at most one visit starts per this many ms (its handshake is the CPU cost). */
const VISIT_START_GAP_MS = 40

export interface CrawlVisitsInit {
  visit: NonNullable<CrawlOptions['visit']>
  policy: DestinationPolicy
  /** Ends every visit at once (the crawl's abort). */
  signal: AbortSignal
  now: () => number
  /** Whether the discv5 traversal still runs, and its event-loop lag now. */
  traversing: () => boolean
  lagMs: () => number
}

export class CrawlVisits {
  /** Peers sources named outside the crawl (node id → their visit, once done). */
  readonly outside = new Map<string, PeerVisit | undefined>()
  private readonly visitor: Visitor
  private readonly pending = new Set<Promise<void>>()
  private done = 0
  private failed = 0
  private lastVisitStart = Number.NEGATIVE_INFINITY

  constructor(private readonly init: CrawlVisitsInit) {
    this.visitor = new Visitor({
      ...init.visit,
      policy: init.policy,
      signal: init.signal,
      // Discovery first: while the traversal runs, a few visits at a time and none while our loop
      // lags (a burst of handshakes starves discv5 replies before the lag probe can see it).
      holdWhile: () => {
        if (!init.traversing()) return false
        const now = init.now()
        if (init.lagMs() > VISIT_HOLD_LAG_MS || now - this.lastVisitStart < VISIT_START_GAP_MS) return true
        this.lastVisitStart = now
        return false
      },
    })
  }

  private get aborted(): boolean {
    return this.init.signal.aborted
  }

  /** Visits a responsive node; `then` runs once the visit is over (the node's line waits for it). */
  visitNode(entry: CrawlEntry, then: () => void): void {
    const p = this.visitor
      .visit(entry.enr.encodeTxt())
      .then(
        (visit) => {
          if (!visit || this.aborted) return
          entry.visit = visit
          this.done++
          if (visit.error) this.failed++
        },
        () => undefined,
      )
      .finally(() => {
        this.pending.delete(p)
        then()
      })
    this.pending.add(p)
  }

  /** Peers a source named without a record the crawl could use: visited by their addresses. */
  visitOutside(gathered: readonly SourceResult[], crawled: ReadonlyMap<string, unknown>): void {
    for (const r of gathered) {
      for (const peer of r.peers) {
        if (crawled.has(peer.nodeId) || this.outside.has(peer.nodeId)) continue
        this.outside.set(peer.nodeId, undefined)
        const p = this.visitor
          .visitPeer(peer.peerId, peer.addresses)
          .then((visit) => {
            if (visit && !this.aborted) this.outside.set(peer.nodeId, visit)
          }, () => undefined)
          .finally(() => this.pending.delete(p))
        this.pending.add(p)
      }
    }
  }

  /** Waits for every visit, including ones started meanwhile. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  stop(): Promise<void> {
    return this.visitor.stop()
  }

  counts(): {done: number; failed: number; pending: number} {
    return {done: this.done, failed: this.failed, pending: this.pending.size}
  }
}
