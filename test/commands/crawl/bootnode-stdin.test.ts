// `crawl --bootnode - < nodes.json` and `crawl --bootnode nodes.json` go through the same record
// reader (src/lib/input/records.ts): the same bootnodes, the same crawl.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseEnr} from '../../../src/lib/enr/index.js'
import {nodeSetFromRecords, readNodeSetFile, writeNodeSetFile} from '../../../src/lib/nodeset/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {runCli} from '../../helpers/cli.js'

let testnet: Testnet
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-bootnode-stdin-'))
  // No dead or lying nodes: every crawl of this network finds the same nodes.
  testnet = await startTestnet({nodes: 30, dead: 0, liars: 0, workers: 0, seed: 47})
}, 60_000)

afterAll(async () => {
  await testnet?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('crawl --bootnode - < nodes.json', () => {
  it('bootstraps and crawls exactly as --bootnode nodes.json does', async () => {
    const nodes = join(dir, 'nodes.json')
    await writeNodeSetFile(nodes, nodeSetFromRecords(testnet.nodes.slice(0, 4).map((n) => parseEnr(n.enr))))
    const crawl = (bootnode: string, out: string, stdin?: string) =>
      runCli(['crawl', '--bootnode', bootnode, '--strategy', 'census', '--no-visit', '--out', out, '--json'], {timeoutMs: 120_000, ...(stdin !== undefined ? {stdin} : {})})
    const [fromFile, fromStdin] = await Promise.all([crawl(nodes, join(dir, 'file.json')), crawl('-', join(dir, 'stdin.json'), readFileSync(nodes, 'utf8'))])
    for (const r of [fromFile, fromStdin]) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.state).toBe('complete')
    }
    expect(fromStdin.json.bootnodes).toBe(4)
    expect(fromStdin.json.bootnodes).toBe(fromFile.json.bootnodes)
    expect(fromStdin.json.counts.responsive).toBe(testnet.counts.live)
    expect(fromStdin.json.counts).toEqual(fromFile.json.counts)
    const [a, b] = await Promise.all([readNodeSetFile(join(dir, 'file.json')), readNodeSetFile(join(dir, 'stdin.json'))])
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort())
  }, 180_000)
})
