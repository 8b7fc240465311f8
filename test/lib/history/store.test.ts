/**
 * The crawl-history store on both backends with one suite: a real PostgreSQL server (Debian's,
 * started here on loopback) and SQLite files. Crawls are real crawls of a loopback testnet where
 * it matters (recording, interruption, a database killed mid-crawl); the churn and session rules
 * are checked on hand-made observations whose answers are known.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {crawl, type CrawledNode} from '../../../src/lib/discv5/crawl.js'
import {encodeEnr} from '../../../src/lib/enr/encode.js'
import {DatabaseSync} from 'node:sqlite'
import {ConfigError, UnreachableError} from '../../../src/lib/errors.js'
import {buildHistoryReport} from '../../../src/lib/history/report.js'
import {CrawlRecorder} from '../../../src/lib/history/recorder.js'
import {SCHEMA_VERSION} from '../../../src/lib/history/schema.js'
import {HistoryStore} from '../../../src/lib/history/store.js'
import {generatePrivateKey, peerIdOf, publicKeyOf} from '../../../src/lib/keys/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {startPostgres, type PostgresServer} from '../../helpers/postgres.js'

let dir: string
let postgres: PostgresServer
let testnet: Testnet
let databases = 0

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-history-'))
  ;[postgres, testnet] = await Promise.all([startPostgres(), startTestnet({nodes: 60, dead: 0.1, workers: 0, seed: 21})])
}, 120_000)

afterAll(async () => {
  await testnet?.stop()
  await postgres?.stop()
  rmSync(dir, {recursive: true, force: true})
})

type Backend = 'sqlite' | 'postgres'
async function freshUrl(backend: Backend): Promise<string> {
  databases++
  return backend === 'sqlite' ? `sqlite:${join(dir, `h${databases}.sqlite`)}` : postgres.createDatabase(`h${databases}`)
}

const keys = Array.from({length: 4}, () => generatePrivateKey())
function node(i: number, responsive: boolean, seq = 1n): CrawledNode {
  const record = encodeEnr({privateKey: keys[i]!, seq, ip: '127.0.0.1', udp: 9000 + i, tcp: 60_000 + i, waku2: i % 2 ? ['relay', 'store'] : ['relay'], cluster: 1, shards: [i % 3]})
  const now = new Date().toISOString()
  return {
    enr: record.text,
    nodeId: record.nodeId,
    seq: seq.toString(),
    ip: '127.0.0.1',
    udp: 9000 + i,
    waku: {waku2: {raw: '0x01', capabilities: i % 2 ? ['relay', 'store'] : ['relay'], unknownBits: []}, cluster: 1, shards: [i % 3]},
    status: responsive ? 'responsive' : 'unresponsive',
    responsive,
    seenBy: 1,
    firstSeen: now,
    lastSeen: now,
    requests: 1,
    timeouts: responsive ? 0 : 1,
    matches: true,
  }
}

async function handCrawl(store: HistoryStore, at: string, nodes: CrawledNode[], state: 'complete' | 'cancelled' = 'complete'): Promise<number> {
  const id = await store.beginCrawl({network: 'waku', protocolId: 'd5waku', strategy: 'exhaustive', startedAt: at, settings: {}})
  await store.writeObservations(id, nodes, at)
  const responsive = nodes.filter((n) => n.responsive).length
  await store.finishCrawl(id, {endedAt: new Date(Date.parse(at) + 60_000).toISOString(), state, discovered: nodes.length, responsive, waku: responsive})
  return id
}

describe.each<Backend>(['sqlite', 'postgres'])('history store on %s', (backend) => {
  it('creates the schema on open, reopens it as is, and refuses a newer schema or a foreign database', async () => {
    const url = await freshUrl(backend)
    const store = await HistoryStore.open(url)
    expect(store.schemaVersion).toBe(SCHEMA_VERSION)
    await store.close()
    const again = await HistoryStore.open(url)
    expect(again.schemaVersion).toBe(SCHEMA_VERSION)
    await again.driver.query("UPDATE waku_disc_meta SET value = '99' WHERE key = 'schema_version'")
    await again.close()
    const refused = await HistoryStore.open(url).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as ConfigError).code).toBe('DB_SCHEMA_NEWER')
    expect((refused as ConfigError).message).toMatch(/schema version 99.*knows up to 1/)

    const foreign = await freshUrl(backend)
    if (backend === 'sqlite') {
      const db = new DatabaseSync(foreign.slice('sqlite:'.length))
      db.exec('CREATE TABLE crawls (x INTEGER)')
      db.close()
    } else {
      const client = new pg.Client(foreign)
      await client.connect()
      await client.query('CREATE TABLE crawls (x INTEGER)')
      await client.end()
    }
    await expect(HistoryStore.open(foreign)).rejects.toMatchObject({code: 'DB_NOT_WAKU_DISC', exitCode: 6})
  })

  it('churn, uptime and sessions follow the observations; an interrupted crawl closes no session', async () => {
    const store = await HistoryStore.open(await freshUrl(backend))
    try {
      // A answers always; B drops out of crawl 2; C joins in crawl 2; D is seen but never answers.
      const c1 = await handCrawl(store, '2026-12-01T00:00:00.000Z', [node(0, true), node(1, true), node(3, false)])
      const c2 = await handCrawl(store, '2026-12-01T01:00:00.000Z', [node(0, true), node(1, false), node(2, true, 1n), node(3, false)])
      // Interrupted after seeing only A: says nothing about B or C.
      await handCrawl(store, '2026-12-01T01:30:00.000Z', [node(0, true)], 'cancelled')
      const c3 = await handCrawl(store, '2026-12-01T02:00:00.000Z', [node(0, true), node(1, true), node(2, true, 2n), node(3, false)])

      const report = await buildHistoryReport(store)
      expect(report.crawls.map((c) => [c.responsive, c.interrupted])).toEqual([
        [2, false],
        [2, false],
        [1, true],
        [3, false],
      ])
      expect(report.churn).toEqual([
        {crawlId: c2, previousCrawlId: c1, startedAt: '2026-12-01T01:00:00.000Z', joined: 1, left: 1},
        {crawlId: c3, previousCrawlId: c2, startedAt: '2026-12-01T02:00:00.000Z', joined: 1, left: 0},
      ])
      // A 3/3, B 2/3, C 2/2 over the three finished crawls.
      expect(report.uptime.peers).toBe(3)
      expect(report.uptime.histogram[6]!.peers).toBe(1)
      expect(report.uptime.histogram[9]!.peers).toBe(2)
      expect(report.uptime.median).toBe(1)
      // Sessions: A one open; B closed at crawl 2 and reopened at 3; C one open.
      expect(report.uptime.sessions).toMatchObject({open: 3, closed: 1})
      expect(report.capabilities.at(-1)!.counts).toEqual({relay: 3, store: 1})
      expect(report.shards.at(-1)!.counts).toEqual({'1/0': 1, '1/1': 1, '1/2': 1})

      const b = await buildHistoryReport(store, {peer: node(1, true).nodeId})
      expect(b.peer!.sessions.map((s) => [s.startedAt, s.endedAt])).toEqual([
        ['2026-12-01T00:00:00.000Z', '2026-12-01T01:00:00.000Z'],
        ['2026-12-01T02:00:00.000Z', null],
      ])
      expect(b.peer!.observations.map((o) => o.status)).toEqual(['responsive', 'unresponsive', 'responsive'])
      expect(b.peer!.uptime).toBeCloseTo(2 / 3)
      // C's record is kept when first seen and again when its seq moved on; the peer holds seq 2.
      const c = await buildHistoryReport(store, {peer: peerIdOf(publicKeyOf(keys[2]!))})
      expect(c.peer!.observations.map((o) => [o.seq, o.recordChanged])).toEqual([
        ['1', true],
        ['2', true],
      ])
      expect(c.peer!.latestSeq).toBe('2')
      const byPeerId = await store.findPeer(c.peer!.peerId!)
      expect(byPeerId?.nodeId).toBe(node(2, true).nodeId)
      await expect(buildHistoryReport(store, {peer: 'ff'.repeat(32)})).rejects.toMatchObject({code: 'PEER_NOT_FOUND', exitCode: 2})
      expect((await buildHistoryReport(store, {since: '2026-12-01T01:15:00Z'})).crawls).toHaveLength(2)
      await expect(buildHistoryReport(store, {since: 'last tuesday'})).rejects.toMatchObject({code: 'BAD_SINCE'})
    } finally {
      await store.close()
    }
  })

  it('records a real crawl of a loopback testnet, streamed in batches, totals equal to the crawl summary', async () => {
    const store = await HistoryStore.open(await freshUrl(backend))
    try {
      const recorder = new CrawlRecorder(store, {batchSize: 10, settings: {network: 'waku'}})
      let summary: {discovered: number; responsive: number; waku: number} | undefined
      for await (const event of crawl({bootnodes: [testnet.bootnode], strategy: 'exhaustive', network: 'waku'})) {
        recorder.handle(event)
        if (event.type === 'done') summary = {discovered: event.result.counts.discovered, responsive: event.result.counts.responsive, waku: event.result.counts.waku}
      }
      const outcome = await recorder.settle()
      expect(outcome.error).toBeUndefined()
      // One transaction per batch of 10, plus begin and finish.
      expect(outcome.transactions).toBeGreaterThan(4)
      const [stored] = await store.crawls()
      expect(stored).toMatchObject({...summary, state: 'complete', interrupted: false, network: 'waku', protocolId: 'd5waku'})
      const [{n}] = (await store.driver.query('SELECT COUNT(*) AS n FROM observations')) as [{n: number}]
      expect(Number(n)).toBe(summary!.discovered)
      const live = testnet.nodes.filter((x) => x.live).length
      expect(summary!.responsive).toBe(live)
      expect((await store.crawlCurve(stored!.id))!.length).toBeGreaterThan(1)
    } finally {
      await store.close()
    }
  })

  it('Ctrl-C mid-crawl keeps every observation written so far and marks the crawl interrupted', async () => {
    const store = await HistoryStore.open(await freshUrl(backend))
    try {
      const recorder = new CrawlRecorder(store, {batchSize: 5, settings: {network: 'waku'}})
      const abort = new AbortController()
      let nodes = 0
      for await (const event of crawl({bootnodes: [testnet.bootnode], strategy: 'exhaustive', signal: abort.signal, concurrency: 2})) {
        recorder.handle(event)
        if (event.type === 'node' && ++nodes === 12) abort.abort()
      }
      const outcome = await recorder.settle()
      const [stored] = await store.crawls()
      expect(stored).toMatchObject({state: 'cancelled', interrupted: true})
      expect(stored!.endedAt).not.toBeNull()
      const [{n}] = (await store.driver.query('SELECT COUNT(*) AS n FROM observations WHERE crawl_id = ?', [stored!.id])) as [{n: number}]
      expect(Number(n)).toBe(outcome.observations)
      expect(Number(n)).toBeGreaterThanOrEqual(12)
      const [{s}] = (await store.driver.query('SELECT COUNT(*) AS s FROM sessions')) as [{s: number}]
      expect(Number(s)).toBe(0)
    } finally {
      await store.close()
    }
  })
})

describe('a PostgreSQL server killed mid-crawl', () => {
  it('fails with a typed error (exit 4), the crawl goes on to the end, and the committed batches survive the restart', async () => {
    const server = await startPostgres('killed')
    try {
      const store = await HistoryStore.open(server.url)
      const errors: unknown[] = []
      const recorder = new CrawlRecorder(store, {batchSize: 5, settings: {network: 'waku'}, onError: (e) => errors.push(e)})
      let nodes = 0
      let committedBeforeKill = -1
      let result: {discovered: number} | undefined
      for await (const event of crawl({bootnodes: [testnet.bootnode], strategy: 'exhaustive', concurrency: 2})) {
        recorder.handle(event)
        if (event.type === 'node' && ++nodes === 20) {
          // Let the queued batches land, count them from outside, then kill the server.
          await new Promise((r) => setTimeout(r, 300))
          const probe = new pg.Client(server.url)
          await probe.connect()
          committedBeforeKill = Number((await probe.query('SELECT COUNT(*) AS n FROM observations')).rows[0].n)
          await probe.end()
          await server.kill()
        }
        if (event.type === 'done') result = {discovered: event.result.counts.discovered}
      }
      const outcome = await recorder.settle()
      await store.close()
      expect(result!.discovered).toBeGreaterThan(40)
      expect(outcome.error).toMatchObject({code: 'DB_UNREACHABLE', exitCode: 4})
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(UnreachableError)
      expect(committedBeforeKill).toBeGreaterThanOrEqual(15)

      await server.restart()
      const reopened = await HistoryStore.open(server.url)
      const [{n}] = (await reopened.driver.query('SELECT COUNT(*) AS n FROM observations')) as [{n: number}]
      expect(Number(n)).toBeGreaterThanOrEqual(committedBeforeKill)
      const [crawlRow] = await reopened.crawls()
      // It never heard 'done': a crawl left 'running' reads as interrupted.
      expect(crawlRow).toMatchObject({state: 'running', interrupted: true})
      await reopened.close()
    } finally {
      await server.stop()
    }
  }, 90_000)
})
