/**
 * `history`: what the stored crawls say over time — size and Waku share, churn, uptime, agents,
 * capabilities and shards, the last discovery curve, and one peer's timeline.
 */
import type {CurvePoint} from '../discv5/analysis.js'
import {BadInputError} from '../errors.js'
import {HistoryStore, type StoredCrawl} from './store.js'

export interface HistoryFilter {
  /** ISO time or date: crawls started at or after it. */
  since?: string
  /** `waku`, `ethereum`, `custom` or a protocol id (`d5waku`, `discv5`). */
  network?: string
  /** A node id (hex) or libp2p peer id. */
  peer?: string
}

export interface HistoryCrawl extends StoredCrawl {
  durationMs: number | null
  /** Waku share among responsive nodes. */
  wakuShare: number
}

export interface PerCrawlCounts {
  crawlId: number
  startedAt: string
  counts: Record<string, number>
}

export interface PeerTimeline {
  nodeId: string
  peerId: string | null
  firstSeen: string
  lastSeen: string
  latestSeq: string
  latestEnr: string
  observations: Array<{crawlId: number; startedAt: string | null; status: string; responsive: boolean; seq: string; recordChanged: boolean; rttMs: number | null; sources: string[]; agent: string | null; dialClass: string | null}>
  sessions: Array<{network: string; startedAt: string; lastSeenAt: string; endedAt: string | null; crawls: number}>
  /** Answered crawls / finished crawls of its network since it first answered. */
  uptime: number | null
}

export interface HistoryReport {
  database: {url: string; backend: 'sqlite' | 'postgres'; schemaVersion: number}
  filters: {since?: string; network?: string}
  /** Oldest first. */
  crawls: HistoryCrawl[]
  /** Between each finished crawl and the previous finished crawl of the same network. */
  churn: Array<{crawlId: number; previousCrawlId: number; startedAt: string; joined: number; left: number}>
  uptime: {
    peers: number
    mean: number | null
    median: number | null
    /** Ten buckets of width 0.1; the last includes 1. */
    histogram: Array<{from: number; to: number; peers: number}>
    sessions: {open: number; closed: number; medianMs: number | null}
  }
  agents: PerCrawlCounts[]
  capabilities: PerCrawlCounts[]
  shards: PerCrawlCounts[]
  lastCrawl?: {id: number; startedAt: string; curve: CurvePoint[]}
  peer?: PeerTimeline
}

function parseSince(text: string): string {
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) {
    // Relative forms an operator types: 7d, 12h, 30m.
    const m = /^(\d+)\s*([dhm])$/.exec(text.trim())
    if (!m) throw new BadInputError('BAD_SINCE', `cannot read --since ${JSON.stringify(text)}`, {hint: 'an ISO date/time (2026-12-01, 2026-12-01T12:00Z) or a span like 7d, 12h, 30m'})
    const unit = {d: 86_400_000, h: 3_600_000, m: 60_000}[m[2] as 'd' | 'h' | 'm']
    return new Date(Date.now() - Number(m[1]) * unit).toISOString()
  }
  return new Date(ms).toISOString()
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const groupOf = (c: StoredCrawl) => `${c.network}/${c.protocolId}`

function perCrawl(crawls: readonly StoredCrawl[], rows: ReadonlyArray<{crawlId: number; value: string; count: number}>, split: boolean): PerCrawlCounts[] {
  const byCrawl = new Map(crawls.map((c) => [c.id, {crawlId: c.id, startedAt: c.startedAt, counts: {} as Record<string, number>}]))
  for (const r of rows) {
    const entry = byCrawl.get(r.crawlId)
    if (!entry) continue
    const keys = split ? r.value.split(',').filter(Boolean) : [r.value]
    for (const k of keys) entry.counts[k] = (entry.counts[k] ?? 0) + r.count
  }
  return [...byCrawl.values()]
}

export async function buildHistoryReport(store: HistoryStore, filter: HistoryFilter = {}): Promise<HistoryReport> {
  const since = filter.since === undefined ? undefined : parseSince(filter.since)
  const crawls = await store.crawls({since, network: filter.network})
  const ids = crawls.map((c) => c.id)
  const finished = crawls.filter((c) => !c.interrupted)

  const pairs: Array<{crawlId: number; previousId: number; startedAt: string}> = []
  const lastOfGroup = new Map<string, StoredCrawl>()
  const finishedPerGroup = new Map<string, number[]>()
  for (const c of finished) {
    const g = groupOf(c)
    const prev = lastOfGroup.get(g)
    if (prev) pairs.push({crawlId: c.id, previousId: prev.id, startedAt: c.startedAt})
    lastOfGroup.set(g, c)
    finishedPerGroup.set(g, [...(finishedPerGroup.get(g) ?? []), c.id])
  }
  const churnRows = await store.churn(pairs)
  const churn = churnRows.map((r, i) => ({crawlId: r.crawlId, previousCrawlId: pairs[i]!.previousId, startedAt: pairs[i]!.startedAt, joined: r.joined, left: r.left}))

  // Uptime per peer and network: answered / finished crawls since its first answer.
  const ratios: number[] = []
  for (const groupIds of finishedPerGroup.values()) {
    const position = new Map(groupIds.map((id, i) => [id, i]))
    for (const p of await store.answerCounts(groupIds)) {
      const since = groupIds.length - position.get(p.firstCrawlId)!
      ratios.push(Math.min(1, p.answered / since))
    }
  }
  ratios.sort((a, b) => a - b)
  const histogram = Array.from({length: 10}, (_, i) => ({from: i / 10, to: (i + 1) / 10, peers: 0}))
  for (const r of ratios) histogram[Math.min(9, Math.floor(r * 10))]!.peers++
  const sessions = await store.sessionStats(filter.network)
  const durations = [...sessions.durationsMs].sort((a, b) => a - b)

  const [agents, capabilities, shards] = await Promise.all([
    store.groupedCounts('agent', ids),
    store.groupedCounts('capabilities', ids),
    store.groupedCounts('shards', ids),
  ])

  const report: HistoryReport = {
    database: {url: store.description, backend: store.backend, schemaVersion: store.schemaVersion},
    filters: {},
    crawls: crawls.map((c) => ({
      ...c,
      durationMs: c.endedAt === null ? null : Date.parse(c.endedAt) - Date.parse(c.startedAt),
      wakuShare: c.responsive > 0 ? c.waku / c.responsive : 0,
    })),
    churn,
    uptime: {
      peers: ratios.length,
      mean: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : null,
      median: median(ratios),
      histogram,
      sessions: {open: sessions.open, closed: sessions.closed, medianMs: median(durations)},
    },
    agents: perCrawl(crawls, agents, false),
    capabilities: perCrawl(crawls, capabilities, true),
    shards: perCrawl(crawls, shards, true),
  }
  if (since !== undefined) report.filters.since = since
  if (filter.network !== undefined) report.filters.network = filter.network

  const last = finished.at(-1) ?? crawls.at(-1)
  if (last) {
    const curve = await store.crawlCurve(last.id)
    if (curve) report.lastCrawl = {id: last.id, startedAt: last.startedAt, curve}
  }

  if (filter.peer !== undefined) {
    const peer = await store.findPeer(filter.peer)
    if (!peer) throw new BadInputError('PEER_NOT_FOUND', `no peer ${filter.peer} in ${store.description}`, {hint: 'give a node id (64 hex) or a libp2p peer id seen by a stored crawl'})
    const all = new Map((await store.crawls()).map((c) => [c.id, c]))
    const observations = (await store.peerObservations(peer.id)).map((o) => ({...o, startedAt: all.get(o.crawlId)?.startedAt ?? null}))
    let uptime: number | null = null
    const firstAnswer = observations.find((o) => o.responsive)
    if (firstAnswer) {
      const group = all.get(firstAnswer.crawlId)
      const later = [...all.values()].filter((c) => !c.interrupted && group && groupOf(c) === groupOf(group) && c.id >= firstAnswer.crawlId)
      const laterIds = new Set(later.map((c) => c.id))
      const answered = observations.filter((o) => o.responsive && laterIds.has(o.crawlId)).length
      uptime = later.length ? Math.min(1, answered / later.length) : null
    }
    report.peer = {...peer, observations, sessions: await store.peerSessions(peer.id), uptime}
    delete (report.peer as {id?: number}).id
  }
  return report
}

/** Opens the database, builds the report and closes it again. */
export async function loadHistory(url: string, filter: HistoryFilter = {}): Promise<HistoryReport> {
  const store = await HistoryStore.open(url)
  try {
    return await buildHistoryReport(store, filter)
  } finally {
    await store.close()
  }
}
