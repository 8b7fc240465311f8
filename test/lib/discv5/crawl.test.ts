import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {
  crawl,
  crawlNodeSet,
  csvHeader,
  csvRow,
  initialCrawlView,
  reduceCrawl,
  runCrawl,
  type CrawlEvent,
  type CrawlResult,
} from '../../../src/lib/discv5/index.js'
import {readNodeSetFile, writeNodeSetFile} from '../../../src/lib/nodeset/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'

let testnet: Testnet
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-crawl-'))
  // In a worker thread, as the CLI runs one: a testnet sharing the crawler's event loop answers
  // late whenever the crawler is busy, and a loaded CI machine then saw an honest node as dead.
  testnet = await startTestnet({nodes: 150, dead: 0.1, liars: 0.1, workers: 1, seed: 7})
}, 120_000)

afterAll(async () => {
  await testnet?.stop()
  rmSync(dir, {recursive: true, force: true})
})

const liveIds = () => new Set(testnet.nodes.filter((n) => n.live).map((n) => n.nodeId))

describe('exhaustive crawl', () => {
  let result: CrawlResult
  const events: CrawlEvent[] = []
  let fresh: {nodeId: string; enr: string; seq: string}

  beforeAll(async () => {
    // A node re-signs its record after the tables were filled: only FINDNODE [0] can reveal it.
    const node = testnet.nodes.find((n) => n.role === 'honest' && n.index !== 0)!
    fresh = {nodeId: node.nodeId, ...(await testnet.updateRecord(node.nodeId, {bump: Uint8Array.of(1)}))}
    for await (const e of crawl({bootnodes: [testnet.bootnode], strategy: 'exhaustive'})) {
      events.push(e)
      if (e.type === 'done') result = e.result
    }
  }, 120_000)

  it('reaches every live node and lists each responsive node\'s neighbours', () => {
    const found = new Set(result.nodes.map((n) => n.nodeId))
    for (const id of liveIds()) expect(found.has(id)).toBe(true)
    const honest = testnet.nodes.filter((n) => n.role === 'honest')
    for (const h of honest) {
      const n = result.nodes.find((x) => x.nodeId === h.nodeId)!
      expect(n.responsive, h.nodeId).toBe(true)
      // Routing tables of a 150-node net hold 40+ entries; the crawl enumerates them.
      expect(n.neighbours!.length).toBeGreaterThan(30)
    }
    // Neighbour lists only name nodes the crawl knows.
    for (const n of result.nodes) for (const id of n.neighbours ?? []) expect(found.has(id)).toBe(true)
    expect(result.requests.perResponsiveNode).toBeGreaterThan(3)
  })

  it('takes the newer record a node returns for FINDNODE [0]', () => {
    const reported = result.nodes.find((n) => n.nodeId === fresh.nodeId)!
    expect(reported.seq).toBe(fresh.seq)
    expect(reported.enr).toBe(fresh.enr)
    const seeded = testnet.nodes.find((n) => n.nodeId === fresh.nodeId)!
    expect(reported.enr).not.toBe(seeded.enr)
  })

  it('streams each node once, and the reducer and the result agree', () => {
    const nodeEvents = events.filter((e) => e.type === 'node')
    const ids = nodeEvents.map((e) => (e.type === 'node' ? e.node.nodeId : ''))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBe(result.nodes.length)
    expect(events[0]!.type).toBe('start')
    expect(events.at(-1)!.type).toBe('done')
    const view = events.reduce(reduceCrawl, initialCrawlView())
    expect(view.responsiveReported).toBe(result.counts.responsive)
    expect(view.wakuResponsive).toBe(result.counts.waku)
    expect(view.done?.counts).toEqual(result.counts)
    expect(view.capabilities).toEqual(result.capabilities)
  })

  it('reports Waku fields decoded from the records, matching the testnet', () => {
    for (const t of testnet.nodes.filter((n) => n.waku && n.role === 'honest')) {
      const n = result.nodes.find((x) => x.nodeId === t.nodeId)!
      expect(n.waku?.waku2?.capabilities).toEqual(t.caps)
      expect(n.waku?.cluster).toBe(t.cluster)
      expect(n.waku?.shards).toEqual(t.shards)
      expect(n.waku?.multiaddrs?.[0]).toMatch(/^\/dns4\/n\d+\.waku\.test\/tcp\/8000\/wss$/)
      expect(n.ip).toBe('127.0.0.1')
      expect(n.udp).toBe(t.port)
    }
  })

  it("writes geth's nodes.json that the node-set reader reads back, and CSV rows", async () => {
    const set = crawlNodeSet(result.nodes)
    const path = join(dir, 'nodes.json')
    await writeNodeSetFile(path, set)
    const back = await readNodeSetFile(path)
    expect(Object.keys(back).sort()).toEqual(result.nodes.filter((n) => n.responsive).map((n) => n.nodeId).sort())
    for (const [id, entry] of Object.entries(back)) {
      const n = result.nodes.find((x) => x.nodeId === id)!
      expect(entry.record).toBe(n.enr)
      expect(entry.seq).toBe(n.seq)
      expect(entry.score).toBe(1)
    }
    // NDJSON lines (the node objects) are accepted by the same reader.
    const ndjson = join(dir, 'nodes.ndjson')
    // (Refused records are left out: the liars' made-up records for port 53/123 carry the port with
    // a leading zero byte, as @chainsafe/enr writes ports, which the strict reader rejects like geth.)
    const contacted = result.nodes.filter((n) => n.status !== 'refused')
    await import('node:fs/promises').then((fs) => fs.writeFile(ndjson, contacted.map((n) => JSON.stringify(n)).join('\n') + '\n'))
    expect(Object.keys(await readNodeSetFile(ndjson)).length).toBe(contacted.length)
    const header = csvHeader().split(',')
    const row = csvRow(result.nodes[0]!)
    expect(header[0]).toBe('nodeId')
    expect(row.startsWith(result.nodes[0]!.nodeId + ',')).toBe(true)
    expect(csvRow({...result.nodes[0]!, waku: {multiaddrs: ['/dns4/a,"b"/tcp/1']}})).toContain('"/dns4/a,""b""/tcp/1"')
    expect(readFileSync(path, 'utf8').startsWith('{\n    "')).toBe(true)
  })
})

describe('census and random walk', () => {
  it('census: one request per node finds every live node', async () => {
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census'})
    const found = new Set(r.nodes.map((n) => n.nodeId))
    for (const id of liveIds()) expect(found.has(id)).toBe(true)
    expect(r.requests.perResponsiveNode).toBeLessThan(2)
    expect(r.curve.length).toBeGreaterThan(2)
    expect(r.curve.at(-1)!.discovered).toBe(r.counts.discovered)
  }, 120_000)

  it('a silent node gets a first contact cut short at its missing WHOAREYOU and one retry that waits the full timeout, no more', async () => {
    const requestTimeoutMs = 2000
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census', requestTimeoutMs, recordDiscoveryLog: true})
    const byId = new Map(r.nodes.map((n) => [n.nodeId, n]))
    const dead = testnet.nodes.filter((n) => n.role === 'dead')
    expect(dead.length).toBeGreaterThan(5)
    for (const d of dead) {
      const n = byId.get(d.nodeId)!
      expect(n.status).toBe('unresponsive')
      expect([n.requests, n.timeouts]).toEqual([2, 2])
      const log = r.timeoutLog!.filter((t) => t.nodeId === d.nodeId)
      expect(log.map((t) => [t.attempt, t.phase])).toEqual([
        [1, 'challenge'],
        [2, 'challenge'],
      ])
      // The retry started after the first attempt ended and was given the whole request timeout.
      expect(log[1]!.ms - log[0]!.ms).toBeGreaterThanOrEqual(requestTimeoutMs - 1)
    }
    expect(r.requests.timeoutsByPhase.challenge).toBeGreaterThanOrEqual(2 * dead.length)
    expect(r.requests.timeouts).toBe(r.requests.timeoutsByPhase.challenge + r.requests.timeoutsByPhase.handshake + r.requests.timeoutsByPhase.session)
    for (const h of testnet.nodes.filter((n) => n.role === 'honest')) expect(byId.get(h.nodeId)?.responsive).toBe(true)
    // Every answer is logged once.
    expect(new Set(r.answerLog!.map((a) => a.nodeId)).size).toBe(r.counts.responsive)

    // retries: 0 → one attempt per silent node.
    const once = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census', retries: 0, challengeTimeoutMs: 0})
    const onceById = new Map(once.nodes.map((n) => [n.nodeId, n]))
    for (const d of dead) expect(onceById.get(d.nodeId)!.requests).toBe(1)
  }, 120_000)

  it('random-walk: runs the requested lookups and estimates the network size', async () => {
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'random-walk', maxLookups: 12, walkers: 3, requestTimeoutMs: 1500})
    expect(r.lookups?.count).toBe(12)
    expect(r.lookups!.requestsPerLookup).toBeGreaterThan(1)
    expect(r.counts.discovered).toBeGreaterThan(liveIds().size / 2)
    expect(r.analysis.networkSize.kademliaSamples).toBeGreaterThan(3)
    // 135 live nodes: the estimator lands in the right order of magnitude.
    expect(r.analysis.networkSize.kademliaEstimate!).toBeGreaterThan(40)
    expect(r.analysis.networkSize.kademliaEstimate!).toBeLessThan(600)
    expect(r.analysis.randomWalk.n).toBe(r.analysis.networkSize.kademliaEstimate)
    // Nodes it never asked are reported as not visited, not as dead.
    expect(r.nodes.some((n) => n.status === 'unvisited' && n.responsive === null)).toBe(true)
  }, 120_000)

  it('filters mark matching nodes without changing the traversal', async () => {
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census', filter: {wakuOnly: true, capabilities: ['relay'], cluster: 1, shard: 0}})
    expect(r.counts.matching).toBeGreaterThan(0)
    expect(r.counts.matching).toBeLessThan(r.counts.discovered)
    for (const n of r.nodes) {
      const expected = n.waku?.waku2?.capabilities.includes('relay') === true && n.waku.cluster === 1 && (n.waku.shards ?? []).includes(0)
      expect(n.matches).toBe(expected)
    }
    expect(crawlNodeSet(r.nodes)).toSatisfy((set: object) => Object.keys(set).length === r.counts.matchingResponsive)
  }, 120_000)

  it('an aborted crawl stops quickly and still reports what it found', async () => {
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(), 400)
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'exhaustive', signal: controller.signal})
    expect(r.state).toBe('cancelled')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(r.nodes.length).toBe(r.counts.discovered)
  }, 60_000)
})

describe('bad input', () => {
  it('rejects bad bootnodes, strategies and options with BadInputError', async () => {
    await expect(runCrawl({bootnodes: ['enr:not-a-record']})).rejects.toThrow(BadInputError)
    await expect(runCrawl({bootnodes: []})).rejects.toThrow(/no bootstrap nodes/)
    await expect(runCrawl({bootnodes: [testnet.bootnode], strategy: 'bogus' as never})).rejects.toThrow(BadInputError)
    await expect(runCrawl({bootnodes: [testnet.bootnode], concurrency: 0})).rejects.toThrow(BadInputError)
    await expect(runCrawl({bootnodes: [testnet.bootnode], protocolId: 'toolong!'})).rejects.toThrow(BadInputError)
    await expect(runCrawl({bootnodes: [testnet.bootnode], strategy: 'random-walk'})).rejects.toThrow(/duration/)
  })
})
