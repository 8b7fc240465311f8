/**
 * The crawl engine: runs one crawl from its bootnodes to its result. It owns the node table (what
 * is known of each node, who may be contacted) and the run's lifetime (the node, the sources,
 * probes, abort), and hands the rest to its parts: crawl-requests.ts (when a request may start,
 * and its books), crawl-scheduler.ts (which census/exhaustive visit starts next),
 * strategies/ (what one visit asks), crawl-visits.ts (libp2p visits) and crawl-result.ts (the
 * lines, stats and result).
 */
import {randomBytes} from 'node:crypto'

import {ENR} from '@chainsafe/enr'

import {BadInputError} from '../errors.js'
import type {DestinationPolicy} from '../net/index.js'
import {gatherSources, type SourceResult} from '../sources/index.js'
import {makeTimeoutsLagTolerant} from './adapter/index.js'
import type {CurvePoint} from './analysis.js'
import type {CrawlEntry, StrategyHost} from './crawl-entry.js'
import {RequestGate, type RequestGateHost} from './crawl-requests.js'
import {crawlResult, crawlStats, reportNode, viewOf, type CrawlReadout} from './crawl-result.js'
import {VisitScheduler, type SchedulerHost} from './crawl-scheduler.js'
import {crawlEndpoints, crawlSettings, parseBootnode, type CrawlSettings} from './crawl-settings.js'
import type {CrawledNode, CrawlEvent, CrawlOptions, CrawlResult, CrawlSummary} from './crawl-types.js'
import {CrawlVisits} from './crawl-visits.js'
import {startNode, type StartedNode} from './node.js'
import {HandshakePacer} from './pacer.js'
import {CensusStrategy} from './strategies/census.js'
import {RandomWalk} from './strategies/random-walk.js'
import {isWaku} from './view.js'

export class CrawlEngine implements StrategyHost, SchedulerHost, RequestGateHost, CrawlReadout {
  readonly settings: CrawlSettings
  readonly pacer: HandshakePacer
  readonly entries = new Map<string, CrawlEntry>()
  readonly gate: RequestGate = new RequestGate(this)
  readonly census = new CensusStrategy(this)
  private readonly scheduler = new VisitScheduler(this)
  node?: StartedNode
  visits?: CrawlVisits
  private policy!: DestinationPolicy
  startMs = 0
  gathered: SourceResult[] = []
  bootnodeCount = 0
  /** node id → discovery source → the highest seq that source gave for it. */
  readonly sourceSeqs = new Map<string, Map<string, bigint>>()
  responsiveCount = 0
  wakuResponsive = 0
  firstWaku?: {requests: number; ms: number}
  readonly curve: CurvePoint[] = []
  private lastCurveAt = -1
  sizeSamples: number[][] = []
  private walk?: RandomWalk
  readonly discoveryLog: NonNullable<CrawlResult['discoveryLog']> = []
  readonly answerLog: NonNullable<CrawlResult['answerLog']> = []
  readonly schedulerLog: NonNullable<CrawlResult['schedulerLog']> = []
  private readonly abortController = new AbortController()
  private traversing = false
  state: CrawlSummary['state'] = 'complete'
  selfId = ''

  constructor(
    readonly options: CrawlOptions,
    private readonly emit: (event: CrawlEvent) => void,
  ) {
    this.settings = crawlSettings(options)
    const {limits, now} = this.settings
    this.pacer = new HandshakePacer({
      maxNewSessions: limits.maxNewSessions,
      rampMs: limits.rampMs,
      challengeTimeoutMs: limits.challengeTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      now,
    })
  }

  abort(): void {
    this.abortController.abort()
    this.scheduler.wakeUp()
  }

  get aborted(): boolean {
    return this.abortController.signal.aborted
  }

  elapsed(): number {
    return this.settings.now() - this.startMs
  }

  get recordLogs(): boolean {
    return this.options.recordDiscoveryLog === true
  }

  discv5() {
    return this.node!.discv5
  }

  get silentInFlight(): number {
    return this.gate.silentInFlight
  }

  get waiting(): number {
    return this.scheduler.waiting
  }

  get lookupCount(): number {
    return this.walk?.lookupCount ?? 0
  }

  async run(): Promise<void> {
    const {strategy, protocolId, limits} = this.settings
    const bootnodes = this.options.bootnodes.map((b, i) => parseBootnode(b, i))
    if (this.options.gather) {
      // Before the crawl: a DNS tree given alone is also the bootstrap (as geth and nwaku use one).
      this.gathered = await gatherSources({...this.options.gather, signal: this.options.signal})
      this.emit({type: 'sources', sources: this.gathered.map((r) => ({name: r.name, records: r.records.length, peers: r.peers.length, ms: r.ms, errors: r.errors.length}))})
      for (const r of this.gathered) {
        for (const p of r.peers) {
          const seqs = this.sourceSeqs.get(p.nodeId) ?? new Map<string, bigint>()
          seqs.set(r.name, BigInt(p.seqNo))
          this.sourceSeqs.set(p.nodeId, seqs)
        }
      }
      if (bootnodes.length === 0) {
        const tree = this.gathered.find((r) => r.name === 'dns')
        for (const [i, text] of (tree?.records ?? []).entries()) bootnodes.push(parseBootnode(text, i))
      }
    }
    this.bootnodeCount = bootnodes.length
    if (bootnodes.length === 0) {
      throw new BadInputError('NO_BOOTNODES', 'no bootstrap nodes to start crawling from', {hint: 'give --bootnode, --enrtree or --testnet'})
    }
    const {policy, bindHost, bindHost6} = crawlEndpoints(this.options, bootnodes)
    this.policy = policy
    const signal = this.options.signal
    const onAbort = () => {
      // A time budget (--timeout) ends the crawl like --duration does; anything else is a cancel.
      const reason = signal?.reason as {name?: string} | undefined
      if (this.state === 'complete') this.state = reason?.name === 'TimeoutError' ? 'time-limit' : 'cancelled'
      this.abort()
    }
    if (signal?.aborted) onAbort()
    signal?.addEventListener('abort', onAbort, {once: true})
    this.node = await startNode({
      privateKey: this.options.privateKey ?? new Uint8Array(randomBytes(32)),
      protocolId,
      bindHost,
      ...(bindHost6 !== undefined ? {bindHost6} : {}),
      bindPort: this.options.bindPort ?? 0,
      advertise: false,
      staticTable: true,
      policy,
      onSend: this.options.onSend,
      config: {
        requestTimeout: limits.requestTimeoutMs,
        sessionCacheCapacity: 50_000,
        lookupTimeout: 10_000,
        allowUnverifiedSessions: true,
      },
    })
    this.selfId = this.node.nodeId
    if (this.options.visit) {
      this.visits = new CrawlVisits({
        visit: this.options.visit,
        policy,
        signal: this.abortController.signal,
        now: this.settings.now,
        traversing: () => this.traversing,
        lagMs: () => this.pacer.lagMs,
      })
    }
    makeTimeoutsLagTolerant(this.node.discv5, () => this.pacer.lagMs, {
      challengeTimeoutMs: (nodeId) => this.gate.challengeTimeout(nodeId),
      onChallenge: (_nodeId, rtt) => this.pacer.onChallengeRtt(rtt),
      onTimeout: (nodeId, phase) => this.gate.onTimeoutPhase(nodeId, phase),
    })
    this.startMs = this.settings.now()
    this.emit({type: 'start', protocolId, strategy, bootnodes: bootnodes.length, bindAddress: `${bindHost}:${this.node.port}${bindHost6 !== undefined ? ` [${bindHost6}]:${this.node.transport.boundPort6}` : ''}`, nodeId: this.selfId})
    // Partial answers of requests that later time out still name real nodes.
    ;(this.node.discv5 as unknown as NodeJS.EventEmitter).on('discovered', (enr: ENR) => this.learn(enr, undefined, 'discv5'))
    const progress = setInterval(() => this.emitProgress(), limits.progressIntervalMs)
    const lagProbe = this.pacer.startLagProbe()
    const schedulerProbe = this.recordLogs
      ? setInterval(() => {
          this.schedulerLog.push({
            ms: Math.round(this.elapsed()),
            inFlight: this.gate.inFlight,
            handshakes: this.gate.newSessionsInFlight,
            cap: this.pacer.cap(this.elapsed()),
            lagMs: Math.round(this.pacer.lagMs),
            queued: this.scheduler.waiting,
            challengeWaitMs: Math.round(this.pacer.challengeWaitMs()),
          })
        }, 100)
      : undefined
    try {
      for (const b of bootnodes) this.learn(b, undefined)
      for (const source of this.gathered) {
        for (const text of source.records) {
          try {
            this.learn(ENR.decodeTxt(text), undefined, source.name)
          } catch {
            // The gatherer only passes records it parsed; a record discv5's decoder refuses is skipped.
          }
        }
      }
      this.traversing = true
      try {
        if (strategy === 'random-walk') await this.randomWalk()
        else await this.scheduler.run()
      } finally {
        this.traversing = false
      }
      if (this.visits && !this.aborted) this.visits.visitOutside(this.gathered, this.entries)
      // Visits outlive the discv5 traffic; a cancelled crawl's visits end at once (signal).
      await this.visits?.settle()
    } finally {
      await this.visits?.stop()
      clearInterval(progress)
      clearInterval(lagProbe)
      if (schedulerProbe) clearInterval(schedulerProbe)
      signal?.removeEventListener('abort', onAbort)
      await this.node.stop().catch(() => {})
    }
    this.sampleCurve(true)
    this.emitProgress()
    const result = this.finish()
    this.emit({type: 'done', result})
  }

  // ---------------------------------------------------------------- node table

  learn(enr: ENR, from: string | undefined, source?: string): void {
    const id = enr.nodeId
    if (id === this.selfId) return
    const t = this.settings.now()
    const existing = this.entries.get(id)
    if (source !== undefined) {
      const seqs = this.sourceSeqs.get(id) ?? new Map<string, bigint>()
      const held = seqs.get(source)
      if (held === undefined || enr.seq > held) seqs.set(source, enr.seq)
      this.sourceSeqs.set(id, seqs)
    }
    if (existing) {
      existing.lastSeen = t
      if (from !== undefined) existing.seenBy++
      if (enr.seq > existing.enr.seq) {
        existing.enr = enr
        existing.view = undefined
        // A record with a new address gets a second chance.
        if (existing.status === 'refused' || existing.status === 'no-address') {
          existing.status = 'known'
          this.admit(existing)
        }
      }
      return
    }
    const entry: CrawlEntry = {
      nodeId: id,
      enr,
      status: 'known',
      firstSeen: t,
      lastSeen: t,
      seenBy: from === undefined ? 0 : 1,
      requests: 0,
      timeouts: 0,
      hasSession: false,
      failedVisits: 0,
      emitted: false,
      nextRequestAt: 0,
    }
    this.entries.set(id, entry)
    this.options.onDiscover?.(id)
    if (this.recordLogs) this.discoveryLog.push({nodeId: id, ms: this.startMs === 0 ? 0 : t - this.startMs, requests: this.gate.requests})
    this.admit(entry)
    this.sampleCurve(false)
  }

  /** Decides whether a node may be contacted; queues it (census/exhaustive) or keeps it known. */
  private admit(entry: CrawlEntry): void {
    // Every family both we and the record speak, IPv4 first; a timed-out first contact retries on the next.
    const families = this.node!.transport.families
    const candidates: Array<{family: 4 | 6; ip: string; udp: number}> = []
    if (families.includes(4) && entry.enr.ip !== undefined && entry.enr.udp !== undefined) candidates.push({family: 4, ip: entry.enr.ip, udp: entry.enr.udp})
    if (families.includes(6) && entry.enr.ip6 !== undefined && entry.enr.udp6 !== undefined) candidates.push({family: 6, ip: entry.enr.ip6, udp: entry.enr.udp6})
    if (candidates.length === 0) {
      entry.status = 'no-address'
      this.finalize(entry)
      return
    }
    const decisions = candidates.map((c) => ({...c, decision: this.policy.check(c.ip, c.udp)}))
    const allowed = decisions.filter((d) => d.decision.allowed)
    if (allowed.length === 0) {
      entry.status = 'refused'
      entry.refusal = decisions[0]!.decision.reason
      this.finalize(entry)
      return
    }
    entry.families = allowed.map((a) => a.family)
    if (this.settings.strategy !== 'random-walk') this.scheduler.enqueue(entry)
  }

  /** Emits a node once its state is final (a responsive node after its visit, when visits are on). */
  finalize(entry: CrawlEntry): void {
    if (entry.emitted) return
    entry.emitted = true
    if (this.visits && entry.status === 'responsive' && !this.aborted) {
      // The node's line waits for its visit, so every line is final when it is written.
      this.visits.visitNode(entry, () => this.emit({type: 'node', node: reportNode(this, entry)}))
      return
    }
    this.emit({type: 'node', node: reportNode(this, entry)})
  }

  onAnswer(entry: CrawlEntry, rttMs: number): void {
    if (entry.status === 'responsive') return
    entry.status = 'responsive'
    entry.rttMs ??= rttMs
    this.responsiveCount++
    this.scheduler.onAnswered(entry)
    if (this.recordLogs) this.answerLog.push({nodeId: entry.nodeId, ms: Math.round(this.elapsed()), attempt: entry.failedVisits + 1})
    if (isWaku(viewOf(entry))) {
      this.wakuResponsive++
      this.firstWaku ??= {requests: this.gate.requests, ms: this.elapsed()}
    }
    this.sampleCurve(false)
  }

  // ---------------------------------------------------------------- what strategies ask

  findNode(entry: CrawlEntry, distances: number[], retries?: number): Promise<ENR[] | undefined> {
    return this.gate.findNode(entry, distances, retries)
  }

  absorb(entry: CrawlEntry, enrs: ENR[]): number {
    for (const enr of enrs) {
      this.learn(enr, entry.nodeId, 'discv5')
      if (entry.neighbours && enr.nodeId !== entry.nodeId) entry.neighbours.add(enr.nodeId)
    }
    return enrs.length
  }

  requeue(entry: CrawlEntry): boolean {
    return this.scheduler.requeue(entry)
  }

  get queued(): number {
    return this.scheduler.queued
  }

  enqueueEnumeration(entry: CrawlEntry): void {
    this.scheduler.enqueueEnumeration(entry)
  }

  private async randomWalk(): Promise<void> {
    if (this.options.durationMs === undefined && this.options.maxLookups === undefined && !this.options.signal) {
      throw new BadInputError('UNBOUNDED_WALK', 'random-walk needs a duration, a lookup limit or an abort signal')
    }
    this.walk = new RandomWalk(this, {durationMs: this.options.durationMs, maxLookups: this.options.maxLookups, walkers: this.settings.limits.walkers})
    const outcome = await this.walk.run()
    this.sizeSamples = outcome.sizeSamples
    if (outcome.timeLimit) this.state = 'time-limit'
  }

  // ---------------------------------------------------------------- reporting

  private sampleCurve(force: boolean): void {
    if (this.startMs === 0) return
    const ms = this.elapsed()
    if (!force && this.curve.length > 0 && ms - this.lastCurveAt < 20) return
    this.lastCurveAt = ms
    this.curve.push({ms: Math.round(ms), requests: this.gate.requests, discovered: this.entries.size, responsive: this.responsiveCount})
  }

  private emitProgress(): void {
    if (this.startMs === 0) return
    this.emit({type: 'progress', stats: crawlStats(this)})
  }

  private finish(): CrawlResult {
    const nodes: CrawledNode[] = []
    for (const entry of this.entries.values()) {
      if (!entry.emitted) this.finalize(entry)
      nodes.push(reportNode(this, entry))
    }
    return crawlResult(this, nodes)
  }
}
