/**
 * The discv5 crawl engine, on @chainsafe/discv5 11.0.0's `sendFindNode`: the node table, the
 * scheduler (queues, retries, first contacts ahead of enumerations), requests, visits, sources
 * and the result. Beside it: crawl-types.ts (public shapes), crawl-entry.ts (per-node state and
 * what strategies may ask), pacer.ts (handshake pacing), strategies/ (census, exhaustive, random
 * walk), crawl-report.ts (the summary's arithmetic).
 *
 * What it does about the library's measured behaviour:
 *  - socket receive buffer raised to 4 MiB (the default 20 KiB drops replies under load);
 *  - a verified-record cache (every ENR in every NODES reply is signature-checked);
 *  - new handshakes capped and ramped (each costs ~4 ms of CPU; a burst times out live nodes);
 *  - a 2.5 s request timeout (1 s marks live nodes dead) once a node has answered the handshake
 *    challenge, but a first contact with no WHOAREYOU at all gives up after an adaptive ~1 s
 *    (answering a random packet costs the remote no crypto); one retry, with the full timeout, so
 *    a dead node costs ~3.5 s in two non-blocking attempts and a live one is never judged on the
 *    short wait alone;
 *  - one request per node in flight, per-node pacing;
 *  - an own ENR without IP/port (responders then accept the session as verified);
 *  - a session cache sized for the whole network, and the library's rate limiter left off
 *    (it bans our own responders in 11.0.0);
 *  - FINDNODE distance 0 for liveness and freshness (a newer seq replaces the record);
 *  - a FINDNODE reply of 15 records means a full bucket (the client keeps 5 packets of 3).
 *
 * Every destination passes the admission policy (src/lib/net) before a packet is sent, and the
 * transport re-checks each datagram.
 */
import {randomBytes} from 'node:crypto'

import {ENR} from '@chainsafe/enr'

import {BadInputError} from '../errors.js'
import {DestinationPolicy, trustedRangesFor} from '../net/index.js'
import {kademliaSizeEstimate, randomWalkEstimate, thinCurve, type CurvePoint} from './analysis.js'
import {isRequestFailure, makeTimeoutsLagTolerant, sendFindNodeVia, type TimeoutPhase} from './adapter/index.js'
import {startNode, type StartedNode} from './node.js'
import {resolveProtocolId, type DiscoveryNetwork} from './protocol.js'
import {isWaku, recordView, viewMatches, type RecordView} from './view.js'
import {compareSources, gatherSources, type SourceResult} from '../sources/index.js'
import {summarizeVisits, Visitor, type PeerVisit} from '../visit/index.js'
import {
  CRAWL_STRATEGIES,
  type CrawledNode,
  type CrawlEvent,
  type CrawlOptions,
  type CrawlResult,
  type CrawlStats,
  type CrawlStrategy,
  type CrawlSummary,
  type NodeStatus,
} from './crawl-types.js'
import type {CrawlEntry, StrategyHost} from './crawl-entry.js'
import {HandshakePacer} from './pacer.js'
import {CensusStrategy} from './strategies/census.js'
import {enumerateBuckets, exhaustiveFirstContact} from './strategies/exhaustive.js'
import {RandomWalk} from './strategies/random-walk.js'
import {presetFinding} from './presets.js'
import {round2, round4, roundEstimate, tallyNodes} from './crawl-report.js'

export * from './crawl-types.js'
export {assertReachedSomething, tallyNodes} from './crawl-report.js'

type Entry = CrawlEntry


class AsyncQueue<T> {
  private readonly items: T[] = []
  private waiter?: () => void
  private closed = false
  push(item: T): void {
    this.items.push(item)
    this.waiter?.()
  }
  close(): void {
    this.closed = true
    this.waiter?.()
  }
  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!
      if (this.closed) return
      await new Promise<void>((resolve) => (this.waiter = resolve))
      this.waiter = undefined
    }
  }
}

/** Event-loop lag (ms) above which new libp2p visits wait while the discv5 traversal runs. */
const VISIT_HOLD_LAG_MS = 40
/** While the traversal runs, at most one visit starts per this many ms (its handshake is the CPU cost). */
const VISIT_START_GAP_MS = 40

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function parseBootnode(text: string, index: number): ENR {
  try {
    return ENR.decodeTxt(text.trim().startsWith('enr:') ? text.trim() : `enr:${text.trim()}`)
  } catch (error) {
    throw new BadInputError('BAD_BOOTNODE', `bootnode ${index + 1}: not a valid ENR (${(error as Error).message})`, {
      hint: 'give an enr:… record, a file of them, or an enrtree:// URL',
    })
  }
}

function isLoopback(ip: string | undefined): boolean {
  return ip !== undefined && (ip.startsWith('127.') || ip === '::1')
}

/** Runs a crawl as a stream of events; the last one is `done` with the full result. */
export async function* crawl(options: CrawlOptions): AsyncGenerator<CrawlEvent, void, undefined> {
  const queue = new AsyncQueue<CrawlEvent>()
  const engine = new CrawlEngine(options, (e) => queue.push(e))
  const run = engine.run().then(
    () => queue.close(),
    (error: unknown) => {
      queue.close()
      throw error
    },
  )
  run.catch(() => {})
  try {
    for await (const event of queue.drain()) yield event
  } finally {
    engine.abort()
  }
  await run
}

/** Runs a crawl to the end and returns its result (events go to `onEvent`). */
export async function runCrawl(options: CrawlOptions, onEvent?: (event: CrawlEvent) => void): Promise<CrawlResult> {
  let result: CrawlResult | undefined
  for await (const event of crawl(options)) {
    onEvent?.(event)
    if (event.type === 'done') result = event.result
  }
  return result!
}

class CrawlEngine implements StrategyHost {
  private readonly opts: Required<
    Pick<CrawlOptions, 'concurrency' | 'maxNewSessions' | 'rampMs' | 'requestTimeoutMs' | 'retries' | 'challengeTimeoutMs' | 'perNodeRate' | 'walkers' | 'progressIntervalMs'>
  >
  private readonly strategy: CrawlStrategy
  private readonly protocolId: string
  private readonly network: DiscoveryNetwork | 'custom'
  private readonly now: () => number
  readonly entries = new Map<string, Entry>()
  private readonly queue: string[] = []
  private queueHead = 0
  /** Retries of silent first contacts: started before new nodes (they need no handshake slot). */
  private readonly retryQueue: string[] = []
  private node?: StartedNode
  private policy!: DestinationPolicy
  private startMs = 0
  private inFlight = 0
  private newSessionsInFlight = 0
  /** Retries of silent nodes in flight: not counted in inFlight. */
  private silentInFlight = 0
  private requests = 0
  private succeeded = 0
  private timeouts = 0
  private failed = 0
  private handshakes = 0
  private readonly timeoutsByPhase: Record<TimeoutPhase, number> = {challenge: 0, handshake: 0, session: 0}
  private readonly timeoutLog: Array<{nodeId: string; ms: number; phase: TimeoutPhase; attempt: number}> = []
  private readonly answerLog: Array<{nodeId: string; ms: number; attempt: number}> = []
  private readonly schedulerLog: NonNullable<CrawlResult['schedulerLog']> = []
  private readonly pacer: HandshakePacer
  private gathered: SourceResult[] = []
  private bootnodeCount = 0
  /** Source peers outside the crawl (node id → their visit, once done). */
  private readonly outsideVisits = new Map<string, PeerVisit | undefined>()
  private traversing = false
  private lastVisitStart = Number.NEGATIVE_INFINITY
  /** node id → discovery source → the highest seq that source gave for it. */
  private readonly sourceSeqs = new Map<string, Map<string, bigint>>()
  private lookupRequests = 0
  /** Census: responsive nodes in answer order, and how many of them were asked a second bucket. */
  private readonly answered: string[] = []
  private secondAsks = 0
  private secondAsksInFlight = 0
  /**
   * Exhaustive: nodes that answered their first contact, waiting for their buckets to be
   * enumerated. First contacts run ahead of enumerations (their own pool), so silent nodes are
   * found out early and their timeouts overlap the enumerations instead of trailing them.
   */
  private readonly enumQueue: string[] = []
  private enumVisits = 0
  private responsiveCount = 0
  private wakuResponsive = 0
  private firstWaku?: {requests: number; ms: number}
  private readonly curve: CurvePoint[] = []
  private sizeSamples: number[][] = []
  private readonly censusStrategy = new CensusStrategy(this)
  private walk?: RandomWalk
  private readonly discoveryLog: Array<{nodeId: string; ms: number; requests: number}> = []
  private readonly abortController = new AbortController()
  private wake?: () => void
  private state: CrawlSummary['state'] = 'complete'
  selfId = ''
  private lastCurveAt = -1
  private visitor?: Visitor
  private readonly pendingVisits = new Set<Promise<void>>()
  private visitsDone = 0
  private visitsFailed = 0

  constructor(
    private readonly options: CrawlOptions,
    private readonly emit: (event: CrawlEvent) => void,
  ) {
    this.strategy = options.strategy ?? 'exhaustive'
    if (!CRAWL_STRATEGIES.includes(this.strategy)) {
      throw new BadInputError('BAD_STRATEGY', `unknown strategy ${JSON.stringify(this.strategy)}`, {hint: `use one of ${CRAWL_STRATEGIES.join(', ')}`})
    }
    this.protocolId = resolveProtocolId(options.network ?? 'waku', options.protocolId)
    this.network = options.protocolId !== undefined && options.protocolId !== resolveProtocolId(options.network ?? 'waku') ? 'custom' : (options.network ?? 'waku')
    this.now = options.now ?? (() => performance.now())
    this.opts = {
      concurrency: options.concurrency ?? 256,
      maxNewSessions: options.maxNewSessions ?? 48,
      rampMs: options.rampMs ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 2500,
      retries: options.retries ?? 1,
      challengeTimeoutMs: options.challengeTimeoutMs ?? 1000,
      perNodeRate: options.perNodeRate ?? 10,
      walkers: options.walkers ?? 1,
      progressIntervalMs: options.progressIntervalMs ?? 250,
    }
    this.pacer = new HandshakePacer({
      maxNewSessions: this.opts.maxNewSessions,
      rampMs: this.opts.rampMs,
      challengeTimeoutMs: this.opts.challengeTimeoutMs,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      now: this.now,
    })
    for (const [name, value, min] of [
      ['concurrency', this.opts.concurrency, 1],
      ['maxNewSessions', this.opts.maxNewSessions, 1],
      ['requestTimeoutMs', this.opts.requestTimeoutMs, 100],
      ['retries', this.opts.retries, 0],
      ['challengeTimeoutMs', this.opts.challengeTimeoutMs, 0],
      ['perNodeRate', this.opts.perNodeRate, 0],
      ['walkers', this.opts.walkers, 1],
    ] as const) {
      if (!Number.isFinite(value) || value < min) throw new BadInputError('BAD_CRAWL_OPTION', `${name} must be at least ${min}, got ${value}`)
    }
  }

  abort(): void {
    this.abortController.abort()
    this.wake?.()
  }

  get aborted(): boolean {
    return this.abortController.signal.aborted
  }

  elapsed(): number {
    return this.now() - this.startMs
  }

  async run(): Promise<void> {
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
    const bootIps = bootnodes.flatMap((b) => [b.ip, b.udp6 !== undefined ? b.ip6 : undefined]).filter((ip): ip is string => ip !== undefined)
    this.policy = new DestinationPolicy({
      allowPrivate: this.options.allowPrivate,
      allowLowPorts: this.options.allowLowPorts,
      trustedRanges: [...trustedRangesFor(bootIps), ...(this.options.trustedRanges ?? [])],
    })
    const loopbackOnly = bootIps.length > 0 && bootIps.every(isLoopback)
    const bindHost = this.options.bindHost ?? (loopbackOnly ? '127.0.0.1' : '0.0.0.0')
    // Dual stack when asked, or when a bootnode can be reached over IPv6 (its neighbours then too).
    const v6Boot = bootnodes.some((b) => b.ip6 !== undefined && b.udp6 !== undefined)
    const bindHost6 =
      this.options.bindHost6 === null || bindHost.includes(':') ? undefined : (this.options.bindHost6 ?? (v6Boot ? (loopbackOnly ? '::1' : '::') : undefined))
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
      protocolId: this.protocolId,
      bindHost,
      ...(bindHost6 !== undefined ? {bindHost6} : {}),
      bindPort: this.options.bindPort ?? 0,
      advertise: false,
      staticTable: true,
      policy: this.policy,
      onSend: this.options.onSend,
      config: {
        requestTimeout: this.opts.requestTimeoutMs,
        sessionCacheCapacity: 50_000,
        lookupTimeout: 10_000,
        allowUnverifiedSessions: true,
      },
    })
    this.selfId = this.node.nodeId
    if (this.options.visit) {
      this.visitor = new Visitor({
        ...this.options.visit,
        policy: this.policy,
        signal: this.abortController.signal,
        // Discovery first: while the traversal runs, a few visits at a time and none while our loop
        // lags (a burst of handshakes starves discv5 replies before the lag probe can see it).
        holdWhile: () => {
          if (!this.traversing) return false
          const now = this.now()
          if (this.pacer.lagMs > VISIT_HOLD_LAG_MS || now - this.lastVisitStart < VISIT_START_GAP_MS) return true
          this.lastVisitStart = now
          return false
        },
      })
    }
    makeTimeoutsLagTolerant(this.node.discv5, () => this.pacer.lagMs, {
      challengeTimeoutMs: (nodeId) => this.challengeTimeout(nodeId),
      onChallenge: (_nodeId, rtt) => this.pacer.onChallengeRtt(rtt),
      onTimeout: (nodeId, phase) => this.onTimeoutPhase(nodeId, phase),
    })
    this.startMs = this.now()
    this.emit({type: 'start', protocolId: this.protocolId, strategy: this.strategy, bootnodes: bootnodes.length, bindAddress: `${bindHost}:${this.node.port}${bindHost6 !== undefined ? ` [${bindHost6}]:${this.node.transport.boundPort6}` : ''}`, nodeId: this.selfId})
    // Partial answers of requests that later time out still name real nodes.
    ;(this.node.discv5 as unknown as NodeJS.EventEmitter).on('discovered', (enr: ENR) => this.learn(enr, undefined, 'discv5'))
    const progress = setInterval(() => this.emitProgress(), this.opts.progressIntervalMs)
    const lagProbe = this.pacer.startLagProbe()
    const schedulerProbe = this.options.recordDiscoveryLog
      ? setInterval(() => {
          this.schedulerLog.push({
            ms: Math.round(this.elapsed()),
            inFlight: this.inFlight,
            handshakes: this.newSessionsInFlight,
            cap: this.pacer.cap(this.elapsed()),
            lagMs: Math.round(this.pacer.lagMs),
            queued: this.queue.length - this.queueHead + this.retryQueue.length,
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
        if (this.strategy === 'random-walk') await this.randomWalk()
        else await this.visitAll()
      } finally {
        this.traversing = false
      }
      // Peers a source named without a record the crawl could use: visited by their addresses.
      if (this.visitor && !this.aborted) {
        for (const r of this.gathered) {
          for (const peer of r.peers) {
            if (this.entries.has(peer.nodeId) || this.outsideVisits.has(peer.nodeId)) continue
            this.outsideVisits.set(peer.nodeId, undefined)
            const p = this.visitor
              .visitPeer(peer.peerId, peer.addresses)
              .then((visit) => {
                if (visit && !this.aborted) this.outsideVisits.set(peer.nodeId, visit)
              }, () => undefined)
              .finally(() => this.pendingVisits.delete(p))
            this.pendingVisits.add(p)
          }
        }
      }
      // Visits outlive the discv5 traffic; a cancelled crawl's visits end at once (signal).
      while (this.pendingVisits.size > 0) await Promise.allSettled([...this.pendingVisits])
    } finally {
      await this.visitor?.stop()
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
    const t = this.now()
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
    const entry: Entry = {
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
    if (this.options.recordDiscoveryLog) this.discoveryLog.push({nodeId: id, ms: this.startMs === 0 ? 0 : t - this.startMs, requests: this.requests})
    this.admit(entry)
    this.sampleCurve(false)
  }

  /** Decides whether a node may be contacted; queues it (census/exhaustive) or keeps it known. */
  private admit(entry: Entry): void {
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
    if (this.strategy !== 'random-walk') {
      entry.status = 'queued'
      this.queue.push(entry.nodeId)
      this.wake?.()
    }
  }

  private viewOf(entry: Entry): RecordView {
    entry.view ??= recordView(entry.enr)
    return entry.view
  }

  private report(entry: Entry): CrawledNode {
    const view = this.viewOf(entry)
    const status: NodeStatus =
      entry.status === 'responsive' || entry.status === 'unresponsive' || entry.status === 'refused' || entry.status === 'no-address' ? entry.status : 'unvisited'
    const node: CrawledNode = {
      ...view,
      status,
      responsive: status === 'responsive' ? true : status === 'unresponsive' ? false : null,
      seenBy: entry.seenBy,
      firstSeen: new Date(Date.now() - (this.now() - entry.firstSeen)).toISOString(),
      lastSeen: new Date(Date.now() - (this.now() - entry.lastSeen)).toISOString(),
      requests: entry.requests,
      timeouts: entry.timeouts,
      matches: viewMatches(view, this.options.filter),
    }
    if (entry.refusal !== undefined) node.refusal = entry.refusal
    if (entry.rttMs !== undefined) node.rttMs = Math.round(entry.rttMs)
    if (entry.neighbours) node.neighbours = [...entry.neighbours]
    if (entry.visit) node.visit = entry.visit
    if (entry.families) node.family = entry.families[0]
    const seqs = this.sourceSeqs.get(entry.nodeId)
    if (seqs) {
      node.sources = [...seqs.keys()].sort()
      node.sourceSeqs = Object.fromEntries([...seqs].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toString()]))
    }
    if (this.options.preset && view.waku?.waku2) {
      const finding = presetFinding(view, this.options.preset)
      if (finding) node.outsidePreset = finding
    }
    return node
  }

  /** Emits a node once its state is final. */
  finalize(entry: Entry): void {
    if (entry.emitted) return
    entry.emitted = true
    if (this.visitor && entry.status === 'responsive' && !this.aborted) {
      // The node's line waits for its visit, so every line is final when it is written.
      const p = this.visitor
        .visit(entry.enr.encodeTxt())
        .then(
          (visit) => {
            if (!visit || this.aborted) return
            entry.visit = visit
            this.visitsDone++
            if (visit.error) this.visitsFailed++
          },
          () => undefined,
        )
        .finally(() => {
          this.pendingVisits.delete(p)
          this.emit({type: 'node', node: this.report(entry)})
        })
      this.pendingVisits.add(p)
      return
    }
    this.emit({type: 'node', node: this.report(entry)})
  }

  private markResponsive(entry: Entry, rttMs: number): void {
    if (entry.status === 'responsive') return
    entry.status = 'responsive'
    entry.rttMs ??= rttMs
    this.responsiveCount++
    this.answered.push(entry.nodeId)
    if (this.options.recordDiscoveryLog) this.answerLog.push({nodeId: entry.nodeId, ms: Math.round(this.elapsed()), attempt: entry.failedVisits + 1})
    if (isWaku(this.viewOf(entry))) {
      this.wakuResponsive++
      this.firstWaku ??= {requests: this.requests, ms: this.elapsed()}
    }
    this.sampleCurve(false)
  }

  // ---------------------------------------------------------------- requests

  private challengeTimeout(nodeId: string): number | undefined {
    const entry = this.entries.get(nodeId)
    return this.pacer.challengeTimeout(entry !== undefined && this.isLastAttempt(entry))
  }

  /** A visit's first contact is its node's last chance when no retry may follow it. */
  private isLastAttempt(entry: Entry): boolean {
    return this.strategy === 'random-walk' || entry.failedVisits >= this.opts.retries
  }

  private onTimeoutPhase(nodeId: string, phase: TimeoutPhase): void {
    this.timeoutsByPhase[phase]++
    if (this.options.recordDiscoveryLog) {
      const entry = this.entries.get(nodeId)
      this.timeoutLog.push({nodeId, ms: Math.round(this.elapsed()), phase, attempt: (entry?.failedVisits ?? 0) + 1})
    }
  }

  /**
   * Whether a request needs a handshake slot: a first contact does, except a retry of a node that
   * was silent before (almost always dead, so almost never a handshake's CPU; a live one that
   * lost its first answer costs one handshake above the cap).
   */
  private needsHandshakeSlot(entry: Entry): boolean {
    return !entry.hasSession && !(entry.failedVisits > 0 && entry.status !== 'responsive')
  }

  /** Waits until another request may start to this node, honouring global and per-node limits. */
  private async acquire(entry: Entry): Promise<boolean> {
    for (;;) {
      if (this.aborted) return false
      const needsHandshake = this.needsHandshakeSlot(entry)
      const silentRetry = !entry.hasSession && !needsHandshake
      const ok =
        silentRetry ||
        (this.inFlight < this.opts.concurrency && (!needsHandshake || (this.newSessionsInFlight < this.pacer.cap(this.elapsed()) && this.pacer.lagAllowsHandshake(this.newSessionsInFlight))))
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

  private releaseWaiters: Array<() => void> = []

  private release(): void {
    const waiters = this.releaseWaiters
    this.releaseWaiters = []
    for (const w of waiters) w()
  }

  /** One FINDNODE with retries; resolves to the records, or undefined after the last timeout. */
  async findNode(entry: Entry, distances: number[], retries = this.opts.retries): Promise<ENR[] | undefined> {
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
        }, this.pacer.slotHoldMs())
      }
      const started = this.now()
      entry.requests++
      this.requests++
      if (this.strategy === 'random-walk') this.lookupRequests++
      entry.nextRequestAt = started + (this.opts.perNodeRate > 0 ? 1000 / this.opts.perNodeRate : 0)
      try {
        const enrs = await sendFindNodeVia(this.node!.discv5, entry.enr, distances, entry.families?.[0])
        this.succeeded++
        if (handshake) this.pacer.onHandshakeRtt(this.now() - started)
        entry.hasSession = true
        this.markResponsive(entry, this.now() - started)
        return enrs
      } catch (error) {
        if (this.aborted) return undefined
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

  absorb(entry: Entry, enrs: ENR[]): number {
    for (const enr of enrs) {
      this.learn(enr, entry.nodeId, 'discv5')
      if (entry.neighbours && enr.nodeId !== entry.nodeId) entry.neighbours.add(enr.nodeId)
    }
    return enrs.length
  }

  // ---------------------------------------------------------------- scheduler (census / exhaustive)

  private async visitAll(): Promise<void> {
    const visits = new Set<Promise<void>>()
    for (;;) {
      if (this.aborted) break
      // The census's tail: no node left to visit, only silent ones still being waited for. Their
      // timeouts set the wall time anyway, so meanwhile nodes that answered are asked one more
      // bucket each over their open sessions (no handshake): a node that no asked bucket happened
      // to list may still be found, at no cost in wall time (none start once the waits are over).
      // At most one in ten answering nodes, so a census stays near one request per node.
      // Past that tenth, the tail goes on (wall time or not) while the sightings say nodes are
      // still unseen: Chao1 over how many replies listed each node (see unseenEstimate).
      const tail = this.strategy === 'census' && this.retryQueue.length === 0 && this.queueHead >= this.queue.length
      const unseen = tail && this.secondAsks >= Math.ceil(this.answered.length / 10) ? this.censusStrategy.unseenEstimate() : 0
      while (
        tail &&
        this.secondAsksInFlight < 32 &&
        this.secondAsks < this.answered.length &&
        ((visits.size > this.secondAsksInFlight && this.secondAsks < Math.ceil(this.answered.length / 10)) || unseen >= 1)
      ) {
        const entry = this.entries.get(this.answered[this.secondAsks++]!)!
        this.secondAsksInFlight++
        const p = this.censusStrategy.askAgain(entry).finally(() => {
          this.secondAsksInFlight--
          visits.delete(p)
          this.wake?.()
        })
        visits.add(p)
      }
      // Exhaustive: enumerations of nodes that answered their first contact, a pool of their own
      // of half the places, so first contacts always have room (enumerations are CPU-bound: more
      // of them at once only adds loop lag, which holds back new handshakes).
      while (this.enumQueue.length > 0 && this.enumVisits < Math.max(1, Math.floor(this.opts.concurrency / 2))) {
        const entry = this.entries.get(this.enumQueue.shift()!)!
        this.enumVisits++
        const p = enumerateBuckets(this, entry).finally(() => {
          this.enumVisits--
          visits.delete(p)
          this.wake?.()
        })
        visits.add(p)
      }
      // First contacts (a census's whole visit). Retries of silent nodes do not take the places of
      // nodes that answer.
      while ((this.retryQueue.length > 0 || this.queueHead < this.queue.length) && visits.size - this.enumVisits < this.opts.concurrency + this.silentInFlight) {
        const id = this.retryQueue.length > 0 ? this.retryQueue.shift()! : this.queue[this.queueHead++]!
        const entry = this.entries.get(id)!
        if (entry.status !== 'queued') continue
        entry.status = 'visiting'
        const p = (this.strategy === 'census' ? this.censusStrategy.visit(entry) : exhaustiveFirstContact(this, entry)).finally(() => {
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
    if (this.aborted) await Promise.race([Promise.allSettled([...visits]), sleep(200)])
    else await Promise.allSettled([...visits])
  }

  /**
   * A first contact that timed out goes to the back of the queue instead of being retried at
   * once: under load the retry then meets a quieter remote, and dead nodes do not delay others.
   */
  requeue(entry: Entry): boolean {
    // No retry beyond `retries`: the last attempt waited the full request timeout on a loop that
    // reads pending replies before it times a request out (makeTimeoutsLagTolerant), so a node
    // silent through it is dead; more attempts only lengthen the crawl's tail.
    if (this.aborted || entry.failedVisits >= this.opts.retries) return false
    entry.failedVisits++
    // Dual-stack records: the retry goes over the other family.
    if (entry.families && entry.families.length > 1) entry.families.push(entry.families.shift()!)
    entry.status = 'queued'
    this.retryQueue.push(entry.nodeId)
    this.wake?.()
    return true
  }

  /** First contacts still waiting (StrategyHost). */
  get queued(): number {
    return this.queue.length - this.queueHead
  }

  enqueueEnumeration(entry: Entry): void {
    this.enumQueue.push(entry.nodeId)
    this.wake?.()
  }

  private async randomWalk(): Promise<void> {
    if (this.options.durationMs === undefined && this.options.maxLookups === undefined && !this.options.signal) {
      throw new BadInputError('UNBOUNDED_WALK', 'random-walk needs a duration, a lookup limit or an abort signal')
    }
    this.walk = new RandomWalk(this, {durationMs: this.options.durationMs, maxLookups: this.options.maxLookups, walkers: this.opts.walkers})
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
    this.curve.push({ms: Math.round(ms), requests: this.requests, discovered: this.entries.size, responsive: this.responsiveCount})
  }

  private stats(): CrawlStats {
    let refused = 0
    let unresponsive = 0
    for (const e of this.entries.values()) {
      if (e.status === 'refused' || e.status === 'no-address') refused++
      else if (e.status === 'unresponsive') unresponsive++
    }
    const elapsedMs = this.startMs === 0 ? 0 : this.elapsed()
    return {
      elapsedMs: Math.round(elapsedMs),
      discovered: this.entries.size,
      responsive: this.responsiveCount,
      unresponsive,
      refused,
      queued: this.queue.length - this.queueHead + this.retryQueue.length,
      inFlight: this.inFlight,
      requests: this.requests,
      timeouts: this.timeouts,
      handshakes: this.handshakes,
      wakuResponsive: this.wakuResponsive,
      lookups: this.walk?.lookupCount ?? 0,
      requestsPerSecond: elapsedMs > 0 ? Math.round((this.requests / elapsedMs) * 1000) : 0,
      wire: {...(this.node?.transport.counters ?? {packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, refusedSends: 0, decodeErrors: 0})},
      ...(this.visitor ? {visits: {done: this.visitsDone, failed: this.visitsFailed, pending: this.pendingVisits.size}} : {}),
    }
  }

  private emitProgress(): void {
    if (this.startMs === 0) return
    this.emit({type: 'progress', stats: this.stats()})
  }

  private finish(): CrawlResult {
    const nodes: CrawledNode[] = []
    for (const entry of this.entries.values()) {
      if (!entry.emitted) this.finalize(entry)
      nodes.push(this.report(entry))
    }
    const {counts, refusals, capabilities, clusters, shards} = tallyNodes(nodes)
    const size = kademliaSizeEstimate(this.sizeSamples)
    const n = this.strategy === 'random-walk' && size.estimate !== null ? size.estimate : counts.responsive
    const p = counts.responsive > 0 ? counts.waku / counts.responsive : 0
    const result: CrawlResult = {
      state: this.state,
      network: this.network,
      protocolId: this.protocolId,
      strategy: this.strategy,
      startedAt: new Date(Date.now() - this.elapsed()).toISOString(),
      durationMs: Math.round(this.elapsed()),
      bootnodes: this.bootnodeCount,
      counts,
      refusals,
      requests: {
        sent: this.requests,
        succeeded: this.succeeded,
        timeouts: this.timeouts,
        failed: this.failed,
        perResponsiveNode: counts.responsive > 0 ? round2(this.requests / counts.responsive) : 0,
        timeoutsByPhase: {...this.timeoutsByPhase},
      },
      handshakes: this.handshakes,
      wire: {...this.node!.transport.counters},
      capabilities,
      clusters,
      shards,
      analysis: {
        networkSize: {enumerated: counts.responsive, kademliaEstimate: size.estimate === null ? null : Math.round(size.estimate), kademliaSamples: size.samples},
        wakuShare: round4(p),
        randomWalk: roundEstimate(randomWalkEstimate({p, n: Math.max(1, n)})),
        observed: {requestsToFirstWaku: this.firstWaku?.requests ?? null, msToFirstWaku: this.firstWaku ? Math.round(this.firstWaku.ms) : null},
      },
      curve: thinCurve(this.curve),
      nodes,
    }
    if (this.options.preset) {
      const p = this.options.preset
      const checked = nodes.filter((x) => x.status === 'responsive' && x.waku?.waku2)
      const outside: NonNullable<CrawlResult['preset']>['outside'] = {}
      for (const x of checked) if (x.outsidePreset) outside[x.outsidePreset.code] = (outside[x.outsidePreset.code] ?? 0) + 1
      result.preset = {name: p.name, cluster: p.cluster, numShards: p.numShards ?? null, checked: checked.length, outside}
    }
    if (this.node!.transport.families.length > 1) {
      const responsive = nodes.filter((x) => x.status === 'responsive')
      result.families = {ipv4: responsive.filter((x) => x.family === 4).length, ipv6: responsive.filter((x) => x.family === 6).length}
    }
    if (this.options.gather) result.sources = compareSources(nodes, this.gathered, this.visitor !== undefined, this.outsideVisits)
    if (this.visitor) Object.assign(result, summarizeVisits(nodes.flatMap((x) => (x.visit ? [x.visit] : []))))
    if (this.strategy === 'random-walk') {
      const lookups = this.walk?.lookupCount ?? 0
      result.lookups = {count: lookups, requestsPerLookup: lookups > 0 ? round2(this.lookupRequests / lookups) : 0}
    }
    if (this.options.recordDiscoveryLog) {
      result.discoveryLog = this.discoveryLog
      result.timeoutLog = this.timeoutLog
      result.answerLog = this.answerLog
      result.schedulerLog = this.schedulerLog
    }
    return result
  }
}
