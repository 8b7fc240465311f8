import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, serveTreeDirectories, signTreeDirectory, type DnsServerHandle} from '../../../src/lib/dns/index.js'
import {parseEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey, writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {writeNodeSetFile} from '../../../src/lib/nodeset/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {runCli} from '../../helpers/cli.js'

const parseEnrSeq = (text: string) => parseEnr(text).seq

let testnet: Testnet
let server: DnsServerHandle
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-enrtree-'))
  testnet = await startTestnet({nodes: 40, dead: 0.1, workers: 0, seed: 31})
  // Publish the testnet's live nodes as an EIP-1459 tree served on loopback.
  const nodes = join(dir, 'nodes.json')
  await writeNodeSetFile(nodes, Object.fromEntries(testnet.nodes.filter((n) => n.live).map((n) => [n.nodeId, {seq: String(parseEnrSeq(n.enr)), record: n.enr}])))
  const tree = join(dir, 'tree')
  await buildTreeDirectory(nodes, {domain: 'nodes.testnet.example', out: tree})
  const key = join(dir, 'key.hex')
  await writeHexKeyFile(key, generatePrivateKey())
  await signTreeDirectory(tree, {keyFile: key})
  server = await serveTreeDirectories([tree], {listen: '127.0.0.1:0'})
}, 60_000)

afterAll(async () => {
  await server?.close()
  await testnet?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('crawl --enrtree', () => {
  it('bootstraps from a DNS tree resolved with the dns-tree code', async () => {
    const url = server.zones[0]!.url!
    expect(url).toMatch(/^enrtree:\/\/[A-Z2-7]+@nodes\.testnet\.example$/)
    const r = await runCli(['crawl', '--enrtree', url, '--dns-server', `${server.host}:${server.port}`, '--strategy', 'census', '--json'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.bootnodes).toBe(testnet.counts.live)
    expect(r.json.counts.responsive).toBe(testnet.counts.live)
    expect(server.stats.udp + server.stats.tcp).toBeGreaterThan(2)
  }, 120_000)
})
