// End to end against a real Knot DNS server (knotd) on loopback: build → sign → publish by
// RFC 2136 with TSIG (and by zone file) → resolve through knotd → the same node set, verified.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {resolveTree} from '../../../src/lib/dns/client.js'
import {buildTreeDirectory, signTreeDirectory} from '../../../src/lib/dns/directory.js'
import {Rfc2136Target, ZoneFileTarget, parseTsigKey, publishTree} from '../../../src/lib/dns/publish/index.js'
import {ServerTxtResolver} from '../../../src/lib/dns/resolvers.js'
import {writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../../../src/lib/nodeset/index.js'
import {knotMissing, startKnot, type KnotServer} from '../../helpers/knot.js'
import {testKey, testRecords} from './fixtures.js'

const skip = knotMissing !== undefined && process.env.CI !== 'true'
if (skip) console.warn(`skipping Knot tests: ${knotMissing}`)

describe.skipIf(skip)('publish to a real Knot DNS server', () => {
  let dir: string
  let knot: KnotServer | undefined
  const records = testRecords(60, (i) => (i % 2 ? {waku2: ['relay', 'store'], cluster: 1, shards: [i % 8]} : {}))
  const domain = 'nodes.example.org'

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waku-disc-knot-test-'))
    await writeHexKeyFile(join(dir, 'key.hex'), testKey(4242))
    await writeFile(join(dir, 'nodes.json'), formatNodeSet(nodeSetFromRecords(records)))
  })
  afterEach(async () => {
    await knot?.stop()
    knot = undefined
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('RFC 2136 with TSIG: publish, resolve through knotd, republish idempotently, then a new tree replaces the old safely', async () => {
    knot = await startKnot({zone: 'example.org', records: ['example.org. 300 IN TXT "v=spf1 -all"', 'othernodes.example.org. 300 IN TXT "enrtree-root:v1 keep me"', `ABCDEFGHIJKLMNOPQRSTUVWXYZ.other.example.org. 300 IN TXT "enr:keep"`]})
    const tree = join(dir, 'rfc')
    await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: tree, filter: {wakuOnly: true}})
    const signed = await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex')})
    const key = parseTsigKey(knot.tsig.line)
    const target = (): Rfc2136Target => new Rfc2136Target({server: knot!.address, key})

    const first = await publishTree(tree, target())
    expect(first.complete, JSON.stringify(first)).toBe(true)
    expect(first.changes.delete).toEqual([])
    expect(first.changes.create).toHaveLength(signed.records)

    const resolver = new ServerTxtResolver({host: knot.host, port: knot.port})
    try {
      const result = await resolveTree(signed.url, {resolver})
      expect(result.nodes.map((n) => n.enr).sort()).toEqual(records.filter((_, i) => i % 2).map((r) => r.text).sort())
      expect(result.problems).toEqual([])

      const again = await publishTree(tree, target())
      expect(again.changes).toEqual({create: [], update: [], delete: []})
      expect(again.complete).toBe(true)

      // A new tree (all 60 nodes): new entries, root switch, stale ones deleted; foreign records untouched.
      await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: tree})
      await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex')})
      const second = await publishTree(tree, target())
      expect(second.complete).toBe(true)
      expect(second.changes.update.map((c) => c.name)).toEqual([domain])
      expect(second.changes.delete.length).toBeGreaterThan(0)
      expect(second.phases.map((p) => p.status)).toEqual(['done', 'done', 'done'])
      const after = await resolveTree(signed.url, {resolver})
      expect(after.nodes).toHaveLength(60)
      expect(after.seq).toBe('2')
      expect(await resolver.resolveTxt('example.org')).toEqual(['v=spf1 -all'])
      expect(await resolver.resolveTxt('othernodes.example.org')).toEqual(['enrtree-root:v1 keep me'])
      expect(await resolver.resolveTxt('ABCDEFGHIJKLMNOPQRSTUVWXYZ.other.example.org')).toEqual(['enr:keep'])
      // Every stale name is gone.
      for (const c of second.changes.delete) expect(await resolver.resolveTxt(c.name)).toEqual([])

      // Rollback refused: re-signing with a lower seq and publishing fails before any write.
      await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex'), seq: 1n})
      await expect(publishTree(tree, target())).rejects.toMatchObject({code: 'DNS_SEQ_NOT_INCREASING', exitCode: 3})
    } finally {
      await resolver.close()
    }
  })

  it('the root switch is a compare-and-swap: a concurrent publisher makes it fail instead of being overwritten', async () => {
    knot = await startKnot({zone: 'example.org'})
    const key = parseTsigKey(knot.tsig.line)
    const t1 = join(dir, 'cas1')
    const t2 = join(dir, 'cas2')
    await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: t1, filter: {limit: 10}})
    await signTreeDirectory(t1, {keyFile: join(dir, 'key.hex')})
    expect((await publishTree(t1, new Rfc2136Target({server: knot.address, key}))).complete).toBe(true)
    const slow = new Rfc2136Target({server: knot.address, key})
    const seen = await slow.list(domain)
    const oldRoot = seen.find((r) => r.name === domain)!
    // Meanwhile another publisher switches the root.
    await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: t2, filter: {limit: 20}})
    await signTreeDirectory(t2, {keyFile: join(dir, 'key.hex'), seq: 7n})
    expect((await publishTree(t2, new Rfc2136Target({server: knot.address, key}))).complete).toBe(true)
    await expect(slow.apply('root', [{action: 'update', name: domain, value: oldRoot.value.replace('seq=1', 'seq=2'), ttl: 1800, old: oldRoot}])).rejects.toMatchObject({code: 'DNS_CONCURRENT_UPDATE'})
    await slow.close()
  })

  it('a wrong TSIG secret is refused by knotd with a configuration error', async () => {
    knot = await startKnot({zone: 'example.org'})
    const tree = join(dir, 'bad')
    await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: tree})
    await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex')})
    const key = parseTsigKey(`hmac-sha256:${knot.tsig.name}:${Buffer.alloc(32, 1).toString('base64')}`)
    const report = publishTree(tree, new Rfc2136Target({server: knot.address, key}))
    await expect(report).resolves.toMatchObject({complete: false, error: {code: 'DNS_TSIG_REJECTED', exitCode: 6}})
  })

  it('zone file: publish into a zone knotd loads, then resolve through it', async () => {
    knot = await startKnot({zone: 'example.org'})
    const tree = join(dir, 'zf')
    await buildTreeDirectory(join(dir, 'nodes.json'), {domain, out: tree})
    const signed = await signTreeDirectory(tree, {keyFile: join(dir, 'key.hex')})
    const report = await publishTree(tree, new ZoneFileTarget({path: knot.zoneFile, bumpSerial: true}))
    expect(report.complete).toBe(true)
    const again = await publishTree(tree, new ZoneFileTarget({path: knot.zoneFile, bumpSerial: true}))
    expect(again.changes).toEqual({create: [], update: [], delete: []})
    await knot.reload()
    const resolver = new ServerTxtResolver({host: knot.host, port: knot.port})
    try {
      const result = await resolveTree(signed.url, {resolver})
      expect(result.nodes).toHaveLength(60)
      expect(result.stats.tcpFallbacks).toBe(0)
    } finally {
      await resolver.close()
    }
  })
})
