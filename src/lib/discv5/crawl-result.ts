/**
 * Folding the engine's state into what a crawl reports: one node's line, the live stats of a
 * progress event, and the final result. Reads the engine, changes nothing.
 */
import {compareSources, type SourceResult} from '../sources/index.js'
import {summarizeVisits} from '../visit/index.js'
import {kademliaSizeEstimate, randomWalkEstimate, thinCurve, type CurvePoint} from './analysis.js'
import type {CrawlEntry} from './crawl-entry.js'
import type {RequestGate} from './crawl-requests.js'
import {round2, round4, roundEstimate, tallyNodes} from './crawl-report.js'
import type {CrawlSettings} from './crawl-settings.js'
import type {CrawledNode, CrawlOptions, CrawlResult, CrawlStats, CrawlSummary, NodeStatus} from './crawl-types.js'
import type {CrawlVisits} from './crawl-visits.js'
import type {StartedNode} from './node.js'
import {presetFinding} from './presets.js'
import {recordView, viewMatches, type RecordView} from './view.js'

/** The engine as the reports read it. */
export interface CrawlReadout {
  readonly options: CrawlOptions
  readonly settings: CrawlSettings
  readonly state: CrawlSummary['state']
  readonly entries: ReadonlyMap<string, CrawlEntry>
  /** node id → discovery source → the highest seq that source gave for it. */
  readonly sourceSeqs: ReadonlyMap<string, ReadonlyMap<string, bigint>>
  readonly gate: RequestGate
  /** First contacts and retries still waiting. */
  readonly waiting: number
  readonly visits?: CrawlVisits
  readonly node?: StartedNode
  readonly gathered: readonly SourceResult[]
  readonly bootnodeCount: number
  /** 0 until the node has started. */
  readonly startMs: number
  readonly responsiveCount: number
  readonly wakuResponsive: number
  readonly firstWaku?: {requests: number; ms: number}
  readonly curve: readonly CurvePoint[]
  readonly sizeSamples: number[][]
  readonly lookupCount: number
  readonly discoveryLog: NonNullable<CrawlResult['discoveryLog']>
  readonly answerLog: NonNullable<CrawlResult['answerLog']>
  readonly schedulerLog: NonNullable<CrawlResult['schedulerLog']>
  elapsed(): number
}

export function viewOf(entry: CrawlEntry): RecordView {
  entry.view ??= recordView(entry.enr)
  return entry.view
}

const NO_WIRE = {packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, refusedSends: 0, decodeErrors: 0}

/** One node's line (ndjson, CSV). */
export function reportNode(crawl: CrawlReadout, entry: CrawlEntry): CrawledNode {
  const now = crawl.settings.now
  const view = viewOf(entry)
  const status: NodeStatus =
    entry.status === 'responsive' || entry.status === 'unresponsive' || entry.status === 'refused' || entry.status === 'no-address' ? entry.status : 'unvisited'
  const node: CrawledNode = {
    ...view,
    status,
    responsive: status === 'responsive' ? true : status === 'unresponsive' ? false : null,
    seenBy: entry.seenBy,
    firstSeen: new Date(Date.now() - (now() - entry.firstSeen)).toISOString(),
    lastSeen: new Date(Date.now() - (now() - entry.lastSeen)).toISOString(),
    requests: entry.requests,
    timeouts: entry.timeouts,
    matches: viewMatches(view, crawl.options.filter),
  }
  if (entry.refusal !== undefined) node.refusal = entry.refusal
  if (entry.rttMs !== undefined) node.rttMs = Math.round(entry.rttMs)
  if (entry.neighbours) node.neighbours = [...entry.neighbours]
  if (entry.visit) node.visit = entry.visit
  if (entry.families) node.family = entry.families[0]
  const seqs = crawl.sourceSeqs.get(entry.nodeId)
  if (seqs) {
    node.sources = [...seqs.keys()].sort()
    node.sourceSeqs = Object.fromEntries([...seqs].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toString()]))
  }
  if (crawl.options.preset && view.waku?.waku2) {
    const finding = presetFinding(view, crawl.options.preset)
    if (finding) node.outsidePreset = finding
  }
  return node
}

/** The live stats of a progress event. */
export function crawlStats(crawl: CrawlReadout): CrawlStats {
  let refused = 0
  let unresponsive = 0
  for (const e of crawl.entries.values()) {
    if (e.status === 'refused' || e.status === 'no-address') refused++
    else if (e.status === 'unresponsive') unresponsive++
  }
  const gate = crawl.gate
  const elapsedMs = crawl.startMs === 0 ? 0 : crawl.elapsed()
  return {
    elapsedMs: Math.round(elapsedMs),
    discovered: crawl.entries.size,
    responsive: crawl.responsiveCount,
    unresponsive,
    refused,
    queued: crawl.waiting,
    inFlight: gate.inFlight,
    requests: gate.requests,
    timeouts: gate.timeouts,
    handshakes: gate.handshakes,
    wakuResponsive: crawl.wakuResponsive,
    lookups: crawl.lookupCount,
    requestsPerSecond: elapsedMs > 0 ? Math.round((gate.requests / elapsedMs) * 1000) : 0,
    wire: {...(crawl.node?.transport.counters ?? NO_WIRE)},
    ...(crawl.visits ? {visits: crawl.visits.counts()} : {}),
  }
}

/** The result of a crawl whose node lines are `nodes` (every entry, in table order). */
export function crawlResult(crawl: CrawlReadout, nodes: CrawledNode[]): CrawlResult {
  const {strategy, protocolId, network} = crawl.settings
  const gate = crawl.gate
  const {counts, refusals, capabilities, clusters, shards} = tallyNodes(nodes)
  const size = kademliaSizeEstimate(crawl.sizeSamples)
  const n = strategy === 'random-walk' && size.estimate !== null ? size.estimate : counts.responsive
  const p = counts.responsive > 0 ? counts.waku / counts.responsive : 0
  const result: CrawlResult = {
    state: crawl.state,
    network,
    protocolId,
    strategy,
    startedAt: new Date(Date.now() - crawl.elapsed()).toISOString(),
    durationMs: Math.round(crawl.elapsed()),
    bootnodes: crawl.bootnodeCount,
    counts,
    refusals,
    requests: {
      sent: gate.requests,
      succeeded: gate.succeeded,
      timeouts: gate.timeouts,
      failed: gate.failed,
      perResponsiveNode: counts.responsive > 0 ? round2(gate.requests / counts.responsive) : 0,
      timeoutsByPhase: {...gate.timeoutsByPhase},
    },
    handshakes: gate.handshakes,
    wire: {...crawl.node!.transport.counters},
    capabilities,
    clusters,
    shards,
    analysis: {
      networkSize: {enumerated: counts.responsive, kademliaEstimate: size.estimate === null ? null : Math.round(size.estimate), kademliaSamples: size.samples},
      wakuShare: round4(p),
      randomWalk: roundEstimate(randomWalkEstimate({p, n: Math.max(1, n)})),
      observed: {requestsToFirstWaku: crawl.firstWaku?.requests ?? null, msToFirstWaku: crawl.firstWaku ? Math.round(crawl.firstWaku.ms) : null},
    },
    curve: thinCurve(crawl.curve),
    nodes,
  }
  if (crawl.options.preset) {
    const p = crawl.options.preset
    const checked = nodes.filter((x) => x.status === 'responsive' && x.waku?.waku2)
    const outside: NonNullable<CrawlResult['preset']>['outside'] = {}
    for (const x of checked) if (x.outsidePreset) outside[x.outsidePreset.code] = (outside[x.outsidePreset.code] ?? 0) + 1
    result.preset = {name: p.name, cluster: p.cluster, numShards: p.numShards ?? null, checked: checked.length, outside}
  }
  if (crawl.node!.transport.families.length > 1) {
    const responsive = nodes.filter((x) => x.status === 'responsive')
    result.families = {ipv4: responsive.filter((x) => x.family === 4).length, ipv6: responsive.filter((x) => x.family === 6).length}
  }
  if (crawl.options.gather) result.sources = compareSources(nodes, crawl.gathered, crawl.visits !== undefined, crawl.visits?.outside ?? new Map())
  if (crawl.visits) Object.assign(result, summarizeVisits(nodes.flatMap((x) => (x.visit ? [x.visit] : []))))
  if (strategy === 'random-walk') {
    const lookups = crawl.lookupCount
    result.lookups = {count: lookups, requestsPerLookup: lookups > 0 ? round2(gate.lookupRequests / lookups) : 0}
  }
  if (crawl.options.recordDiscoveryLog) {
    result.discoveryLog = crawl.discoveryLog
    result.timeoutLog = gate.timeoutLog
    result.answerLog = crawl.answerLog
    result.schedulerLog = crawl.schedulerLog
  }
  return result
}
