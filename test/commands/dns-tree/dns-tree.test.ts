// The dns-tree commands as a user runs them (real binary from source): --json shapes, exit codes,
// geth-identical TXT output, serve + resolve over loopback, publish with dry run and idempotence.
// Each CLI run costs a Node start plus loading the sources (seconds on a loaded 2-core machine), so
// trees that a test only needs as input are made with the library (`fixtureTree`); the CLI steps
// under test stay real runs, and independent runs against one server go in parallel.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, signTreeDirectory} from '../../../src/lib/dns/index.js'
import {writeKeystoreFile} from '../../../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../../../src/lib/nodeset/index.js'
import {parseNdjson, runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'
import {knotMissing, startKnot} from '../../helpers/knot.js'
import {startCloudflareFake} from '../../lib/dns/fakes/cloudflare.js'
import {testRecords} from '../../lib/dns/fixtures.js'
import {loadVector} from '../../helpers/vectors.js'

const vector = loadVector('dnsdisc-example-tree.json')
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-cmd-dns-'))
  await writeFile(join(dir, 'enrs.txt'), `# the EIP-1459 example nodes\n${vector.want_nodes.join('\n')}\n`)
  await writeFile(join(dir, 'key.hex'), vector.signing_key_hex, {mode: 0o600})
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** A tree directory built (and signed with the vector key unless `sign` is false) by the library, as `build` and `sign` would. */
async function fixtureTree(input: string, domain: string, out: string, options: {links?: string[]; sign?: boolean} = {}): Promise<{url?: string}> {
  await buildTreeDirectory(input, {domain, out, links: options.links ?? []})
  if (options.sign === false) return {}
  return {url: (await signTreeDirectory(out, {keyFile: join(dir, 'key.hex')})).url}
}

/** Starts `dns-tree serve` and resolves once it printed its address. */
async function serve(args: string[]): Promise<{child: ChildProcess; port: number; stop: () => Promise<number | null>}> {
  const bin = fileURLToPath(new URL('../../../bin/dev.js', import.meta.url))
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '--import', 'tsx', '--disable-warning=ExperimentalWarning', bin, 'dns-tree', 'serve', ...args], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    env: {...process.env, NO_COLOR: '1', CI: 'true'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', () => reject(new Error(`serve exited: ${out}`)))
  })
  return {
    child,
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        child.kill('SIGINT')
      }),
  }
}

describe('build → sign → txt → verify', () => {
  it('produces geth\'s example zone byte for byte', async () => {
    const tree = join(dir, 'example')
    const build = await runCli(['dns-tree', 'build', join(dir, 'enrs.txt'), '--domain', 'n', '--link', vector.want_links[0], '--out', tree, '--json'])
    expect(build.code, build.stderr).toBe(0)
    expect(build.json).toMatchObject({domain: 'n', nodes: 3, records: 6, seq: '0', input: {format: 'enr-list', nodes: 3}})
    const sign = await runCli(['dns-tree', 'sign', tree, '--key-file', join(dir, 'key.hex'), '--json'])
    expect(sign.code, sign.stderr).toBe(0)
    expect(sign.json).toMatchObject({url: vector.tree_url, seq: '1', previousSeq: '0', verified: true})
    const [txt, human, zone, verify] = await Promise.all([
      runInProcess(['dns-tree', 'txt', tree, '--json']),
      runInProcess(['dns-tree', 'txt', tree]),
      runInProcess(['dns-tree', 'txt', tree, '--zone-file', '-']),
      runInProcess(['dns-tree', 'verify', tree, '--json']),
    ])
    expect(txt.code).toBe(0)
    expect(txt.json).toEqual(vector.txt_records)
    expect(JSON.parse(human.stdout)).toEqual(vector.txt_records)
    expect(human.stdout).toContain('\n    "n": "enrtree-root:v1')
    expect(zone.stdout).toContain(`n. 1800 IN TXT "${vector.txt_records.n}"`)
    expect(verify.code).toBe(0)
    expect(verify.json).toMatchObject({ok: true, signature: 'valid', nodes: 3, url: vector.tree_url})
  })

  it('sign with a keystore JSON key and a password file; a second sign bumps seq again', async () => {
    const tree = join(dir, 'ks')
    await fixtureTree(join(dir, 'enrs.txt'), 'ks.example.org', tree, {sign: false})
    await writeKeystoreFile(join(dir, 'ks.json'), Uint8Array.from(Buffer.from(vector.signing_key_hex, 'hex')), 'pw123', {scryptN: 1024})
    await writeFile(join(dir, 'pw'), 'pw123\n', {mode: 0o600})
    const r1 = await runInProcess(['dns-tree', 'sign', tree, '--key-file', join(dir, 'ks.json'), '--password-file', join(dir, 'pw'), '--json'])
    expect(r1.code, r1.stdout + r1.stderr).toBe(0)
    expect(r1.json.url).toBe(vector.tree_url.replace('@n', '@ks.example.org'))
    const r2 = await runInProcess(['dns-tree', 'sign', tree, '--key-file', join(dir, 'key.hex'), '--json'])
    expect(r2.json).toMatchObject({previousSeq: '1', seq: '2'})
    await writeFile(join(dir, 'wrongpw'), 'nope\n', {mode: 0o600})
    const bad = await runInProcess(['dns-tree', 'sign', tree, '--key-file', join(dir, 'ks.json'), '--password-file', join(dir, 'wrongpw')])
    expect(bad.code).toBe(6)
  })

  it('verify exits 3 for a tree changed after signing, and txt refuses it', async () => {
    const tree = join(dir, 'tampered')
    await fixtureTree(join(dir, 'enrs.txt'), 'n', tree)
    const nodes = JSON.parse(await readFile(join(tree, 'nodes.json'), 'utf8'))
    delete nodes[Object.keys(nodes)[0]!]
    await writeFile(join(tree, 'nodes.json'), JSON.stringify(nodes, null, 4))
    const verify = await runInProcess(['dns-tree', 'verify', tree, '--json'])
    expect(verify.code).toBe(3)
    expect(verify.json).toMatchObject({ok: false, signature: 'invalid', problems: [{code: 'DNS_INVALID_SIG'}]})
    const txt = await runInProcess(['dns-tree', 'txt', tree])
    expect(txt.code).toBe(3)
    expect(txt.stderr).toMatch(/invalid signature on tree/)
  })

  it('bad input: an unparsable record names file:line (exit 2); --lenient skips it', async () => {
    await writeFile(join(dir, 'bad.txt'), `${vector.want_nodes[0]}\nenr:not-a-record\n`)
    const [r, lenient, caps] = await Promise.all([
      runInProcess(['dns-tree', 'build', join(dir, 'bad.txt'), '--domain', 'x.org', '--out', join(dir, 'bad-tree')]),
      runInProcess(['dns-tree', 'build', join(dir, 'bad.txt'), '--domain', 'x.org', '--out', join(dir, 'lenient-tree'), '--lenient', '--json']),
      runInProcess(['dns-tree', 'build', join(dir, 'enrs.txt'), '--domain', 'x.org', '--out', join(dir, 'caps-tree'), '--caps', 'relay,teleport']),
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${join(dir, 'bad.txt')}:2:`)
    expect(lenient.code).toBe(0)
    expect(lenient.json.nodes).toBe(1)
    expect(lenient.json.input.skipped).toHaveLength(1)
    expect(caps.code).toBe(2)
  })

  it('build filters crawler NDJSON by Waku fields', async () => {
    const recs = testRecords(10, (i) => (i < 6 ? {waku2: i % 2 ? ['relay', 'store'] : ['relay'], cluster: 1, shards: [i]} : {}))
    await writeFile(join(dir, 'crawl.ndjson'), recs.map((r) => JSON.stringify({enr: r.text, nodeId: r.nodeId})).join('\n') + '\n')
    const r = await runInProcess(['dns-tree', 'build', join(dir, 'crawl.ndjson'), '--domain', 'w.example.org', '--out', join(dir, 'w'), '--caps', 'store', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json).toMatchObject({nodes: 3, input: {format: 'ndjson', nodes: 10}})
    expect(r.json.filtered).toEqual({minScore: 0, minAge: 0, record: 7, limit: 0})
  })
})

describe('serve → resolve / verify / diff over loopback', () => {
  // Ten CLI processes (serve + nine in parallel): on a loaded 2-core machine that alone can take close to a minute.
  it('resolves what serve serves; random descent; stats; nodes.json out', {timeout: 120_000}, async () => {
    const tree = join(dir, 'served')
    await writeFile(join(dir, 'served.json'), formatNodeSet(nodeSetFromRecords(testRecords(30))))
    const url = (await fixtureTree(join(dir, 'served.json'), 'served.example.org', tree)).url!
    const server = await serve([tree, '--listen', '127.0.0.1:0', '--delay', '5'])
    try {
      const server_ = `127.0.0.1:${server.port}`
      // One full resolve with every output option; --state remembers the seq, --decode adds Waku fields.
      // A second state file already holds seq 5, so the same (older) tree is refused as a replay.
      const state = join(dir, 'seen.json')
      const replayState = join(dir, 'seen-5.json')
      await writeFile(replayState, JSON.stringify({[url]: '5'}))
      const wrongKey = url.replace(/^enrtree:\/\/[A-Z2-7]+@/, `${vector.want_links[0].split('@')[0]}@`)
      // diff: the live tree against an unsigned rebuild with fewer nodes, same seq → warning.
      const next = join(dir, 'next')
      await writeFile(join(dir, 'next.json'), formatNodeSet(nodeSetFromRecords(testRecords(30).slice(5))))
      await fixtureTree(join(dir, 'next.json'), 'served.example.org', next, {sign: false})
      const [r, enrs, ndjson, random, verify, bad, rollback, replay, diff] = await Promise.all([
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--json', '--nodes-out', join(dir, 'resolved.json'), '--state', state, '--decode']),
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--format', 'enr']),
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--ndjson']),
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--random', '4', '--json']),
        runInProcess(['dns-tree', 'verify', url, '--server', server_, '--json']),
        runInProcess(['dns-tree', 'resolve', wrongKey, '--server', server_]),
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--min-seq', '99', '--json']),
        runInProcess(['dns-tree', 'resolve', url, '--server', server_, '--state', replayState]),
        runInProcess(['dns-tree', 'diff', url, next, '--server', server_, '--json']),
      ])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.nodes).toHaveLength(30)
      expect(r.json.complete).toBe(true)
      expect(r.json.exitCode).toBe(0)
      // 30 leaves in branches of 13+13+4 under one top branch, plus the empty link root.
      expect(r.json.stats).toMatchObject({entries: 35, depth: 3})
      expect(r.json.stats.queries).toBeGreaterThanOrEqual(34)
      const back = JSON.parse(await readFile(join(dir, 'resolved.json'), 'utf8'))
      expect(Object.keys(back).sort()).toEqual(Object.keys(JSON.parse(await readFile(join(tree, 'nodes.json'), 'utf8'))).sort())
      expect(r.json.decoded).toHaveLength(30)
      expect(r.json.decoded[0]).toMatchObject({nodeId: r.json.nodes[0].nodeId, udp: expect.any(Number)})
      expect(JSON.parse(await readFile(state, 'utf8'))).toEqual({[url]: '1'})
      expect(enrs.stdout.trim().split('\n')).toHaveLength(30)
      const stream = parseNdjson(ndjson.stdout)
      expect(stream.filter((l) => l.type === 'node')).toHaveLength(30)
      expect(stream.at(-1)).toMatchObject({type: 'summary', nodes: 30, complete: true, exitCode: 0})
      expect(stream.at(-1)).not.toHaveProperty('txt')
      expect(random.json).toMatchObject({mode: 'random'})
      expect(random.json.nodes).toHaveLength(4)
      expect(verify.code).toBe(0)
      expect(verify.json).toMatchObject({kind: 'url', ok: true, nodes: 30})
      expect(bad.code).toBe(3)
      expect(bad.stderr).toMatch(/DNS_INVALID_SIG/)
      expect(rollback.code).toBe(3)
      expect(rollback.json.error.code).toBe('DNS_SEQ_ROLLBACK')
      expect(replay.code).toBe(3)
      expect(replay.stderr).toMatch(/DNS_SEQ_ROLLBACK/)
      expect(JSON.parse(await readFile(replayState, 'utf8'))).toEqual({[url]: '5'})
      expect(diff.code, diff.stderr).toBe(0)
      expect(diff.json.nodes.removed).toHaveLength(5)
      expect(diff.json.warnings.join('\n')).toMatch(/seq does not increase/)
      expect(diff.json.records.delete.length).toBeGreaterThanOrEqual(5)
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })

  it('exit 4 when the server cannot be reached', async () => {
    const r = await runInProcess(['dns-tree', 'resolve', vector.tree_url, '--server', '127.0.0.1:9', '--query-timeout', '200', '--json'])
    expect(r.code).toBe(4)
    expect(r.json.error.exitCode).toBe(4)
  })

  it('a malformed URL is bad input (exit 2)', async () => {
    const r = await runInProcess(['dns-tree', 'resolve', 'enrtree://nodes.example.org', '--server', '127.0.0.1:9'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/missing public key/)
  })
})

describe('publish', () => {
  it('zone file: dry run changes nothing, publish writes a marked block, a rerun changes nothing', async () => {
    const tree = join(dir, 'zf-example')
    await fixtureTree(join(dir, 'enrs.txt'), 'n', tree, {links: [vector.want_links[0]]})
    const zone = join(dir, 'n.zone')
    await writeFile(zone, 'n. 60 IN SOA ns.n. host.n. 7 3600 600 86400 60\nn. 60 IN TXT "v=spf1 -all"\n')
    const dry = await runInProcess(['dns-tree', 'publish', tree, '--to', 'zone-file', '--zone-file', zone, '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.json.changes.create).toHaveLength(6)
    expect(await readFile(zone, 'utf8')).not.toContain('enrtree')
    const r = await runInProcess(['dns-tree', 'publish', tree, '--to', 'zone-file', '--zone-file', zone, '--bump-serial', '--json'])
    expect(r.json).toMatchObject({complete: true})
    const text = await readFile(zone, 'utf8')
    expect(text).toContain('n. 60 IN SOA ns.n. host.n. 8 ')
    expect(text).toContain('n. 60 IN TXT "v=spf1 -all"')
    expect(text).toContain(vector.txt_records['2XS2367YHAXJFGLZHVAWLQD4ZY.n'])
    const again = await runInProcess(['dns-tree', 'publish', tree, '--to', 'zone-file', '--zone-file', zone, '--json'])
    expect(again.json.changes).toEqual({create: [], update: [], delete: []})
  })

  // The end-to-end proof stays all CLI (build, sign, publish, resolve, verify, publish again): six sequential starts.
  it.skipIf(knotMissing !== undefined && process.env.CI !== 'true')('rfc2136 into a real knotd, then resolve through it: the same node set, verified', {timeout: 120_000}, async () => {
    const knot = await startKnot({zone: 'example.org'})
    try {
      const recs = testRecords(25, (i) => ({waku2: ['relay'], cluster: 1, shards: [i % 8]}))
      await writeFile(join(dir, 'knot-nodes.json'), formatNodeSet(nodeSetFromRecords(recs)))
      const tree = join(dir, 'knot-tree')
      const built = await runInProcess(['dns-tree', 'build', join(dir, 'knot-nodes.json'), '--domain', 'fleet.example.org', '--out', tree])
      expect(built.code, built.stderr).toBe(0)
      const signed = await runInProcess(['dns-tree', 'sign', tree, '--key-file', join(dir, 'key.hex'), '--json'])
      expect(signed.code, signed.stdout + signed.stderr).toBe(0)
      const url = signed.json.url
      await writeFile(join(dir, 'tsig.key'), `key "${knot.tsig.name}" {\n  algorithm hmac-sha256;\n  secret "${knot.tsig.secret}";\n};\n`)
      const pub = await runInProcess(['dns-tree', 'publish', tree, '--to', 'rfc2136', '--server', knot.address, '--tsig-key-file', join(dir, 'tsig.key'), '--json'])
      expect(pub.code, pub.stdout + pub.stderr).toBe(0)
      expect(pub.json).toMatchObject({complete: true})
      expect(pub.stdout + pub.stderr).not.toContain(knot.tsig.secret)
      const [r, verify] = await Promise.all([
        runInProcess(['dns-tree', 'resolve', url, '--server', knot.address, '--json']),
        runInProcess(['dns-tree', 'verify', url, '--server', knot.address]),
      ])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.nodes.map((n: {enr: string}) => n.enr).sort()).toEqual(recs.map((x) => x.text).sort())
      expect(verify.code).toBe(0)
      const again = await runInProcess(['dns-tree', 'publish', tree, '--to', 'rfc2136', '--server', knot.address, '--tsig-key-file', join(dir, 'tsig.key'), '--json'])
      expect(again.json.changes).toEqual({create: [], update: [], delete: []})
    } finally {
      await knot.stop()
    }
  })

  it('cloudflare through the fake: the token comes from the environment and is never printed', async () => {
    const cf = await startCloudflareFake({zones: ['example.org']})
    try {
      const tree = join(dir, 'cf')
      await fixtureTree(join(dir, 'enrs.txt'), 'nodes.example.org', tree)
      const env = {CLOUDFLARE_API_TOKEN: cf.token}
      const r = await runInProcess(['dns-tree', 'publish', tree, '--to', 'cloudflare', '--api-url', cf.url, '--json', '-v'], {env})
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.complete).toBe(true)
      expect(cf.records.size).toBe(6)
      expect(r.stdout + r.stderr).not.toContain(cf.token)
      const noToken = await runInProcess(['dns-tree', 'publish', tree, '--to', 'cloudflare', '--api-url', cf.url], {env: {CLOUDFLARE_API_TOKEN: ''}})
      expect(noToken.code).toBe(6)
    } finally {
      await cf.close()
    }
  })
})
