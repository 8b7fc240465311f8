import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createServer} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatNodeSet, parseNodeSetText, readNodeSetFile} from '../../../src/lib/nodeset/index.js'
import {LIBP2P_ROLE_EXPECTATION, startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {ndjsonOf, runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

let testnet: Testnet
let dir: string

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as {port: number}).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-crawl-cli-'))
  testnet = await startTestnet({nodes: 80, dead: 0.1, liars: 0.05, workers: 0, seed: 21})
}, 60_000)

afterAll(async () => {
  await testnet?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('waku-disc crawl', () => {
  it('--testnet N --json: the offline demo crawls its own network and reports Waku nodes', async () => {
    const r = await runCli(['crawl', '--testnet', '60', '--strategy', 'census', '--json'], {timeoutMs: 120_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.state).toBe('complete')
    expect(r.json.protocolId).toBe('d5waku')
    expect(r.json.testnet.nodes).toBe(60)
    expect(r.json.counts.responsive).toBeGreaterThan(40)
    expect(r.json.counts.waku).toBeGreaterThan(0)
    expect(r.json.analysis.randomWalk.P).toBe(0.9)
    expect(r.json.nodes).toBeUndefined()
  }, 150_000)

  it('--bootnode - reads stdin like a file: a piped nodes.json and a piped ENR list both bootstrap', async () => {
    const nodesJson = formatNodeSet(parseNodeSetText(testnet.bootnode, 'bootnode').set)
    expect(nodesJson.split('\n').length).toBeGreaterThan(3)
    for (const stdin of [nodesJson, `# bootnodes\n${testnet.bootnode} annotated\n`]) {
      const r = await runCli(['crawl', '--bootnode', '-', '--strategy', 'census', '--json'], {stdin, timeoutMs: 120_000})
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.state).toBe('complete')
      expect(r.json.counts.responsive).toBeGreaterThan(40)
    }
  }, 240_000)

  it('--bootnode --out nodes.json --csv: files that dns-tree build and the node-set reader accept', async () => {
    const out = join(dir, 'nodes.json')
    const csv = join(dir, 'nodes.csv')
    const r = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--out', out, '--csv', csv, '--json'], {timeoutMs: 120_000})
    expect(r.code, r.stderr).toBe(0)
    const set = await readNodeSetFile(out)
    const live = new Set(testnet.nodes.filter((n) => n.role === 'honest').map((n) => n.nodeId))
    for (const id of live) expect(Object.keys(set)).toContain(id)
    expect(r.json.outputs.outNodes).toBe(Object.keys(set).length)
    const rows = readFileSync(csv, 'utf8').trim().split('\n')
    expect(rows[0]!.startsWith('nodeId,seq,ip,udp')).toBe(true)
    expect(rows.length - 1).toBe(r.json.counts.discovered)
    const tree = join(dir, 'tree')
    const b = await runCli(['dns-tree', 'build', out, '--domain', 'nodes.example.org', '--out', tree, '--json'], {timeoutMs: 60_000})
    expect(b.code, b.stderr).toBe(0)
    const treeNodes = JSON.parse(readFileSync(join(tree, 'nodes.json'), 'utf8'))
    expect(Object.keys(treeNodes).sort()).toEqual(Object.keys(set).sort())
  }, 180_000)

  it('--ndjson with filters streams matching nodes, one JSON object per line', async () => {
    const r = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--ndjson', '--waku-only', '--caps', 'relay'], {timeoutMs: 120_000})
    expect(r.code, r.stderr).toBe(0)
    const lines = ndjsonOf(r.stdout, 'node')
    expect(lines.length).toBeGreaterThan(10)
    for (const n of lines) {
      expect(n).toHaveProperty('enr')
      expect(n.nodeId).toMatch(/^[0-9a-f]{64}$/)
      expect(typeof n.seq).toBe('string')
      expect(n).toHaveProperty('responsive')
      expect(n.waku.waku2.capabilities).toContain('relay')
    }
    expect(lines.filter((n) => n.responsive === true).length).toBeGreaterThan(10)
    // The stream ends with one summary line, counting the node lines it streamed.
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(all.at(-1).type).toBe('summary')
    expect(all.filter((l) => l.type === 'summary')).toHaveLength(1)
    expect(all.at(-1).outputs.ndjsonLines).toBe(lines.length)
    expect(all.at(-1)).not.toHaveProperty('nodes')
    // The human summary went to stderr.
    expect(r.stderr).toMatch(/responsive/)
  }, 150_000)

  it('--visit (the Waku default) dials every responsive peer: NDJSON lines carry the visit, the summary counts it, nodes.json is unchanged', async () => {
    const lab = await startTestnet({nodes: 40, wakuShare: 1, libp2p: 1, libp2pLies: 0.5, workers: 0, seed: 8})
    try {
      const out = join(dir, 'visited.json')
      const csv = join(dir, 'visited.csv')
      const r = await runCli(['crawl', '--bootnode', lab.bootnode, '--strategy', 'census', '--ndjson', '--out', out, '--csv', csv], {timeoutMs: 120_000})
      expect(r.code, r.stderr).toBe(0)
      const lines = ndjsonOf(r.stdout, 'node')
      const byId = new Map(lines.map((n) => [n.nodeId, n]))
      let checked = 0
      for (const node of lab.nodes) {
        if (!node.libp2p) continue
        const line = byId.get(node.nodeId)
        if (line?.status !== 'responsive') continue
        const expected = LIBP2P_ROLE_EXPECTATION[node.libp2p.role]
        expect(Object.keys(line.visit).sort()).toEqual(expect.arrayContaining(['agentVersion', 'protocolVersion', 'protocols', 'metadata', 'pingMs', 'dialMs', 'error', 'findings']))
        if (expected.errorClass) expect(line.visit.error?.class, node.libp2p.role).toBe(expected.errorClass)
        else expect(line.visit.error, node.libp2p.role).toBeNull()
        if (expected.finding) expect(line.visit.findings.map((f: {code: string}) => f.code)).toContain(expected.finding)
        if (node.libp2p.role === 'truthful') expect(line.visit.metadata).toEqual({clusterId: 1, shards: node.shards})
        checked++
      }
      expect(checked).toBeGreaterThan(30)
      // The human summary (stderr with --ndjson) has the visit rows.
      expect(r.stderr).toMatch(/libp2p visits\s+│\s+\d+ of \d+ identified/)
      expect(r.stderr).toMatch(/claims vs reality\s+│.*CLUSTER_MISMATCH/)
      // geth's nodes.json keeps its shape: no visit data in it.
      const set = JSON.parse(readFileSync(out, 'utf8'))
      for (const entry of Object.values(set)) expect(Object.keys(entry as object).sort()).toEqual(['firstResponse', 'lastCheck', 'lastResponse', 'record', 'score', 'seq'])
      const header = readFileSync(csv, 'utf8').split('\n')[0]!.split(',')
      expect(header.slice(-8)).toEqual(['visitError', 'agent', 'protocols', 'metadataCluster', 'metadataShards', 'pingMs', 'findings', 'outsidePreset'])

      const plain = await runCli(['crawl', '--bootnode', lab.bootnode, '--strategy', 'census', '--no-visit', '--json'], {timeoutMs: 120_000})
      expect(plain.code, plain.stderr).toBe(0)
      expect(plain.json.visits).toBeUndefined()
      const visited = await runCli(['crawl', '--bootnode', lab.bootnode, '--strategy', 'census', '--json'], {timeoutMs: 120_000})
      expect(visited.json.visits.attempted).toBe(visited.json.counts.responsive)
      expect(visited.json.visits.failed['peer-id-mismatch']).toBe(lab.libp2pRoles['wrong-peer-id'])
      expect(visited.json.agents['waku-disc-testnet/1.0']).toBe(visited.json.visits.succeeded)
      expect(visited.json.findings.CLUSTER_MISMATCH).toBe(lab.libp2pRoles['wrong-cluster'])
      expect(Object.keys(visited.json.metadata.shards).length).toBeGreaterThan(4)
    } finally {
      await lab.stop()
    }
  }, 300_000)

  it('--preset checks every Waku record against the network: the testnet is twn-shaped, so logos-dev finds it on the wrong cluster', async () => {
    const twn = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--no-visit', '--preset', 'twn', '--json'], {timeoutMs: 120_000})
    expect(twn.code, twn.stderr).toBe(0)
    expect(twn.json.preset).toMatchObject({name: 'twn', cluster: 1, numShards: 8, outside: {}})
    expect(twn.json.preset.checked).toBe(twn.json.counts.waku)
    const dev = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--no-visit', '--preset', 'logos-dev', '--ndjson'], {timeoutMs: 120_000})
    expect(dev.code, dev.stderr).toBe(0)
    const waku = ndjsonOf(dev.stdout, 'node').filter((n) => n.status === 'responsive' && n.waku?.waku2)
    expect(waku.length).toBeGreaterThan(20)
    for (const n of waku) expect(n.outsidePreset).toEqual({code: 'WRONG_CLUSTER', message: "cluster 1, not logos-dev's 2"})
    expect(dev.stderr).toMatch(new RegExp(`preset logos-dev\\s+│ cluster 2, shards 0–7: ${waku.length} of ${waku.length} responsive Waku nodes outside — WRONG_CLUSTER ${waku.length}`))
    const eth = await runInProcess(['crawl', '--network', 'ethereum', '--preset', 'twn'])
    expect(eth.code).toBe(2)
    expect(eth.stderr).toMatch(/PRESET_NOT_WAKU|is a Waku network/)
    const none = await runInProcess(['crawl', '--preset', 'logos-test', '--json'])
    expect(none.code).toBe(2)
    expect(none.stdout + none.stderr).toMatch(/publishes no discv5 bootstrap records/)
  }, 300_000)

  it('SIGINT stops the crawl, flushes what was found and exits 130', async () => {
    const out = join(dir, 'interrupted.json')
    const r = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'random-walk', '--ndjson', '--out', out], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        let sent = false
        child.stdout!.on('data', () => {
          if (sent) return
          sent = true
          setTimeout(() => child.kill('SIGINT'), 500)
        })
      },
    })
    expect(r.code).toBe(130)
    const lines = ndjsonOf(r.stdout, 'node')
    expect(lines.length).toBeGreaterThan(0)
    expect(Object.keys(await readNodeSetFile(out)).length).toBeGreaterThan(0)
    expect(r.stderr).toMatch(/cancelled/)
  }, 90_000)

  it('bad input exits 2 with one clear line', async () => {
    const bad = await runInProcess(['crawl', '--bootnode', 'enr:garbage'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bootnode 1: not a valid ENR/)
    const noBoot = await runInProcess(['crawl', '--network', 'ethereum'])
    expect(noBoot.code).toBe(2)
    expect(noBoot.stderr).toMatch(/no bootstrap nodes/)
    const caps = await runInProcess(['crawl', '--testnet', '5', '--caps', 'teleport'])
    expect(caps.code).toBe(2)
    expect(caps.stderr).toMatch(/unknown capability "teleport"/)
    // The testnet library names its options; crawl says them with its own --testnet-* flags.
    const dead = await runInProcess(['crawl', '--testnet', '5', '--testnet-dead', '0.99'])
    expect(dead.code).toBe(2)
    expect(dead.stderr).toMatch(/--testnet-dead must be a fraction between 0 and 0\.9, got 0\.99/)
  }, 60_000)

  it('exits 4 when no bootnode answers (wrong protocol id)', async () => {
    const r = await runCli(['crawl', '--bootnode', testnet.bootnode, '--network', 'ethereum', '--request-timeout', '500', '--json'], {timeoutMs: 60_000})
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('NO_RESPONSE')
  }, 60_000)

  it('--monitor serves Prometheus metrics and tracks uptime across rounds', async () => {
    let metrics = ''
    const port = await freePort()
    const url = `http://127.0.0.1:${port}/metrics`
    const r = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--monitor', '2', '--rounds', '2', '--metrics-port', String(port), '--json'], {
      timeoutMs: 120_000,
      onSpawn: () => {
        const poll = async () => {
          for (let i = 0; i < 600 && !/waku_disc_crawl_rounds_total [12]/.test(metrics); i++) {
            metrics = await fetch(url).then((res) => res.text()).catch(() => metrics)
            await new Promise((res) => setTimeout(res, 100))
          }
        }
        void poll()
      },
    })
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.rounds).toBe(2)
    expect(r.json.perNode.length).toBeGreaterThan(40)
    const honest = new Set(testnet.nodes.filter((n) => n.role === 'honest').map((n) => n.nodeId))
    for (const n of r.json.perNode.filter((x: {nodeId: string}) => honest.has(x.nodeId))) expect(n.uptime).toBe(1)
    expect(metrics).toMatch(/waku_disc_crawl_nodes\{status="responsive"\} \d+/)
    expect(metrics).toMatch(/waku_disc_crawl_waku_nodes \d+/)
  }, 150_000)
})
