/**
 * `crawl --monitor`: crawl again and again, keep per-node first/last seen and uptime, and serve
 * Prometheus metrics (prom-client) while it runs.
 */
import {createServer, type Server} from 'node:http'

import {Counter, Gauge, Registry} from 'prom-client'

import {BadInputError, UnreachableError} from '../errors.js'
import {CrawlRecorder, type RecordOutcome} from '../history/recorder.js'
import type {HistoryStore} from '../history/store.js'
import {crawl, type CrawlEvent, type CrawlOptions, type CrawlSummary, type CrawledNode} from './crawl.js'
import {stripNodes} from './state.js'
import {pause} from '../pause.js'

export interface MonitorOptions extends CrawlOptions {
  /** Milliseconds between the start of one round and the next (≥ 1000). */
  intervalMs: number
  /** Stop after this many rounds (default: until the signal aborts). */
  rounds?: number
  /** Serve /metrics on this port (0 = any free port; undefined = no server). */
  metricsPort?: number
  /** Address for the metrics server (default 127.0.0.1). */
  metricsHost?: string
  /** Store every round as one crawl in this history database. */
  history?: HistoryStore
  /** Stored with each round's crawl row. */
  historySettings?: Record<string, unknown>
}

export interface MonitorDatabase {
  url: string
  crawlIds: number[]
  observations: number
  rows: number
  error?: RecordOutcome['error']
}

export interface MonitoredNode {
  nodeId: string
  enr: string
  seq: string
  firstSeen: string
  lastSeen: string
  /** Last round in which it answered. */
  lastResponsive?: string
  roundsSeen: number
  roundsResponsive: number
  /** roundsResponsive / rounds since it was first seen. */
  uptime: number
  waku: boolean
  matches: boolean
}

export interface MonitorRound {
  round: number
  summary: CrawlSummary
}

export interface MonitorSummary {
  rounds: number
  state: 'complete' | 'cancelled'
  metricsUrl?: string
  nodes: number
  responsiveLastRound: number
  meanUptime: number
  lastRound?: CrawlSummary
  perNode: MonitoredNode[]
  database?: MonitorDatabase
}

export type MonitorEvent =
  | {type: 'metrics'; url: string}
  | {type: 'round-start'; round: number}
  | {type: 'crawl'; round: number; event: CrawlEvent}
  | {type: 'round'; round: number; summary: CrawlSummary; nodes: MonitoredNode[]}
  | {type: 'recorded'; round: number; outcome: RecordOutcome}
  | {type: 'done'; summary: MonitorSummary}

function createMetrics(registry: Registry) {
  return {
    rounds: new Counter({name: 'waku_disc_crawl_rounds_total', help: 'Completed crawl rounds', registers: [registry]}),
    requests: new Counter({name: 'waku_disc_crawl_requests_total', help: 'FINDNODE requests sent', registers: [registry]}),
    timeouts: new Counter({name: 'waku_disc_crawl_timeouts_total', help: 'FINDNODE requests that timed out', registers: [registry]}),
    nodes: new Gauge({name: 'waku_disc_crawl_nodes', help: 'Nodes in the last round by status', labelNames: ['status'], registers: [registry]}),
    waku: new Gauge({name: 'waku_disc_crawl_waku_nodes', help: 'Responsive Waku nodes in the last round', registers: [registry]}),
    known: new Gauge({name: 'waku_disc_monitor_known_nodes', help: 'Distinct nodes seen since the monitor started', registers: [registry]}),
    uptime: new Gauge({name: 'waku_disc_monitor_mean_uptime_ratio', help: 'Mean per-node uptime (responsive rounds / rounds since first seen)', registers: [registry]}),
    duration: new Gauge({name: 'waku_disc_crawl_duration_seconds', help: 'Duration of the last round', registers: [registry]}),
    caps: new Gauge({name: 'waku_disc_crawl_capability_nodes', help: 'Responsive Waku nodes per capability', labelNames: ['capability'], registers: [registry]}),
    shards: new Gauge({name: 'waku_disc_crawl_shard_nodes', help: 'Responsive Waku nodes per cluster/shard', labelNames: ['cluster', 'shard'], registers: [registry]}),
    wakuShare: new Gauge({name: 'waku_disc_crawl_waku_share', help: 'Share of responsive nodes that are Waku nodes', registers: [registry]}),
    dbRows: new Counter({name: 'waku_disc_db_rows_written_total', help: 'Observation rows committed to the history database', registers: [registry]}),
    dbErrors: new Counter({name: 'waku_disc_db_write_errors_total', help: 'Failed writes to the history database', registers: [registry]}),
  }
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  }).catch((error: NodeJS.ErrnoException) => {
    throw new UnreachableError('METRICS_BIND_FAILED', `cannot serve metrics on ${host}:${port}: ${error.code ?? error.message}`)
  })
  const addr = server.address()
  const p = typeof addr === 'object' && addr ? addr.port : port
  return `http://${host.includes(':') ? `[${host}]` : host}:${p}/metrics`
}


export async function* monitorCrawls(options: MonitorOptions): AsyncGenerator<MonitorEvent, void, undefined> {
  if (!Number.isFinite(options.intervalMs) || options.intervalMs < 1000) {
    throw new BadInputError('BAD_MONITOR_INTERVAL', `monitor interval must be at least 1 s, got ${options.intervalMs} ms`)
  }
  if (options.strategy === 'random-walk' && options.durationMs === undefined && options.maxLookups === undefined) {
    throw new BadInputError('UNBOUNDED_WALK', 'monitoring with random-walk needs --duration or --max-lookups per round')
  }
  const registry = new Registry()
  const metrics = createMetrics(registry)
  let server: Server | undefined
  let metricsUrl: string | undefined
  if (options.metricsPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('not found\n')
        return
      }
      registry.metrics().then(
        (text) => res.writeHead(200, {'content-type': registry.contentType}).end(text),
        () => res.writeHead(500).end(),
      )
    })
    metricsUrl = await listen(server, options.metricsPort, options.metricsHost ?? '127.0.0.1')
    yield {type: 'metrics', url: metricsUrl}
  }
  const perNode = new Map<string, MonitoredNode & {firstRound: number}>()
  let round = 0
  let lastRound: CrawlSummary | undefined
  const signal = options.signal
  const database: MonitorDatabase | undefined = options.history ? {url: options.history.description, crawlIds: [], observations: 0, rows: 0} : undefined
  try {
    while (!signal?.aborted && (options.rounds === undefined || round < options.rounds)) {
      round++
      const started = Date.now()
      yield {type: 'round-start', round}
      const nodes: CrawledNode[] = []
      let summary: CrawlSummary | undefined
      const recorder = options.history
        ? new CrawlRecorder(options.history, {
            settings: {...options.historySettings, monitorRound: round, intervalMs: options.intervalMs},
            onRows: (rows) => metrics.dbRows.inc(rows),
            onError: () => metrics.dbErrors.inc(),
          })
        : undefined
      try {
        for await (const event of crawl(options)) {
          recorder?.handle(event)
          if (event.type === 'node') nodes.push(event.node)
          if (event.type === 'done') summary = stripNodes(event.result)
          yield {type: 'crawl', round, event}
        }
      } finally {
        if (recorder && database) {
          const outcome = await recorder.settle()
          if (outcome.crawlId !== undefined) database.crawlIds.push(outcome.crawlId)
          database.observations += outcome.observations
          database.rows += outcome.rows
          if (outcome.error) database.error = outcome.error
          yield {type: 'recorded', round, outcome}
        }
      }
      if (!summary) break
      lastRound = summary
      const now = new Date().toISOString()
      for (const n of nodes) {
        if (n.status === 'refused' || n.status === 'no-address') continue
        let m = perNode.get(n.nodeId)
        if (!m) {
          m = {nodeId: n.nodeId, enr: n.enr, seq: n.seq, firstSeen: now, lastSeen: now, roundsSeen: 0, roundsResponsive: 0, uptime: 0, waku: n.waku?.waku2 !== undefined, matches: n.matches, firstRound: round}
          perNode.set(n.nodeId, m)
        }
        m.lastSeen = now
        m.roundsSeen++
        if (BigInt(n.seq) > BigInt(m.seq)) {
          m.seq = n.seq
          m.enr = n.enr
        }
        if (n.status === 'responsive') {
          m.roundsResponsive++
          m.lastResponsive = now
        }
      }
      for (const m of perNode.values()) m.uptime = Math.round((m.roundsResponsive / (round - m.firstRound + 1)) * 1000) / 1000
      if (summary.state !== 'cancelled') {
        metrics.rounds.inc()
        metrics.requests.inc(summary.requests.sent)
        metrics.timeouts.inc(summary.requests.timeouts)
        metrics.nodes.set({status: 'responsive'}, summary.counts.responsive)
        metrics.nodes.set({status: 'unresponsive'}, summary.counts.unresponsive)
        metrics.nodes.set({status: 'refused'}, summary.counts.refused)
        metrics.nodes.set({status: 'discovered'}, summary.counts.discovered)
        metrics.waku.set(summary.counts.waku)
        metrics.wakuShare.set(summary.analysis.wakuShare)
        metrics.duration.set(summary.durationMs / 1000)
        metrics.known.set(perNode.size)
        const list = [...perNode.values()]
        metrics.uptime.set(list.length > 0 ? list.reduce((a, m) => a + m.uptime, 0) / list.length : 0)
        metrics.caps.reset()
        for (const [cap, count] of Object.entries(summary.capabilities)) metrics.caps.set({capability: cap}, count ?? 0)
        metrics.shards.reset()
        for (const [key, count] of Object.entries(summary.shards)) {
          const [cluster, shard] = key.split('/')
          metrics.shards.set({cluster: cluster!, shard: shard!}, count)
        }
      }
      yield {type: 'round', round, summary, nodes: [...perNode.values()].map(({firstRound: _f, ...m}) => m)}
      if (summary.state === 'cancelled') break
      // A database that failed stays failed for this run: stop after the round, outputs written.
      if (database?.error) break
      if (options.rounds !== undefined && round >= options.rounds) break
      await pause(Math.max(0, options.intervalMs - (Date.now() - started)), signal)
    }
  } finally {
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()))
  }
  const list = [...perNode.values()].map(({firstRound: _f, ...m}) => m)
  yield {
    type: 'done',
    summary: {
      rounds: round,
      state: signal?.aborted ? 'cancelled' : 'complete',
      metricsUrl,
      nodes: list.length,
      responsiveLastRound: lastRound?.counts.responsive ?? 0,
      meanUptime: list.length > 0 ? Math.round((list.reduce((a, m) => a + m.uptime, 0) / list.length) * 1000) / 1000 : 0,
      lastRound,
      perNode: list,
      ...(database ? {database} : {}),
    },
  }
}
