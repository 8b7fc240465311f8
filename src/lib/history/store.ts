/**
 * Crawl history on SQLite or PostgreSQL: crawls, peers, per-crawl observations and uptime
 * sessions. Every write method is one transaction; what has returned is committed.
 */
import type {PeerVisit} from '../visit/visitor.js'
import type {CurvePoint} from '../discv5/analysis.js'
import type {CrawledNode, CrawlSummary} from '../discv5/crawl.js'
import {parseEnr} from '../enr/parse.js'
import {openDriver, type OpenDriverOptions, type SqlDriver, type SqlValue} from './driver.js'
import {migrate} from './schema.js'
import {parseDatabaseUrl} from './url.js'

/** What the libp2p visit found (filled by `crawl --visit`). */
export type StoredVisit = PeerVisit

export interface ObservedNode extends CrawledNode {
  /** Which discovery sources knew the node (default ['discv5']). */
  sources?: string[]
  visit?: StoredVisit
}

export interface CrawlStart {
  network: string
  protocolId: string
  strategy: string
  startedAt: string
  settings: Record<string, unknown>
}

export type CrawlEndState = CrawlSummary['state'] | 'interrupted' | 'failed'

export interface CrawlEnd {
  endedAt: string
  state: CrawlEndState
  discovered: number
  responsive: number
  waku: number
  totals?: Record<string, unknown>
  curve?: CurvePoint[]
}

export interface StoredCrawl {
  id: number
  startedAt: string
  endedAt: string | null
  network: string
  protocolId: string
  strategy: string
  state: string
  discovered: number
  responsive: number
  waku: number
  /** Stopped before it finished: Ctrl-C, a failed database, or a process that never came back. */
  interrupted: boolean
}

export interface WriteStats {
  rows: number
  transactions: number
}

const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't'
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v))
const json = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T))

function peerIdOfRecord(enr: string): string | null {
  try {
    return parseEnr(enr, {verifySignature: false, lenientFields: true}).peerId
  } catch {
    return null
  }
}

function newerSeq(candidate: string, current: string): boolean {
  try {
    return BigInt(candidate) > BigInt(current)
  } catch {
    return false
  }
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters. */
const CHUNK = 400

export class HistoryStore {
  readonly rowsWritten = {observations: 0, peers: 0, sessions: 0, crawls: 0}
  private constructor(
    readonly driver: SqlDriver,
    readonly schemaVersion: number,
  ) {}

  static async open(url: string, options: OpenDriverOptions = {}): Promise<HistoryStore> {
    const driver = await openDriver(parseDatabaseUrl(url), options)
    try {
      const {version} = await migrate(driver)
      return new HistoryStore(driver, version)
    } catch (error) {
      await driver.close()
      throw error
    }
  }

  get description(): string {
    return this.driver.description
  }

  get backend(): 'sqlite' | 'postgres' {
    return this.driver.dialect
  }

  async close(): Promise<void> {
    await this.driver.close()
  }

  async beginCrawl(start: CrawlStart): Promise<number> {
    const rows = await this.driver.query<{id: unknown}>(
      `INSERT INTO crawls (network, protocol_id, strategy, started_at, state, interrupted, discovered, responsive, waku, settings)
       VALUES (?, ?, ?, ?, 'running', ?, 0, 0, 0, ?) RETURNING id`,
      [start.network, start.protocolId, start.strategy, start.startedAt, false, JSON.stringify(start.settings)],
    )
    this.rowsWritten.crawls++
    return num(rows[0]!.id)
  }

  /**
   * Upserts the peers and this crawl's observations of them, in one transaction. A node written
   * twice in one crawl (streamed, then again in the final list) keeps its latest observation.
   */
  async writeObservations(crawlId: number, nodes: readonly ObservedNode[], seenAt: string): Promise<WriteStats> {
    if (nodes.length === 0) return {rows: 0, transactions: 0}
    // The newest observation of each node wins within a batch.
    const byId = new Map<string, ObservedNode>()
    for (const n of nodes) byId.set(n.nodeId, n)
    const unique = [...byId.values()]
    let rows = 0
    await this.driver.transaction(async () => {
      for (let i = 0; i < unique.length; i += CHUNK) rows += await this.writeChunk(crawlId, unique.slice(i, i + CHUNK), seenAt)
    })
    return {rows, transactions: 1}
  }

  private async writeChunk(crawlId: number, nodes: readonly ObservedNode[], seenAt: string): Promise<number> {
    const marks = nodes.map(() => '?').join(', ')
    const known = await this.driver.query<{id: unknown; node_id: string; latest_seq: string}>(
      `SELECT id, node_id, latest_seq FROM peers WHERE node_id IN (${marks})`,
      nodes.map((n) => n.nodeId),
    )
    const peers = new Map(known.map((r) => [r.node_id, {id: num(r.id), seq: r.latest_seq}]))

    const fresh = nodes.filter((n) => !peers.has(n.nodeId))
    if (fresh.length > 0) {
      const values: SqlValue[] = []
      for (const n of fresh) values.push(n.nodeId, peerIdOfRecord(n.enr), n.firstSeen, n.lastSeen, n.seq, n.enr)
      const inserted = await this.driver.query<{id: unknown; node_id: string}>(
        `INSERT INTO peers (node_id, peer_id, first_seen, last_seen, latest_seq, latest_enr) VALUES ${fresh.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
         RETURNING id, node_id`,
        values,
      )
      for (const r of inserted) peers.set(r.node_id, {id: num(r.id), seq: ''})
      this.rowsWritten.peers += inserted.length
    }

    // Existing peers: last seen moves on; the record only moves to a newer seq.
    const freshIds = new Set(fresh.map((n) => n.nodeId))
    const unchanged: number[] = []
    for (const n of nodes) {
      if (freshIds.has(n.nodeId)) continue
      const p = peers.get(n.nodeId)!
      if (newerSeq(n.seq, p.seq)) await this.driver.query('UPDATE peers SET last_seen = ?, latest_seq = ?, latest_enr = ? WHERE id = ?', [seenAt, n.seq, n.enr, p.id])
      else unchanged.push(p.id)
    }
    if (unchanged.length > 0) await this.driver.query(`UPDATE peers SET last_seen = ? WHERE id IN (${unchanged.map(() => '?').join(', ')})`, [seenAt, ...unchanged])

    const values: SqlValue[] = []
    for (const n of nodes) {
      const p = peers.get(n.nodeId)!
      // The record is kept when the peer is new or its seq changed since the stored one.
      const changed = p.seq === '' || p.seq !== n.seq
      const visit = n.visit
      values.push(
        crawlId,
        p.id,
        n.status,
        n.responsive === true,
        n.seq,
        changed ? n.enr : null,
        n.ip ?? null,
        n.udp ?? null,
        n.rttMs ?? null,
        n.refusal ?? null,
        n.waku !== undefined,
        n.waku?.waku2 ? n.waku.waku2.capabilities.join(',') : null,
        n.waku?.shards && n.waku.cluster !== undefined ? n.waku.shards.map((s) => `${n.waku!.cluster}/${s}`).join(',') : null,
        JSON.stringify(n.sources ?? ['discv5']),
        visit?.agentVersion ?? null,
        visit?.error?.class ?? null,
        visit ? JSON.stringify(visit) : null,
      )
    }
    const columns = 'crawl_id, peer_id, status, responsive, seq, enr, ip, udp, rtt_ms, refusal, waku, capabilities, shards, sources, agent, dial_class, visit'
    const row = `(${columns.split(', ').map(() => '?').join(', ')})`
    // On a repeat, keep the first stored record text if the new row does not carry one.
    await this.driver.query(
      `INSERT INTO observations (${columns}) VALUES ${nodes.map(() => row).join(', ')}
       ON CONFLICT (crawl_id, peer_id) DO UPDATE SET status = excluded.status, responsive = excluded.responsive, seq = excluded.seq,
         enr = COALESCE(observations.enr, excluded.enr), ip = excluded.ip, udp = excluded.udp, rtt_ms = excluded.rtt_ms, refusal = excluded.refusal,
         waku = excluded.waku, capabilities = excluded.capabilities, shards = excluded.shards, sources = excluded.sources,
         agent = COALESCE(excluded.agent, observations.agent), dial_class = COALESCE(excluded.dial_class, observations.dial_class),
         visit = COALESCE(excluded.visit, observations.visit)`,
      values,
    )
    this.rowsWritten.observations += nodes.length
    return nodes.length
  }

  /**
   * Records how the crawl ended and, for a complete crawl, moves the uptime sessions on: peers that
   * answered extend their open session or start one; open sessions of peers that did not answer
   * end at this crawl's start. An incomplete crawl says nothing about absence, so it closes none.
   */
  async finishCrawl(crawlId: number, end: CrawlEnd): Promise<void> {
    const interrupted = end.state === 'cancelled' || end.state === 'interrupted' || end.state === 'failed'
    await this.driver.transaction(async () => {
      await this.driver.query(
        'UPDATE crawls SET ended_at = ?, state = ?, interrupted = ?, discovered = ?, responsive = ?, waku = ?, totals = ?, curve = ? WHERE id = ?',
        [end.endedAt, end.state, interrupted, end.discovered, end.responsive, end.waku, end.totals ? JSON.stringify(end.totals) : null, end.curve ? JSON.stringify(end.curve) : null, crawlId],
      )
      if (interrupted) return
      const [crawl] = await this.driver.query<{network: string; protocol_id: string; started_at: string}>('SELECT network, protocol_id, started_at FROM crawls WHERE id = ?', [crawlId])
      const network = `${crawl!.network}/${crawl!.protocol_id}`
      const answered = await this.driver.query<{peer_id: unknown}>('SELECT peer_id FROM observations WHERE crawl_id = ? AND responsive = ?', [crawlId, true])
      const open = await this.driver.query<{id: unknown; peer_id: unknown}>('SELECT id, peer_id FROM sessions WHERE network = ? AND ended_at IS NULL', [network])
      const openByPeer = new Map(open.map((s) => [num(s.peer_id), num(s.id)]))
      const answeredIds = new Set(answered.map((r) => num(r.peer_id)))
      const extend: number[] = []
      const start: number[] = []
      for (const peer of answeredIds) {
        const session = openByPeer.get(peer)
        if (session === undefined) start.push(peer)
        else extend.push(session)
      }
      const close = [...openByPeer].filter(([peer]) => !answeredIds.has(peer)).map(([, session]) => session)
      for (let i = 0; i < extend.length; i += CHUNK) {
        const part = extend.slice(i, i + CHUNK)
        await this.driver.query(`UPDATE sessions SET last_seen_at = ?, last_crawl_id = ?, crawls = crawls + 1 WHERE id IN (${part.map(() => '?').join(', ')})`, [end.endedAt, crawlId, ...part])
      }
      for (let i = 0; i < close.length; i += CHUNK) {
        const part = close.slice(i, i + CHUNK)
        await this.driver.query(`UPDATE sessions SET ended_at = ? WHERE id IN (${part.map(() => '?').join(', ')})`, [crawl!.started_at, ...part])
      }
      for (let i = 0; i < start.length; i += CHUNK) {
        const part = start.slice(i, i + CHUNK)
        const values: SqlValue[] = []
        for (const peer of part) values.push(peer, network, crawl!.started_at, end.endedAt, crawlId, crawlId)
        await this.driver.query(
          `INSERT INTO sessions (peer_id, network, started_at, last_seen_at, first_crawl_id, last_crawl_id, crawls) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, 1)').join(', ')}`,
          values,
        )
      }
      this.rowsWritten.sessions += extend.length + close.length + start.length
    })
  }

  async crawls(filter: {since?: string; network?: string} = {}): Promise<StoredCrawl[]> {
    const where: string[] = []
    const params: SqlValue[] = []
    if (filter.since) {
      where.push('started_at >= ?')
      params.push(filter.since)
    }
    if (filter.network) {
      where.push('(network = ? OR protocol_id = ?)')
      params.push(filter.network, filter.network)
    }
    const rows = await this.driver.query(
      `SELECT id, started_at, ended_at, network, protocol_id, strategy, state, interrupted, discovered, responsive, waku FROM crawls
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`,
      params,
    )
    return rows.map((r) => ({
      id: num(r.id),
      startedAt: String(r.started_at),
      endedAt: r.ended_at === null ? null : String(r.ended_at),
      network: String(r.network),
      protocolId: String(r.protocol_id),
      strategy: String(r.strategy),
      state: String(r.state),
      discovered: num(r.discovered),
      responsive: num(r.responsive),
      waku: num(r.waku),
      // A crawl still 'running' in the table is one whose process never finished it.
      interrupted: bool(r.interrupted) || r.state === 'running',
    }))
  }

  async crawlCurve(crawlId: number): Promise<CurvePoint[] | undefined> {
    const rows = await this.driver.query('SELECT curve FROM crawls WHERE id = ?', [crawlId])
    return rows.length ? json<CurvePoint[]>(rows[0]!.curve) : undefined
  }

  /** Rows of (crawl, column value, count) for a grouped observation column among responsive peers. */
  async groupedCounts(column: 'capabilities' | 'shards' | 'agent' | 'dial_class', crawlIds: readonly number[]): Promise<Array<{crawlId: number; value: string; count: number}>> {
    const out: Array<{crawlId: number; value: string; count: number}> = []
    for (let i = 0; i < crawlIds.length; i += CHUNK) {
      const part = crawlIds.slice(i, i + CHUNK)
      const rows = await this.driver.query(
        `SELECT crawl_id, ${column} AS value, COUNT(*) AS n FROM observations WHERE crawl_id IN (${part.map(() => '?').join(', ')}) AND responsive = ? AND ${column} IS NOT NULL
         GROUP BY crawl_id, ${column}`,
        [...part, true],
      )
      for (const r of rows) out.push({crawlId: num(r.crawl_id), value: String(r.value), count: num(r.n)})
    }
    return out
  }

  /** Joins and leaves of responsive peers between each crawl and the one before it. */
  async churn(pairs: ReadonlyArray<{crawlId: number; previousId: number}>): Promise<Array<{crawlId: number; joined: number; left: number}>> {
    const out: Array<{crawlId: number; joined: number; left: number}> = []
    const sql = `SELECT COUNT(*) AS n FROM observations a WHERE a.crawl_id = ? AND a.responsive = ?
      AND NOT EXISTS (SELECT 1 FROM observations b WHERE b.crawl_id = ? AND b.peer_id = a.peer_id AND b.responsive = ?)`
    for (const {crawlId, previousId} of pairs) {
      const [joined] = await this.driver.query(sql, [crawlId, true, previousId, true])
      const [left] = await this.driver.query(sql, [previousId, true, crawlId, true])
      out.push({crawlId, joined: num(joined!.n), left: num(left!.n)})
    }
    return out
  }

  /** Per peer: the first crawl it answered in and how many of the given crawls it answered. */
  async answerCounts(crawlIds: readonly number[]): Promise<Array<{peerId: number; firstCrawlId: number; answered: number}>> {
    const byPeer = new Map<number, {first: number; answered: number}>()
    for (let i = 0; i < crawlIds.length; i += CHUNK) {
      const part = crawlIds.slice(i, i + CHUNK)
      const rows = await this.driver.query(
        `SELECT peer_id, MIN(crawl_id) AS first, COUNT(*) AS n FROM observations WHERE crawl_id IN (${part.map(() => '?').join(', ')}) AND responsive = ? GROUP BY peer_id`,
        [...part, true],
      )
      for (const r of rows) {
        const peer = num(r.peer_id)
        const entry = byPeer.get(peer)
        if (entry) {
          entry.first = Math.min(entry.first, num(r.first))
          entry.answered += num(r.n)
        } else byPeer.set(peer, {first: num(r.first), answered: num(r.n)})
      }
    }
    return [...byPeer].map(([peerId, v]) => ({peerId, firstCrawlId: v.first, answered: v.answered}))
  }

  async findPeer(id: string): Promise<{id: number; nodeId: string; peerId: string | null; firstSeen: string; lastSeen: string; latestSeq: string; latestEnr: string} | undefined> {
    const key = id.trim()
    const rows = await this.driver.query('SELECT id, node_id, peer_id, first_seen, last_seen, latest_seq, latest_enr FROM peers WHERE node_id = ? OR peer_id = ?', [key.toLowerCase().replace(/^0x/, ''), key])
    const r = rows[0]
    if (!r) return undefined
    return {id: num(r.id), nodeId: String(r.node_id), peerId: r.peer_id === null ? null : String(r.peer_id), firstSeen: String(r.first_seen), lastSeen: String(r.last_seen), latestSeq: String(r.latest_seq), latestEnr: String(r.latest_enr)}
  }

  async peerObservations(peer: number): Promise<Array<{crawlId: number; status: string; responsive: boolean; seq: string; recordChanged: boolean; rttMs: number | null; sources: string[]; agent: string | null; dialClass: string | null}>> {
    const rows = await this.driver.query('SELECT crawl_id, status, responsive, seq, enr, rtt_ms, sources, agent, dial_class FROM observations WHERE peer_id = ? ORDER BY crawl_id', [peer])
    return rows.map((r) => ({
      crawlId: num(r.crawl_id),
      status: String(r.status),
      responsive: bool(r.responsive),
      seq: String(r.seq),
      recordChanged: r.enr !== null,
      rttMs: r.rtt_ms === null ? null : num(r.rtt_ms),
      sources: json<string[]>(r.sources) ?? [],
      agent: r.agent === null ? null : String(r.agent),
      dialClass: r.dial_class === null ? null : String(r.dial_class),
    }))
  }

  async peerSessions(peer: number): Promise<Array<{network: string; startedAt: string; lastSeenAt: string; endedAt: string | null; crawls: number}>> {
    const rows = await this.driver.query('SELECT network, started_at, last_seen_at, ended_at, crawls FROM sessions WHERE peer_id = ? ORDER BY started_at', [peer])
    return rows.map((r) => ({network: String(r.network), startedAt: String(r.started_at), lastSeenAt: String(r.last_seen_at), endedAt: r.ended_at === null ? null : String(r.ended_at), crawls: num(r.crawls)}))
  }

  async sessionStats(network?: string): Promise<{open: number; closed: number; durationsMs: number[]}> {
    const rows = await this.driver.query(
      `SELECT started_at, last_seen_at, ended_at FROM sessions ${network ? 'WHERE network LIKE ?' : ''}`,
      network ? [`${network}/%`] : [],
    )
    let open = 0
    const durationsMs: number[] = []
    for (const r of rows) {
      if (r.ended_at === null) open++
      durationsMs.push(Date.parse(String(r.ended_at ?? r.last_seen_at)) - Date.parse(String(r.started_at)))
    }
    return {open, closed: rows.length - open, durationsMs}
  }
}
