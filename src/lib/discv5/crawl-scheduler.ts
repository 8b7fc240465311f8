/**
 * The census and exhaustive scheduler: the queues of first contacts, retries and bucket
 * enumerations, and the loop that starts visits from them within the concurrency. Strategies say
 * what one visit does (strategies/); this says which visit starts next and when the traversal is
 * over. (Random walk has its own loop, strategies/random-walk.ts.)
 */
import type {CrawlEntry, StrategyHost} from './crawl-entry.js'
import type {CrawlSettings} from './crawl-settings.js'
import type {CensusStrategy} from './strategies/census.js'
import {enumerateBuckets, exhaustiveFirstContact} from './strategies/exhaustive.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** What the scheduler needs of the engine beyond StrategyHost. */
export interface SchedulerHost extends StrategyHost {
  readonly settings: CrawlSettings
  readonly census: CensusStrategy
  /** Retries of silent nodes in flight (they do not take the places of nodes that answer). */
  readonly silentInFlight: number
}

export class VisitScheduler {
  private readonly queue: string[] = []
  private queueHead = 0
  /** Retries of silent first contacts: started before new nodes (they need no handshake slot). */
  private readonly retryQueue: string[] = []
  /**
   * Exhaustive: nodes that answered their first contact, waiting for their buckets to be
   * enumerated. First contacts run ahead of enumerations (their own pool), so silent nodes are
   * found out early and their timeouts overlap the enumerations instead of trailing them.
   */
  private readonly enumQueue: string[] = []
  private enumVisits = 0
  /** Census: responsive nodes in answer order, and how many of them were asked a second bucket. */
  private readonly answered: string[] = []
  private secondAsks = 0
  private secondAsksInFlight = 0
  private wake?: () => void

  constructor(private readonly host: SchedulerHost) {}

  /** Ends the loop's current wait (new work, or an abort). */
  wakeUp(): void {
    this.wake?.()
  }

  /** A node admitted for a first contact. */
  enqueue(entry: CrawlEntry): void {
    entry.status = 'queued'
    this.queue.push(entry.nodeId)
    this.wake?.()
  }

  /** A node answered (census: a candidate for a second bucket in the tail). */
  onAnswered(entry: CrawlEntry): void {
    this.answered.push(entry.nodeId)
  }

  /** First contacts still waiting. */
  get queued(): number {
    return this.queue.length - this.queueHead
  }

  /** First contacts and retries still waiting. */
  get waiting(): number {
    return this.queue.length - this.queueHead + this.retryQueue.length
  }

  /**
   * A first contact that timed out goes to the back of the queue instead of being retried at
   * once: under load the retry then meets a quieter remote, and dead nodes do not delay others.
   */
  requeue(entry: CrawlEntry): boolean {
    // No retry beyond `retries`: the last attempt waited the full request timeout on a loop that
    // reads pending replies before it times a request out (makeTimeoutsLagTolerant), so a node
    // silent through it is dead; more attempts only lengthen the crawl's tail.
    if (this.host.aborted || entry.failedVisits >= this.host.settings.limits.retries) return false
    entry.failedVisits++
    // Dual-stack records: the retry goes over the other family.
    if (entry.families && entry.families.length > 1) entry.families.push(entry.families.shift()!)
    entry.status = 'queued'
    this.retryQueue.push(entry.nodeId)
    this.wake?.()
    return true
  }

  enqueueEnumeration(entry: CrawlEntry): void {
    this.enumQueue.push(entry.nodeId)
    this.wake?.()
  }

  /** Runs visits until every queue is empty and every visit has ended (or the crawl is aborted). */
  async run(): Promise<void> {
    const host = this.host
    const {strategy, limits} = host.settings
    const census = host.census
    const visits = new Set<Promise<void>>()
    for (;;) {
      if (host.aborted) break
      // The census's tail: no node left to visit, only silent ones still being waited for. Their
      // timeouts set the wall time anyway, so meanwhile nodes that answered are asked one more
      // bucket each over their open sessions (no handshake): a node that no asked bucket happened
      // to list may still be found, at no cost in wall time (none start once the waits are over).
      // At most one in ten answering nodes, so a census stays near one request per node.
      // Past that tenth, the tail goes on (wall time or not) while the sightings say nodes are
      // still unseen: Chao1 over how many replies listed each node (see unseenEstimate).
      const tail = strategy === 'census' && this.retryQueue.length === 0 && this.queueHead >= this.queue.length
      const unseen = tail && this.secondAsks >= Math.ceil(this.answered.length / 10) ? census.unseenEstimate() : 0
      while (
        tail &&
        this.secondAsksInFlight < 32 &&
        this.secondAsks < this.answered.length &&
        ((visits.size > this.secondAsksInFlight && this.secondAsks < Math.ceil(this.answered.length / 10)) || unseen >= 1)
      ) {
        const entry = host.entries.get(this.answered[this.secondAsks++]!)!
        this.secondAsksInFlight++
        const p = census.askAgain(entry).finally(() => {
          this.secondAsksInFlight--
          visits.delete(p)
          this.wake?.()
        })
        visits.add(p)
      }
      // Exhaustive: enumerations of nodes that answered their first contact, a pool of their own
      // of half the places, so first contacts always have room (enumerations are CPU-bound: more
      // of them at once only adds loop lag, which holds back new handshakes).
      while (this.enumQueue.length > 0 && this.enumVisits < Math.max(1, Math.floor(limits.concurrency / 2))) {
        const entry = host.entries.get(this.enumQueue.shift()!)!
        this.enumVisits++
        const p = enumerateBuckets(host, entry).finally(() => {
          this.enumVisits--
          visits.delete(p)
          this.wake?.()
        })
        visits.add(p)
      }
      // First contacts (a census's whole visit). Retries of silent nodes do not take the places of
      // nodes that answer.
      while ((this.retryQueue.length > 0 || this.queueHead < this.queue.length) && visits.size - this.enumVisits < limits.concurrency + host.silentInFlight) {
        const id = this.retryQueue.length > 0 ? this.retryQueue.shift()! : this.queue[this.queueHead++]!
        const entry = host.entries.get(id)!
        if (entry.status !== 'queued') continue
        entry.status = 'visiting'
        const p = (strategy === 'census' ? census.visit(entry) : exhaustiveFirstContact(host, entry)).finally(() => {
          visits.delete(p)
          this.wake?.()
        })
        visits.add(p)
      }
      if (this.retryQueue.length === 0 && this.queueHead >= this.queue.length && this.enumQueue.length === 0 && visits.size === 0) break
      await new Promise<void>((resolve) => {
        this.wake = resolve
        setTimeout(resolve, 50)
      })
      this.wake = undefined
    }
    if (host.aborted) await Promise.race([Promise.allSettled([...visits]), sleep(200)])
    else await Promise.allSettled([...visits])
  }
}
