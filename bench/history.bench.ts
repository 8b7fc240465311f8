/**
 * Crawl history costs, measured in one run:
 *  1. a real census crawl of a 1,000-node loopback testnet, its nodes given libp2p visit results
 *     (agent, protocols, metadata), replayed through the recorder into SQLite and into a real
 *     PostgreSQL server, against writing the same nodes as NDJSON; each as a share of the crawl's
 *     wall time (goal: the database costs < 10% of it);
 *  2. `history` over 500 stored crawls of 1,000 peers on SQLite (goal < 2 s to the report).
 */
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {crawl, type CrawlEvent} from '../src/lib/discv5/index.js'
import {buildHistoryReport} from '../src/lib/history/report.js'
import {CrawlRecorder} from '../src/lib/history/recorder.js'
import {HistoryStore, type ObservedNode} from '../src/lib/history/store.js'
import {startTestnet} from '../src/lib/testnet/index.js'
import {startPostgres} from '../test/helpers/postgres.js'

const NODES = Number(process.env.HISTORY_BENCH_NODES ?? 1000)
const CRAWLS = Number(process.env.HISTORY_BENCH_CRAWLS ?? 500)
const dir = mkdtempSync(join(tmpdir(), 'waku-disc-history-bench-'))

function withVisit(event: CrawlEvent): CrawlEvent {
  if (event.type !== 'node' || !event.node.responsive) return event
  const node: ObservedNode = {
    ...event.node,
    visit: {
      peerId: event.node.nodeId,
      addresses: [],
      remoteAddr: null,
      listenAddrs: [],
      observedAddr: null,
      ms: 6,
      agentVersion: `nwaku/v0.3${event.node.nodeId.charCodeAt(0) % 6}.0`,
      protocolVersion: '',
      protocols: ['/vac/waku/relay/2.0.0', '/vac/waku/store-query/3.0.0', '/vac/waku/metadata/1.0.0', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'],
      metadata: {clusterId: 1, shards: event.node.waku?.shards ?? []},
      pingMs: 1.2,
      dialMs: 4.5,
      error: null,
      findings: [],
    },
  }
  return {type: 'node', node}
}

async function replay(url: string, events: readonly CrawlEvent[]): Promise<{ms: number; rows: number; transactions: number}> {
  const store = await HistoryStore.open(url)
  try {
    const started = performance.now()
    const recorder = new CrawlRecorder(store, {settings: {network: 'waku'}})
    for (const e of events) recorder.handle(e)
    const outcome = await recorder.settle()
    if (outcome.error) throw new Error(outcome.error.message)
    return {ms: performance.now() - started, rows: outcome.rows, transactions: outcome.transactions}
  } finally {
    await store.close()
  }
}

async function ndjson(events: readonly CrawlEvent[]): Promise<{ms: number; rows: number}> {
  const started = performance.now()
  const out = createWriteStream(join(dir, 'nodes.ndjson'))
  let rows = 0
  for (const e of events) {
    if (e.type !== 'node') continue
    out.write(JSON.stringify(e.node) + '\n')
    rows++
  }
  await new Promise<void>((resolve) => out.end(() => resolve()))
  return {ms: performance.now() - started, rows}
}

const pct = (part: number, whole: number) => `${((part / whole) * 100).toFixed(2)}%`

async function main(): Promise<void> {
  const testnet = await startTestnet({nodes: NODES, dead: 0.1, workers: 1, seed: 5})
  const postgres = await startPostgres('bench')
  try {
    const events: CrawlEvent[] = []
    const started = performance.now()
    for await (const e of crawl({bootnodes: [testnet.bootnode], strategy: 'census', network: 'waku'})) events.push(withVisit(e))
    const crawlMs = performance.now() - started
    const done = events.find((e) => e.type === 'done')
    if (done?.type !== 'done') throw new Error('crawl did not finish')
    console.log(`census crawl of ${NODES} nodes: ${(crawlMs / 1000).toFixed(2)} s, ${done.result.counts.discovered} discovered, ${done.result.counts.responsive} responsive (visits attached to each)`)

    const lines: string[] = []
    for (let i = 0; i < 3; i++) {
      // Alternated, three times each, so that load from elsewhere hits all three alike; best of three.
      const s = await replay(`sqlite:${join(dir, `w${i}.sqlite`)}`, events)
      const p = await replay(await postgres.createDatabase(`w${i}`), events)
      const n = await ndjson(events)
      lines.push(JSON.stringify({s, p, n}))
    }
    const runs = lines.map((l) => JSON.parse(l) as {s: {ms: number; rows: number}; p: {ms: number; rows: number}; n: {ms: number; rows: number}})
    const best = (k: 's' | 'p' | 'n') => Math.min(...runs.map((r) => r[k].ms))
    const rows = runs[0]!.s.rows
    for (const [name, k] of [['SQLite (node:sqlite)', 's'], ['PostgreSQL (pg)', 'p'], ['NDJSON file', 'n']] as const) {
      const ms = best(k)
      console.log(`  ${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms for ${runs[0]![k].rows} rows = ${Math.round((runs[0]![k].rows / ms) * 1000).toLocaleString('en')} rows/s, ${pct(ms, crawlMs)} of the crawl's wall time (goal < 10%), ${(ms / best('n')).toFixed(1)}× NDJSON`)
    }
    console.log(`  (observations per crawl: ${rows}; best of 3 alternated runs)`)

    // 2. history over many stored crawls.
    const url = `sqlite:${join(dir, 'history.sqlite')}`
    const store = await HistoryStore.open(url)
    const nodes = done.result.nodes.slice(0, 1000)
    let rand = 7
    const next = () => ((rand = (rand * 1664525 + 1013904223) >>> 0) / 2 ** 32)
    const fillStarted = performance.now()
    const t0 = Date.parse('2026-06-01T00:00:00Z')
    for (let c = 0; c < CRAWLS; c++) {
      const at = new Date(t0 + c * 600_000).toISOString()
      const id = await store.beginCrawl({network: 'waku', protocolId: 'd5waku', strategy: 'census', startedAt: at, settings: {}})
      // Each peer answers a crawl with its own steady probability: churn and a spread of uptimes.
      const observed = nodes.map((n, i) => {
        const up = next() < 0.55 + 0.45 * ((i % 10) / 9)
        return {...n, responsive: up, status: up ? ('responsive' as const) : ('unresponsive' as const)}
      })
      await store.writeObservations(id, observed, at)
      const responsive = observed.filter((n) => n.responsive).length
      await store.finishCrawl(id, {endedAt: new Date(t0 + c * 600_000 + 20_000).toISOString(), state: 'complete', discovered: observed.length, responsive, waku: responsive, curve: done.result.curve})
    }
    const fillMs = performance.now() - fillStarted
    const times: number[] = []
    let report
    for (let i = 0; i < 3; i++) {
      const s = performance.now()
      report = await buildHistoryReport(store)
      times.push(performance.now() - s)
    }
    await store.close()
    console.log(`history over ${CRAWLS} crawls × ${nodes.length} peers (SQLite, ${(CRAWLS * nodes.length).toLocaleString('en')} observations, stored in ${(fillMs / 1000).toFixed(1)} s):`)
    console.log(`  report in ${Math.min(...times).toFixed(0)} ms best, ${Math.max(...times).toFixed(0)} ms worst of 3 (goal < 2,000 ms); ${report!.churn.length} churn steps, ${report!.uptime.peers} peers' uptime, ${report!.uptime.sessions.open + report!.uptime.sessions.closed} sessions`)
  } finally {
    await testnet.stop()
    await postgres.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

await main()
