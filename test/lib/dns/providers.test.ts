// Cloudflare and Route53 publishing against faithful local fakes of their documented APIs (the
// real ones cannot be reached here): order of phases, idempotence, 429/5xx/throttling retries,
// pagination, partial failure and completion on rerun, never touching foreign records.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, signTreeDirectory} from '../../../src/lib/dns/directory.js'
import {CloudflareTarget, Route53Target, publishTree, splitRoute53Changes, type Route53Change} from '../../../src/lib/dns/publish/index.js'
import {writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../../../src/lib/nodeset/index.js'
import {startCloudflareFake, seedCloudflare, type CloudflareFake} from './fakes/cloudflare.js'
import {startRoute53Fake, seedRoute53, type Route53Fake} from './fakes/route53.js'
import {testKey, testRecords} from './fixtures.js'
import type {EnrRecord} from '../../../src/lib/enr/index.js'
import {loadVector} from '../../helpers/vectors.js'

const fast = {retries: 4, backoffMs: 5}

let dir: string
let n = 0
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-providers-'))
  await writeHexKeyFile(join(dir, 'key.hex'), testKey(777))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function treeDir(records: EnrRecord[], domain: string, options: {links?: string[]; seq?: bigint; key?: string; into?: string} = {}): Promise<string> {
  const out = options.into ?? join(dir, `tree${n++}`)
  const input = join(dir, `nodes${n++}.json`)
  await writeFile(input, formatNodeSet(nodeSetFromRecords(records)))
  await buildTreeDirectory(input, {domain, out, links: options.links ?? []})
  await signTreeDirectory(out, {keyFile: options.key ?? join(dir, 'key.hex'), ...(options.seq !== undefined ? {seq: options.seq} : {})})
  return out
}

const pool = testRecords(160)
const domain = 'nodes.example.org'

describe('Cloudflare', () => {
  let cf: CloudflareFake
  afterEach(async () => cf?.close())
  const target = (extra: Partial<ConstructorParameters<typeof CloudflareTarget>[0]> = {}): CloudflareTarget => new CloudflareTarget({token: cf.token, apiUrl: cf.url, http: fast, ...extra})
  const writes = (from = 0): Array<{method: string; path: string}> => cf.log.slice(from).filter((l) => l.method !== 'GET' && l.status === 200)

  it('publishes new entries, then the root; a rerun changes nothing; foreign and sibling records untouched', async () => {
    cf = await startCloudflareFake({zones: ['example.org']})
    seedCloudflare(cf, 'example.org', 'v=spf1 -all')
    seedCloudflare(cf, 'othernodes.example.org', 'enrtree-root:v1 e=AAAAAAAAAAAAAAAAAAAAAAAAAA l=AAAAAAAAAAAAAAAAAAAAAAAAAA seq=1 sig=x')
    seedCloudflare(cf, 'aaaaaaaaaaaaaaaaaaaaaaaaaa.othernodes.example.org', 'enr:-sibling')
    seedCloudflare(cf, domain, 'google-site-verification=abc')
    const tree = await treeDir(pool.slice(0, 30), domain)
    const report = await publishTree(tree, target())
    expect(report.complete).toBe(true)
    expect(report.foreign).toBe(1)
    const posts = writes().map((w) => (w as any).body?.name)
    expect(posts.at(-1)).toBe(domain) // the root comes last
    expect(posts.slice(0, -1).every((name) => name !== domain)).toBe(true)
    expect(cf.byName(domain).map((r) => r.content).sort()).toEqual(['google-site-verification=abc', report.changes.create.find((c) => c.name === domain)!.value].sort())
    expect(cf.byName('example.org')).toHaveLength(1)
    expect(cf.byName('othernodes.example.org')).toHaveLength(1)
    expect(cf.byName('aaaaaaaaaaaaaaaaaaaaaaaaaa.othernodes.example.org')).toHaveLength(1)
    for (const c of report.changes.create) expect(c.ttl).toBe(c.name === domain ? 1800 : 86400)

    const before = cf.log.length
    const again = await publishTree(tree, target())
    expect(again.changes).toEqual({create: [], update: [], delete: []})
    expect(writes(before)).toEqual([])
  })

  it('an update creates first, switches the root, deletes stale last; paginated listing keeps a rerun idempotent', async () => {
    cf = await startCloudflareFake()
    const tree = join(dir, 'cf-update')
    await treeDir(pool.slice(0, 120), domain, {into: tree})
    expect((await publishTree(tree, target())).complete).toBe(true)
    expect(cf.records.size).toBeGreaterThan(100) // more than one page
    await treeDir(pool.slice(40, 160), domain, {into: tree})
    const start = cf.log.length
    const report = await publishTree(tree, target())
    expect(report.complete).toBe(true)
    const w = writes(start)
    const firstPatch = w.findIndex((x) => x.method === 'PATCH')
    const lastPost = w.map((x) => x.method).lastIndexOf('POST')
    const firstDelete = w.findIndex((x) => x.method === 'DELETE')
    expect(lastPost).toBeLessThan(firstPatch)
    expect(firstPatch).toBeLessThan(firstDelete)
    expect(w.filter((x) => x.method === 'PATCH')).toHaveLength(1)
    expect(cf.log.slice(start).filter((l) => l.method === 'GET' && l.path.includes('page=2')).length).toBeGreaterThan(0)
    const again = await publishTree(tree, target())
    expect(again.changes).toEqual({create: [], update: [], delete: []})
  })

  it('429 with Retry-After and 5xx are retried with backoff', async () => {
    cf = await startCloudflareFake()
    cf.faults.add({match: (m) => m === 'POST', status: 429, retryAfter: '1', times: 1})
    cf.faults.add({match: (m) => m === 'POST', status: 429, retryAfter: new Date(Date.now() - 1000).toUTCString(), times: 1})
    cf.faults.add({match: (m) => m === 'GET', status: 503, times: 2})
    const retries: number[] = []
    const waits: number[] = []
    const tree = await treeDir(pool.slice(0, 5), domain)
    const report = await publishTree(tree, target({http: {...fast, onRetry: (r) => {
      retries.push(r.status ?? 0)
      if (r.status === 429) waits.push(r.waitMs)
    }}}))
    expect(report.complete).toBe(true)
    // Retry-After in seconds is obeyed exactly; an HTTP date in the past means retry now.
    expect(waits).toEqual([1000, 0])
    expect(retries.filter((s) => s === 429)).toHaveLength(2)
    expect(retries.filter((s) => s === 503)).toHaveLength(2)
    expect(cf.log.filter((l) => l.status === 429).length).toBe(2)
  })

  it('a persistent failure mid-publish is reported (root not switched), and a rerun completes it', async () => {
    cf = await startCloudflareFake()
    const tree = join(dir, 'cf-partial')
    await treeDir(pool.slice(0, 20), domain, {into: tree})
    await publishTree(tree, target())
    const oldRoot = cf.byName(domain)[0]!.content
    await treeDir(pool.slice(10, 40), domain, {into: tree})
    cf.faults.add({match: (m) => m === 'POST', status: 500, times: Infinity, after: 5})
    const report = await publishTree(tree, target({concurrency: 1}))
    expect(report.complete).toBe(false)
    expect(report.error).toMatchObject({code: 'DNS_API_UNAVAILABLE', exitCode: 4})
    expect(report.phases.map((p) => p.status)).toEqual(['failed', 'not started', 'not started'])
    expect(cf.byName(domain)[0]!.content).toBe(oldRoot)
    cf.faults.clear()
    const rerun = await publishTree(tree, target())
    expect(rerun.complete).toBe(true)
    expect(rerun.changes.create.length).toBe(report.changes.create.length - 5)
    expect(cf.byName(domain)[0]!.content).not.toBe(oldRoot)
    expect((await publishTree(tree, target())).changes).toEqual({create: [], update: [], delete: []})
  })

  it('a wrong token is a configuration error that does not print the token', async () => {
    cf = await startCloudflareFake()
    const tree = await treeDir(pool.slice(0, 3), domain)
    const secret = 'not-the-token-0123456789'
    const error = await publishTree(tree, target({token: secret})).catch((e) => e)
    expect(error).toMatchObject({code: 'DNS_API_AUTH', exitCode: 6})
    expect(JSON.stringify(error.toJSON())).not.toContain(secret)
  })
})

describe('Route53', () => {
  let r53: Route53Fake
  afterEach(async () => r53?.close())
  const target = (extra: Partial<ConstructorParameters<typeof Route53Target>[0]> = {}): Route53Target =>
    new Route53Target({accessKeyId: r53.accessKeyId, secretAccessKey: r53.secretAccessKey, apiUrl: r53.url, pollMs: 1, http: fast, ...extra})

  it('geth change order, TTLs and quoting for the EIP-1459 example (dnsdisc-route53-changes.json)', async () => {
    const v = loadVector('dnsdisc-route53-changes.json')
    const ex = loadVector('dnsdisc-example-tree.json')
    r53 = await startRoute53Fake({zone: 'n'})
    for (const [name, set] of Object.entries(v.existing_testTree0) as any) seedRoute53(r53, name, set.ttl, set.values)
    const kdir = join(dir, 'ex-key')
    await writeHexKeyFile(kdir, Uint8Array.from(Buffer.from(ex.signing_key_hex, 'hex')))
    const {parseEnr} = await import('../../../src/lib/enr/index.js')
    const tree = await treeDir(ex.want_nodes.map((t: string) => parseEnr(t)), 'n', {links: ex.want_links, seq: 1n, key: kdir})
    const report = await publishTree(tree, target())
    expect(report.complete).toBe(true)
    const submitted = r53.batches.flatMap((b) => b.changes)
    expect(submitted).toEqual(v.want_changes_in_order.map((c: any) => ({action: c.action, name: c.name, ttl: c.ttl, values: c.values})))
    // Each phase waited for INSYNC before the next was submitted.
    expect(r53.batches.map((b) => b.changes[0]!.action)).toEqual(['CREATE', 'UPSERT', 'DELETE'])
    expect(r53.batches.every((b) => b.pollsUntilInsync >= 1)).toBe(true)
    // And geth's splitter on the same list.
    const changes = v.want_changes_in_order as Route53Change[]
    const ranges = (batches: Route53Change[][]): number[][] => {
      let i = 0
      return batches.map((b) => [i, (i += b.length)])
    }
    expect(ranges(splitRoute53Changes(changes, v.split_by_size.sizeLimit, v.split_by_size.countLimit))).toEqual(v.split_by_size.want_batches_as_index_ranges)
    expect(ranges(splitRoute53Changes(changes, v.split_by_count.sizeLimit, v.split_by_count.countLimit))).toEqual(v.split_by_count.want_batches_as_index_ranges)
    const before = r53.batches.length
    expect((await publishTree(tree, target())).changes).toEqual({create: [], update: [], delete: []})
    expect(r53.batches.length).toBe(before)
  })

  it('publishing the example leaves the record sets of geth\'s no-change case (values quoted, TTLs)', async () => {
    const v = loadVector('dnsdisc-route53-changes.json')
    const ex = loadVector('dnsdisc-example-tree.json')
    r53 = await startRoute53Fake({zone: 'n'})
    const kdir = join(dir, 'ex-key2')
    await writeHexKeyFile(kdir, Uint8Array.from(Buffer.from(ex.signing_key_hex, 'hex')))
    const {parseEnr} = await import('../../../src/lib/enr/index.js')
    const tree = await treeDir(ex.want_nodes.map((t: string) => parseEnr(t)), 'n', {links: ex.want_links, seq: 1n, key: kdir})
    const t = target()
    await publishTree(tree, t)
    const state = [...r53.sets.values()]
    expect(state.find((s) => s.name === 'n')!.values).toEqual(v.no_change_case.existing.n.values)
    expect(state.find((s) => s.name === '2xs2367yhaxjfglzhvawlqd4zy.n')).toMatchObject(v.no_change_case.existing['2xs2367yhaxjfglzhvawlqd4zy.n'])
  })

  it('pagination over 300 record sets, throttling and 5xx retried, other TXT values at the apex kept', async () => {
    r53 = await startRoute53Fake({zone: 'example.org', pendingPolls: 2})
    seedRoute53(r53, domain, 300, ['"v=spf1 -all"'])
    seedRoute53(r53, 'zzz.example.org', 300, ['"unrelated"'])
    const tree = join(dir, 'r53-big')
    const big = testRecords(330)
    await treeDir(big.slice(0, 300), domain, {into: tree})
    r53.faults.add({match: (m) => m === 'POST', status: 400, code: 'Throttling', times: 1})
    r53.faults.add({match: (m, p) => m === 'GET' && p.includes('/change/'), status: 503, times: 1})
    r53.faults.add({match: (m) => m === 'POST', status: 400, code: 'PriorRequestNotComplete', times: 1, after: 1})
    const first = await publishTree(tree, target())
    expect(first.complete).toBe(true)
    expect(r53.log.filter((l) => l.code === 'Throttling' || l.code === 'PriorRequestNotComplete')).toHaveLength(2)
    expect(r53.sets.get(`${domain}|TXT`)!.values[0]).toBe('"v=spf1 -all"')
    expect(r53.sets.size).toBeGreaterThan(300)
    await treeDir(big.slice(30, 330), domain, {into: tree})
    const listedBefore = r53.log.filter((l) => l.method === 'GET' && l.path.endsWith('/rrset')).length
    const second = await publishTree(tree, target())
    expect(second.complete).toBe(true)
    expect(r53.log.filter((l) => l.method === 'GET' && l.path.endsWith('/rrset')).length - listedBefore).toBeGreaterThanOrEqual(2)
    expect(second.changes.delete.length).toBeGreaterThan(0)
    const before = r53.batches.length
    expect((await publishTree(tree, target())).changes).toEqual({create: [], update: [], delete: []})
    expect(r53.batches.length).toBe(before)
    expect(r53.sets.get(`${domain}|TXT`)!.values).toHaveLength(2)
    expect(r53.sets.get('zzz.example.org|TXT')!.values).toEqual(['"unrelated"'])
  })

  it('wrong secret: the fake rejects the SigV4 signature, a configuration error', async () => {
    r53 = await startRoute53Fake()
    const tree = await treeDir(pool.slice(0, 3), domain)
    await expect(publishTree(tree, target({secretAccessKey: 'wrong'}))).rejects.toMatchObject({code: 'DNS_API_AUTH', exitCode: 6})
  })
})
