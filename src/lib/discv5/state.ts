/**
 * The crawl's one state, folded from its events by a pure reducer: the live dashboard, the plain
 * status line and the final report all read it.
 */
import type {CrawlEvent, CrawlStats, CrawlStrategy, CrawlSummary} from './crawl.js'

export interface CrawlView {
  protocolId: string
  strategy: CrawlStrategy | ''
  stats: CrawlStats
  /** Responsive nodes by status reported so far. */
  reported: number
  responsiveReported: number
  wakuResponsive: number
  capabilities: Record<string, number>
  shards: Record<string, number>
  refusals: Record<string, number>
  /** Visits reported with their nodes: ok, failed by dial-error class, agents, finding codes. */
  visited: {ok: number; failed: Record<string, number>; agents: Record<string, number>; findings: Record<string, number>}
  done?: CrawlSummary
}

export function initialCrawlView(): CrawlView {
  return {
    protocolId: '',
    strategy: '',
    stats: {
      elapsedMs: 0,
      discovered: 0,
      responsive: 0,
      unresponsive: 0,
      refused: 0,
      queued: 0,
      inFlight: 0,
      requests: 0,
      timeouts: 0,
      handshakes: 0,
      wakuResponsive: 0,
      lookups: 0,
      requestsPerSecond: 0,
      wire: {packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, refusedSends: 0, decodeErrors: 0},
    },
    reported: 0,
    responsiveReported: 0,
    wakuResponsive: 0,
    capabilities: {},
    shards: {},
    refusals: {},
    visited: {ok: 0, failed: {}, agents: {}, findings: {}},
  }
}

function bump(record: Record<string, number>, key: string): Record<string, number> {
  return {...record, [key]: (record[key] ?? 0) + 1}
}

export function reduceCrawl(view: CrawlView, event: CrawlEvent): CrawlView {
  switch (event.type) {
    case 'start':
      return {...view, protocolId: event.protocolId, strategy: event.strategy}
    case 'progress':
      return {...view, stats: event.stats}
    case 'node': {
      const n = event.node
      const next = {...view, reported: view.reported + 1}
      if (n.status === 'refused' && n.refusal) next.refusals = {...view.refusals, [n.refusal]: (view.refusals[n.refusal] ?? 0) + 1}
      if (n.status !== 'responsive') return next
      if (n.visit) {
        const v = n.visit
        let findings = view.visited.findings
        for (const code of new Set(v.findings.map((f) => f.code))) findings = bump(findings, code)
        next.visited = {
          ok: view.visited.ok + (v.error ? 0 : 1),
          failed: v.error ? bump(view.visited.failed, v.error.class) : view.visited.failed,
          agents: v.agentVersion !== null ? bump(view.visited.agents, v.agentVersion) : view.visited.agents,
          findings,
        }
      }
      next.responsiveReported = view.responsiveReported + 1
      if (n.waku?.waku2) {
        next.wakuResponsive = view.wakuResponsive + 1
        const caps = {...view.capabilities}
        for (const c of n.waku.waku2.capabilities) caps[c] = (caps[c] ?? 0) + 1
        next.capabilities = caps
      }
      if (n.waku?.cluster !== undefined && n.waku.shards) {
        const shards = {...view.shards}
        for (const s of n.waku.shards) shards[`${n.waku.cluster}/${s}`] = (shards[`${n.waku.cluster}/${s}`] ?? 0) + 1
        next.shards = shards
      }
      return next
    }
    case 'done':
      return {...view, done: stripNodes(event.result)}
    default:
      return view
  }
}

/** The summary part of a result (drops the per-node list and the discovery log). */
export function stripNodes<T extends CrawlSummary>(result: T): CrawlSummary {
  const {nodes: _nodes, discoveryLog: _log, ...summary} = result as T & {nodes?: unknown; discoveryLog?: unknown}
  void _nodes
  void _log
  return summary
}
