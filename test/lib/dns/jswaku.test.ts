// An independent client agrees: js-waku's DnsNodeDiscovery (@waku/discovery), given a DnsClient
// that asks the same local servers, resolves trees that waku-disc built and signed — served by
// `dns-tree serve`'s server and published by RFC 2136 into a real knotd.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {DnsNodeDiscovery} from '@waku/discovery'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, signTreeDirectory} from '../../../src/lib/dns/directory.js'
import {Rfc2136Target, parseTsigKey, publishTree} from '../../../src/lib/dns/publish/index.js'
import {ServerTxtResolver} from '../../../src/lib/dns/resolvers.js'
import {serveTreeDirectories} from '../../../src/lib/dns/server.js'
import {writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../../../src/lib/nodeset/index.js'
import {knotMissing, startKnot} from '../../helpers/knot.js'
import {testKey, testRecords} from './fixtures.js'

/** js-waku's DnsClient interface backed by a direct query to our server. */
function dnsClient(resolver: ServerTxtResolver): {resolveTXT: (domain: string) => Promise<string[]>} {
  return {resolveTXT: (domain) => resolver.resolveTxt(domain)}
}

const records = testRecords(12, (i) => ({waku2: i % 3 === 0 ? ['relay', 'store'] : ['relay'], cluster: 1, shards: [i % 8]}))
const domain = 'waku.example.org'
let dir: string
let tree: string
let url: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-jswaku-'))
  await writeHexKeyFile(join(dir, 'key.hex'), testKey(31337))
  await writeFile(join(dir, 'nodes.json'), formatNodeSet(nodeSetFromRecords(records)))
  tree = join(dir, 'tree')
  await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: tree})
  url = (await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex')})).url
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('js-waku DnsNodeDiscovery reads waku-disc trees', () => {
  it('through the dns-tree serve server: every peer it returns is one of ours, with the Waku fields intact', async () => {
    const server = await serveTreeDirectories([tree], {listen: '127.0.0.1:0'})
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port})
    try {
      const discovery = new DnsNodeDiscovery(dnsClient(resolver))
      const peers = await discovery.getPeers([url], {relay: 12})
      const ours = new Map(records.map((r) => [r.nodeId, r]))
      // One branch of 12 leaves: js-waku's visited set makes every descent end at a new leaf.
      expect(peers).toHaveLength(12)
      for (const peer of peers) {
        const mine = ours.get(peer.nodeId!)
        expect(mine, `unexpected node ${peer.nodeId}`).toBeDefined()
        expect(peer.waku2?.relay).toBe(true)
        expect(Boolean(peer.waku2?.store)).toBe(records.indexOf(mine!) % 3 === 0)
      }
    } finally {
      await resolver.close()
      await server.close()
    }
  })

  it('rejects the tree when the URL key is wrong (signature check agrees with ours)', async () => {
    const server = await serveTreeDirectories([tree], {listen: '127.0.0.1:0'})
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port})
    try {
      const wrong = url.replace(/^enrtree:\/\/[A-Z2-7]+@/, 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@')
      const peers = await new DnsNodeDiscovery(dnsClient(resolver)).getPeers([wrong], {relay: 3})
      expect(peers).toEqual([])
    } finally {
      await resolver.close()
      await server.close()
    }
  })

  it('a multi-level tree: js-waku 0.0.8 reaches at most one leaf per top-level branch (its visited set includes branches), waku-disc gets all', async () => {
    const many = testRecords(40, () => ({waku2: ['relay'], cluster: 1, shards: [0]}))
    await writeFile(join(dir, 'many.json'), formatNodeSet(nodeSetFromRecords(many)))
    const big = join(dir, 'big')
    await buildTreeDirectory(join(dir, 'many.json'), {domain: 'big.example.org', out: big})
    const bigUrl = (await signTreeDirectory(big, {keyFile: join(dir, 'key.hex')})).url
    const server = await serveTreeDirectories([big], {listen: '127.0.0.1:0'})
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port})
    try {
      const peers = await new DnsNodeDiscovery(dnsClient(resolver)).getPeers([bigUrl], {relay: 40})
      // 40 leaves in 4 branches (13+13+13+1) under the root branch.
      expect(peers.length).toBeGreaterThanOrEqual(1)
      expect(peers.length).toBeLessThanOrEqual(4)
      const {resolveTree} = await import('../../../src/lib/dns/client.js')
      expect((await resolveTree(bigUrl, {resolver})).nodes).toHaveLength(40)
    } finally {
      await resolver.close()
      await server.close()
    }
  })

  it.skipIf(knotMissing !== undefined && process.env.CI !== 'true')('through knotd after an RFC 2136 publish', async () => {
    const knot = await startKnot({zone: 'example.org'})
    const resolver = new ServerTxtResolver({host: knot.host, port: knot.port})
    try {
      const report = await publishTree(tree, new Rfc2136Target({server: knot.address, key: parseTsigKey(knot.tsig.line)}))
      expect(report.complete).toBe(true)
      const peers = await new DnsNodeDiscovery(dnsClient(resolver)).getPeers([url], {relay: 12})
      expect(peers).toHaveLength(12)
      const ids = new Set(records.map((r) => r.nodeId))
      for (const p of peers) expect(ids.has(p.nodeId!)).toBe(true)
    } finally {
      await resolver.close()
      await knot.stop()
    }
  })
})
