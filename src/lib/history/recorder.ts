/**
 * Feeds one crawl's events into a HistoryStore: nodes are buffered and written in batches, each
 * batch one transaction, so an interrupted crawl keeps every batch already committed. A store
 * that fails mid-crawl stops taking writes (the crawl goes on, its own outputs are still
 * written) and the failure is reported by `settle()`.
 */
import type {CrawlEvent, CrawlResult} from '../discv5/crawl.js'
import {WakuDiscError} from '../errors.js'
import {databaseError} from './driver.js'
import type {CrawlEndState, HistoryStore, ObservedNode} from './store.js'

export interface RecorderOptions {
  /** Nodes per write (default 250). */
  batchSize?: number
  /** Write whatever is buffered at least this often (default 1000 ms). */
  flushIntervalMs?: number
  /** Stored with the crawl row (flags that shaped the crawl). */
  settings?: Record<string, unknown>
  /** Called after each committed write with its row count. */
  onRows?: (rows: number) => void
  onError?: (error: WakuDiscError) => void
}

export interface RecordOutcome {
  crawlId?: number
  database: string
  /** Distinct nodes whose observation is committed. */
  observations: number
  /** Rows written (a node re-written when its status changed counts again). */
  rows: number
  transactions: number
  state?: CrawlEndState
  error?: {code: string; message: string; exitCode: number}
}

export class CrawlRecorder {
  private crawlId: number | undefined
  private buffer: ObservedNode[] = []
  private chain: Promise<void> = Promise.resolve()
  private failure: WakuDiscError | undefined
  private timer: NodeJS.Timeout | undefined
  private observations = 0
  private transactions = 0
  private endState: CrawlEndState | undefined
  private readonly batchSize: number
  /** Node id → [responsive, waku], for the totals of a crawl that never reached 'done'. */
  private readonly tally = new Map<string, [boolean, boolean]>()
  /** Node id → status|seq as queued for writing: the final list re-writes only what changed. */
  private readonly queued = new Map<string, string>()
  private readonly committed = new Set<string>()
  private rows = 0

  constructor(
    private readonly store: HistoryStore,
    private readonly options: RecorderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 250
  }

  get error(): WakuDiscError | undefined {
    return this.failure
  }

  /** Takes every event of one crawl, in order. */
  handle(event: CrawlEvent): void {
    switch (event.type) {
      case 'start': {
        const startedAt = new Date().toISOString()
        this.enqueue(async () => {
          this.crawlId = await this.store.beginCrawl({
            network: this.options.settings?.network === undefined ? 'custom' : String(this.options.settings.network),
            protocolId: event.protocolId,
            strategy: event.strategy,
            startedAt,
            settings: {...this.options.settings, bootnodes: event.bootnodes, bindAddress: event.bindAddress, crawlerNodeId: event.nodeId},
          })
          this.transactions++
        })
        this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? 1000)
        this.timer.unref()
        break
      }
      case 'node':
        this.add(event.node)
        break
      case 'done':
        this.finish(event.result)
        break
      default:
        break
    }
  }

  /** Adds a node seen outside the event stream (another source, a visit result). */
  add(node: ObservedNode): void {
    if (this.failure) return
    this.tally.set(node.nodeId, [node.responsive === true, node.responsive === true && node.waku !== undefined])
    this.queued.set(node.nodeId, `${node.status}|${node.seq}`)
    this.buffer.push(node)
    if (this.buffer.length >= this.batchSize) this.flush()
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return
      try {
        await step()
      } catch (error) {
        this.failure = databaseError(this.store.description, error, 'write failed')
        this.buffer = []
        this.options.onError?.(this.failure)
      }
    })
  }

  private flush(): void {
    if (this.buffer.length === 0) return
    const batch = this.buffer
    this.buffer = []
    this.enqueue(async () => {
      if (this.crawlId === undefined) return
      const {rows, transactions} = await this.store.writeObservations(this.crawlId, batch, new Date().toISOString())
      for (const n of batch) this.committed.add(n.nodeId)
      this.observations = this.committed.size
      this.rows += rows
      this.transactions += transactions
      this.options.onRows?.(rows)
    })
  }

  private finish(result: CrawlResult): void {
    if (this.timer) clearInterval(this.timer)
    // The final list holds every node, streamed or not (queued, never contacted): store those not
    // written yet and those whose status or record changed since.
    for (const node of result.nodes) if (this.queued.get(node.nodeId) !== `${node.status}|${node.seq}`) this.add(node)
    this.flush()
    const state: CrawlEndState = result.state
    this.endState = state
    this.enqueue(async () => {
      if (this.crawlId === undefined) return
      const {nodes: _nodes, curve, ...totals} = result
      await this.store.finishCrawl(this.crawlId, {
        endedAt: new Date().toISOString(),
        state,
        discovered: result.counts.discovered,
        responsive: result.counts.responsive,
        waku: result.counts.waku,
        totals: totals as unknown as Record<string, unknown>,
        curve,
      })
      this.transactions++
    })
  }

  private totals(): {discovered: number; responsive: number; waku: number} {
    let responsive = 0
    let waku = 0
    for (const [r, w] of this.tally.values()) {
      if (r) responsive++
      if (w) waku++
    }
    return {discovered: this.tally.size, responsive, waku}
  }

  /**
   * Waits for every queued write. A crawl that never reached 'done' (the process is stopping) is
   * marked interrupted with what was written.
   */
  async settle(): Promise<RecordOutcome> {
    if (this.timer) clearInterval(this.timer)
    if (this.endState === undefined) {
      this.flush()
      this.endState = 'interrupted'
      this.enqueue(async () => {
        if (this.crawlId === undefined) return
        await this.store.finishCrawl(this.crawlId, {endedAt: new Date().toISOString(), state: 'interrupted', ...this.totals()})
      })
    }
    await this.chain
    if (this.failure && this.crawlId !== undefined) {
      // Best effort: the store may be back (a brief outage) and can say the crawl failed.
      await this.store
        .finishCrawl(this.crawlId, {endedAt: new Date().toISOString(), state: 'failed', ...this.totals()})
        .catch(() => undefined)
    }
    const outcome: RecordOutcome = {database: this.store.description, observations: this.observations, rows: this.rows, transactions: this.transactions, state: this.endState}
    if (this.crawlId !== undefined) outcome.crawlId = this.crawlId
    if (this.failure) outcome.error = {code: this.failure.code, message: this.failure.message, exitCode: this.failure.exitCode}
    return outcome
  }
}
