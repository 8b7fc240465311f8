/**
 * The crawl's requests: when one may start (requests in flight, new-handshake slots, per-node
 * pacing), one FINDNODE with its retries, and the counts and logs of what came back. The engine
 * decides whom to ask; this decides when, and keeps the books.
 */
import type {Discv5} from '@chainsafe/discv5'
import type {ENR} from '@chainsafe/enr'

import {isRequestFailure, sendFindNodeVia, type TimeoutPhase} from './adapter/index.js'
import type {CrawlEntry} from './crawl-entry.js'
import type {CrawlSettings} from './crawl-settings.js'
import type {HandshakePacer} from './pacer.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** What the gate needs of the engine. */
export interface RequestGateHost {
  readonly settings: CrawlSettings
  readonly pacer: HandshakePacer
  readonly entries: ReadonlyMap<string, CrawlEntry>
  readonly aborted: boolean
  /** Keep the timeout log (recordDiscoveryLog). */
  readonly recordLogs: boolean
  /** The started node. */
  discv5(): Discv5
  /** ms since the crawl started. */
  elapsed(): number
  /** A request to this node was answered after rttMs. */
  onAnswer(entry: CrawlEntry, rttMs: number): void
}

export class RequestGate {
  inFlight = 0
  newSessionsInFlight = 0
  /** Retries of silent nodes in flight: not counted in inFlight. */
  silentInFlight = 0
  requests = 0
  succeeded = 0
  timeouts = 0
  failed = 0
  handshakes = 0
  /** Requests made by random-walk lookups. */
  lookupRequests = 0
  readonly timeoutsByPhase: Record<TimeoutPhase, number> = {challenge: 0, handshake: 0, session: 0}
  readonly timeoutLog: Array<{nodeId: string; ms: number; phase: TimeoutPhase; attempt: number}> = []
  private releaseWaiters: Array<() => void> = []

  constructor(private readonly host: RequestGateHost) {}

  private get limits() {
    return this.host.settings.limits
  }

  private now(): number {
    return this.host.settings.now()
  }

  /** The first-contact WHOAREYOU wait for this node (the request timer asks per request). */
  challengeTimeout(nodeId: string): number | undefined {
    const entry = this.host.entries.get(nodeId)
    return this.host.pacer.challengeTimeout(entry !== undefined && this.isLastAttempt(entry))
  }

  /** A visit's first contact is its node's last chance when no retry may follow it. */
  private isLastAttempt(entry: CrawlEntry): boolean {
    return this.host.settings.strategy === 'random-walk' || entry.failedVisits >= this.limits.retries
  }

  onTimeoutPhase(nodeId: string, phase: TimeoutPhase): void {
    this.timeoutsByPhase[phase]++
    if (this.host.recordLogs) {
      const entry = this.host.entries.get(nodeId)
      this.timeoutLog.push({nodeId, ms: Math.round(this.host.elapsed()), phase, attempt: (entry?.failedVisits ?? 0) + 1})
    }
  }

  /**
   * Whether a request needs a handshake slot: a first contact does, except a retry of a node that
   * was silent before (almost always dead, so almost never a handshake's CPU; a live one that
   * lost its first answer costs one handshake above the cap).
   */
  private needsHandshakeSlot(entry: CrawlEntry): boolean {
    return !entry.hasSession && !(entry.failedVisits > 0 && entry.status !== 'responsive')
  }

  /** Waits until another request may start to this node, honouring global and per-node limits. */
  private async acquire(entry: CrawlEntry): Promise<boolean> {
    const pacer = this.host.pacer
    for (;;) {
      if (this.host.aborted) return false
      const needsHandshake = this.needsHandshakeSlot(entry)
      const silentRetry = !entry.hasSession && !needsHandshake
      const ok =
        silentRetry ||
        (this.inFlight < this.limits.concurrency &&
          (!needsHandshake || (this.newSessionsInFlight < pacer.cap(this.host.elapsed()) && pacer.lagAllowsHandshake(this.newSessionsInFlight))))
      if (ok) {
        const wait = entry.nextRequestAt - this.now()
        if (wait > 0) {
          await sleep(wait)
          continue
        }
        this.inFlight++
        return true
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20)
        this.releaseWaiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  private release(): void {
    const waiters = this.releaseWaiters
    this.releaseWaiters = []
    for (const w of waiters) w()
  }

  /** One FINDNODE with retries; resolves to the records, or undefined after the last timeout. */
  async findNode(entry: CrawlEntry, distances: number[], retries = this.limits.retries): Promise<ENR[] | undefined> {
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (!(await this.acquire(entry))) return undefined
      const handshake = !entry.hasSession
      let slotHeld = false
      // Whether this request counts against `concurrency` (else it is a presumed-silent one).
      let counted = true
      let slotTimer: NodeJS.Timeout | undefined
      if (handshake) this.handshakes++
      if (handshake && !this.needsHandshakeSlot(entry)) {
        // A retry of a silent node: it waits without taking a live node's place.
        counted = false
        this.inFlight--
        this.silentInFlight++
      } else if (handshake) {
        this.newSessionsInFlight++
        slotHeld = true
        // A silent node must not hold a handshake slot for the whole timeout: the CPU the cap
        // protects is paid only on an answer. Once its WHOAREYOU is overdue it gives the slot up.
        // (It keeps its place among the requests in flight: freeing those too let a loaded crawl
        // open more first contacts than the remote side could answer, and live nodes were then
        // judged dead.)
        slotTimer = setTimeout(() => {
          if (slotHeld) {
            slotHeld = false
            this.newSessionsInFlight--
            this.release()
          }
        }, this.host.pacer.slotHoldMs())
      }
      const started = this.now()
      entry.requests++
      this.requests++
      if (this.host.settings.strategy === 'random-walk') this.lookupRequests++
      entry.nextRequestAt = started + (this.limits.perNodeRate > 0 ? 1000 / this.limits.perNodeRate : 0)
      try {
        const enrs = await sendFindNodeVia(this.host.discv5(), entry.enr, distances, entry.families?.[0])
        this.succeeded++
        if (handshake) this.host.pacer.onHandshakeRtt(this.now() - started)
        entry.hasSession = true
        this.host.onAnswer(entry, this.now() - started)
        return enrs
      } catch (error) {
        if (this.host.aborted) return undefined
        // A timeout, or a session that failed under the request: no answer either way, so both
        // count as timeouts and the node may be retried.
        if (isRequestFailure(error)) {
          this.timeouts++
          entry.timeouts++
          entry.hasSession = false
        } else {
          this.failed++
          return undefined
        }
      } finally {
        if (slotTimer) clearTimeout(slotTimer)
        if (slotHeld) {
          slotHeld = false
          this.newSessionsInFlight--
        }
        if (counted) this.inFlight--
        else this.silentInFlight--
        this.release()
      }
    }
    return undefined
  }
}
