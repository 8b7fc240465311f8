import dgram from 'node:dgram'

import {afterEach, describe, expect, it} from 'vitest'

import {resolveTree, type ResolvedTree} from '../../../src/lib/dns/client.js'
import http from 'node:http'

import dnsPacket from 'dns-packet'

import {DohTxtResolver, ServerTxtResolver} from '../../../src/lib/dns/resolvers.js'
import {startDnsServer, zoneFromTxt, type DnsServerHandle} from '../../../src/lib/dns/server.js'
import {BRANCH_PREFIX, formatLink, makeTree, subdomainOf} from '../../../src/lib/dns/tree.js'
import {encodeEnr} from '../../../src/lib/enr/index.js'
import {publicKeyOf} from '../../../src/lib/keys/index.js'
import {handZone, oversizeRecordText, testKey, testRecords} from './fixtures.js'
import {loadVector} from '../../helpers/vectors.js'


const servers: DnsServerHandle[] = []
const resolvers: ServerTxtResolver[] = []
afterEach(async () => {
  await Promise.all(resolvers.splice(0).map((r) => r.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function serve(zones: Array<{domain: string; txt: Record<string, string | string[]>}>, delayMs = 0): Promise<ServerTxtResolver> {
  const server = await startDnsServer(
    zones.map((z) => zoneFromTxt(z.domain, z.txt)),
    {listen: '127.0.0.1:0', delayMs},
  )
  servers.push(server)
  const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port}, {timeoutMs: 1000})
  resolvers.push(resolver)
  return resolver
}

const KEY = testKey(9001)
const records = testRecords(40)

function signedTree(n = 40, links: string[] = [], domain = 'nodes.example.org', seq = 5n): {url: string; txt: Record<string, string>} {
  const tree = makeTree(seq, records.slice(0, n), links)
  const url = tree.sign(KEY, domain)
  return {url, txt: tree.toTxt(domain)}
}

async function expectFailure(promise: Promise<ResolvedTree>, code: string, message: RegExp | string): Promise<void> {
  await expect(promise).rejects.toMatchObject({code, exitCode: 3, message: typeof message === 'string' ? message : expect.stringMatching(message)})
}

describe('full sync through a real DNS server on loopback', () => {
  it('resolves the EIP-1459 example zone: nodes and links as geth expects', async () => {
    const v = loadVector('dnsdisc-example-tree.json')
    const resolver = await serve([{domain: 'n', txt: v.txt_records}])
    const result = await resolveTree(v.tree_url, {resolver})
    expect(result.nodes.map((n) => n.enr).sort()).toEqual([...v.want_nodes].sort())
    expect(result.links).toEqual(v.want_links)
    expect(result.seq).toBe('1')
    expect(result.txt).toEqual(v.txt_records)
    expect(result.problems).toEqual([])
    expect(result.stats.entries).toBe(5)
    expect(result.stats.depth).toBe(2)
  })

  it('40 nodes, parallel and rate-limited, with every record back', async () => {
    const {url, txt} = signedTree()
    const resolver = await serve([{domain: 'nodes.example.org', txt}])
    const result = await resolveTree(url, {resolver, concurrency: 4, rateLimit: 500})
    expect(result.nodes.map((n) => n.enr).sort()).toEqual(records.map((r) => r.text).sort())
    expect(result.complete).toBe(true)
    expect(result.stats.entries).toBe(Object.keys(txt).length - 1)
  })

  it('a server given by host name (localhost, from /etc/hosts) is looked up once and asked like an address', async () => {
    const {url, txt} = signedTree(5)
    const byAddress = await serve([{domain: 'nodes.example.org', txt}])
    const resolver = new ServerTxtResolver({host: 'localhost', port: byAddress.server.port}, {timeoutMs: 1000})
    resolvers.push(resolver)
    const result = await resolveTree(url, {resolver})
    expect(result.nodes).toHaveLength(5)
    expect(resolver.description).toBe(`server localhost:${byAddress.server.port}`)
  })

  it('the rate limit holds: 36 lookups at 100/s with a burst of 6 cannot finish in under 300 ms', async () => {
    const {url, txt} = signedTree(30)
    const resolver = await serve([{domain: 'nodes.example.org', txt}])
    const started = performance.now()
    const result = await resolveTree(url, {resolver, concurrency: 32, rateLimit: 100, burst: 6})
    expect(result.stats.queries).toBe(36)
    // A token bucket guarantees a lower bound: (36 − 6) tokens at 100/s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(295)
  })

  it('joins multi-string TXT answers and falls back to TCP on truncation', async () => {
    const big = encodeEnr({privateKey: testKey(77), seq: 1n, ip: '10.0.0.1', udp: 1, extra: {zz: new Uint8Array(120).fill(1)}})
    expect(big.text.length).toBeGreaterThan(255)
    const tree = makeTree(1n, [big, ...records.slice(0, 2)], [])
    const url = tree.sign(KEY, 't.example')
    const txt: Record<string, string | string[]> = tree.toTxt('t.example')
    // Stray strings at a leaf name make the UDP answer exceed 512 bytes.
    const leaf = `${subdomainOf(big.text)}.t.example`
    txt[leaf] = ['x'.repeat(200), 'y'.repeat(200), txt[leaf] as string]
    const resolver = await serve([{domain: 't.example', txt}])
    const result = await resolveTree(url, {resolver})
    expect(result.nodes.map((n) => n.enr)).toContain(big.text)
    expect(result.stats.tcpFallbacks).toBeGreaterThanOrEqual(1)
  })

  it('an interrupted sync returns what it gathered, marked partial', async () => {
    const {url, txt} = signedTree()
    const resolver = await serve([{domain: 'nodes.example.org', txt}], 30)
    const controller = new AbortController()
    let aborted = false
    const result = await resolveTree(url, {
      resolver,
      concurrency: 2,
      signal: controller.signal,
      onNode: () => {
        if (!aborted) {
          aborted = true
          controller.abort()
        }
      },
    })
    expect(result.complete).toBe(false)
    expect(result.problems.map((p) => p.code)).toEqual(['INTERRUPTED'])
    expect(result.nodes.length).toBeGreaterThanOrEqual(1)
    expect(result.nodes.length).toBeLessThan(40)
  })

  it('random descent returns distinct leaves of the tree, one query at a time', async () => {
    const {url, txt} = signedTree()
    const resolver = await serve([{domain: 'nodes.example.org', txt}])
    const result = await resolveTree(url, {resolver, random: 7})
    expect(result.mode).toBe('random')
    expect(new Set(result.nodes.map((n) => n.nodeId)).size).toBe(7)
    for (const n of result.nodes) expect(records.map((r) => r.text)).toContain(n.enr)
    const all = await resolveTree(url, {resolver, random: 100})
    expect(all.nodes).toHaveLength(40)
    expect(all.complete).toBe(false)
  })

  it('follows links once each, even when two trees link to each other', async () => {
    const keyB = testKey(9002)
    const urlA = formatLink(publicKeyOf(KEY), 'a.example')
    const urlB = formatLink(publicKeyOf(keyB), 'b.example')
    const a = makeTree(1n, records.slice(0, 5), [urlB])
    a.sign(KEY, 'a.example')
    const b = makeTree(1n, records.slice(5, 9), [urlA])
    b.sign(keyB, 'b.example')
    const resolver = await serve([
      {domain: 'a.example', txt: a.toTxt('a.example')},
      {domain: 'b.example', txt: b.toTxt('b.example')},
    ])
    const result = await resolveTree(urlA, {resolver, followLinks: true})
    expect(result.links).toEqual([urlB])
    expect(result.linkedTrees).toHaveLength(1)
    expect(result.linkedTrees[0]!.nodes).toHaveLength(4)
    expect(result.linkedTrees[0]!.linkedTrees).toEqual([])
    const notFollowed = await resolveTree(urlA, {resolver})
    expect(notFollowed.linkedTrees).toEqual([])
  })

  it('a DoH endpoint streaming an endless body is cut off at 64 KiB: a protocol error (exit 5), not unbounded memory', async () => {
    let sent = 0
    const doh = http.createServer((_req, res) => {
      res.writeHead(200, {'content-type': 'application/dns-message'})
      const chunk = Buffer.alloc(16_384, 1)
      const pump = (): void => {
        while (sent < 10_000_000 && res.write(chunk)) sent += chunk.length
        if (sent >= 10_000_000) res.end()
      }
      res.on('drain', pump)
      pump()
    })
    await new Promise<void>((r) => doh.listen(0, '127.0.0.1', () => r()))
    try {
      const resolver = new DohTxtResolver(`http://127.0.0.1:${(doh.address() as {port: number}).port}/dns-query`)
      await expect(resolver.resolveTxt('nodes.example.org')).rejects.toMatchObject({code: 'DNS_RESPONSE_TOO_LARGE', exitCode: 5})
      expect(sent).toBeLessThan(10_000_000)
    } finally {
      doh.closeAllConnections()
      await new Promise<void>((r) => doh.close(() => r()))
    }
  })

  it('DNS-over-HTTPS (RFC 8484 POST) through a local DoH front end of the same server', async () => {
    const {url, txt} = signedTree(20)
    const upstream = await startDnsServer([zoneFromTxt('nodes.example.org', txt)], {listen: '127.0.0.1:0'})
    servers.push(upstream)
    const seen: string[] = []
    // A minimal DoH front end: forwards the wire-format query to the UDP server and returns its answer.
    const doh = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push(`${req.method} ${req.headers['content-type']}`)
        const sock = dgram.createSocket('udp4')
        sock.once('message', (msg) => {
          sock.close()
          res.writeHead(200, {'content-type': 'application/dns-message'})
          res.end(msg)
        })
        sock.send(Buffer.concat(chunks), upstream.port, '127.0.0.1')
      })
    })
    await new Promise<void>((r) => doh.listen(0, '127.0.0.1', () => r()))
    try {
      const resolver = new DohTxtResolver(`http://127.0.0.1:${(doh.address() as {port: number}).port}/dns-query`)
      const result = await resolveTree(url, {resolver, concurrency: 4})
      expect(result.nodes).toHaveLength(20)
      expect(seen.every((s) => s === 'POST application/dns-message')).toBe(true)
      expect(seen.length).toBe(result.stats.queries)
    } finally {
      doh.closeAllConnections()
      await new Promise<void>((r) => doh.close(() => r()))
    }
  })

  it('a server answering garbage is a protocol error (exit 5), an answer for another name is ignored', async () => {
    const sock = dgram.createSocket('udp4')
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    let mode: 'garbage' | 'wrong-name' = 'garbage'
    sock.on('message', (msg, rinfo) => {
      const reply =
        mode === 'garbage'
          ? Buffer.concat([msg.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff])])
          : dnsPacket.encode({type: 'response', id: msg.readUInt16BE(0), questions: [{type: 'TXT', name: 'other.example', class: 'IN'}], answers: []})
      sock.send(reply, rinfo.port, rinfo.address)
    })
    const port = sock.address().port
    try {
      const r1 = new ServerTxtResolver({host: '127.0.0.1', port}, {timeoutMs: 200})
      resolvers.push(r1)
      await expect(resolveTree(signedTree().url, {resolver: r1})).rejects.toMatchObject({exitCode: 5, code: 'DNS_BAD_RESPONSE'})
      mode = 'wrong-name'
      const r2 = new ServerTxtResolver({host: '127.0.0.1', port}, {timeoutMs: 100, attempts: 2})
      resolvers.push(r2)
      await expect(resolveTree(signedTree().url, {resolver: r2})).rejects.toMatchObject({exitCode: 4, code: 'DNS_TIMEOUT'})
    } finally {
      sock.close()
    }
  })

  it('a server that does not answer is unreachable (exit 4)', async () => {
    const sock = dgram.createSocket('udp4')
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    const port = sock.address().port
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port}, {timeoutMs: 200, attempts: 2})
    resolvers.push(resolver)
    try {
      await expect(resolveTree(signedTree().url, {resolver})).rejects.toMatchObject({exitCode: 4, code: 'DNS_TIMEOUT'})
    } finally {
      sock.close()
    }
  })
})

describe('broken trees give precise errors', () => {
  const domain = 'nodes.example.org'

  it('geth bad-node vector: invalid enr entry at <name>: invalid node record', async () => {
    const v = loadVector('dnsdisc-bad-node-tree.json')
    const resolver = await serve([{domain: 'n', txt: v.txt_records}])
    await expectFailure(resolveTree(v.tree_url, {resolver}), 'DNS_INVALID_ENR', v.want_error.message)
  })

  it('bad signature', async () => {
    const {url, txt} = signedTree()
    const sig = txt[domain]!.slice(-87)
    txt[domain] = txt[domain]!.slice(0, -87) + (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver}), 'DNS_INVALID_SIG', /invalid root entry: invalid base64 signature/)
  })

  it('wrong key: the message names the URL key', async () => {
    const {txt} = signedTree()
    const other = formatLink(publicKeyOf(testKey(5)), domain)
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(other, {resolver}), 'DNS_INVALID_SIG', new RegExp(`not signed by the URL's key ${other.slice(10, 20)}`))
  })

  it('hash mismatch: a leaf swapped for another valid record', async () => {
    const {url, txt} = signedTree()
    const victim = `${subdomainOf(records[3]!.text)}.${domain}`
    txt[victim] = records[4]!.text
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver}), 'DNS_HASH_MISMATCH', `${victim}: hash mismatch`)
  })

  it('missing entry', async () => {
    const {url, txt} = signedTree()
    const victim = `${subdomainOf(records[7]!.text)}.${domain}`
    delete txt[victim]
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver}), 'DNS_NO_ENTRY', `${victim}: no valid tree entry found`)
  })

  it('loop / repeated reference', async () => {
    const leaf = records[0]!.text
    const inner = BRANCH_PREFIX + subdomainOf(leaf)
    const top = BRANCH_PREFIX + [subdomainOf(inner), subdomainOf(leaf)].join(',')
    const {url, txt} = handZone({key: KEY, domain, seq: 1n, eroot: subdomainOf(top), lroot: subdomainOf(BRANCH_PREFIX), entries: [leaf, inner, top, BRANCH_PREFIX]})
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver}), 'DNS_LOOP', /referenced more than once/)
  })

  it('oversize record (over 300 bytes) and oversize TXT', async () => {
    const big = oversizeRecordText(3)
    const huge = 'enr:' + 'A'.repeat(5000)
    const top = BRANCH_PREFIX + [subdomainOf(big), subdomainOf(records[0]!.text)].join(',')
    const {url, txt} = handZone({key: KEY, domain, seq: 1n, eroot: subdomainOf(top), lroot: subdomainOf(BRANCH_PREFIX), entries: [big, records[0]!.text, top, BRANCH_PREFIX]})
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver}), 'DNS_INVALID_ENR', /invalid enr entry at .*: .*300/)
    const top2 = BRANCH_PREFIX + subdomainOf(huge)
    const z2 = handZone({key: KEY, domain, seq: 1n, eroot: subdomainOf(top2), lroot: subdomainOf(BRANCH_PREFIX), entries: [huge, top2, BRANCH_PREFIX]})
    const resolver2 = await serve([{domain: 'x.example', txt: {}}, {domain, txt: z2.txt}].slice(1))
    await expectFailure(resolveTree(z2.url, {resolver: resolver2}), 'DNS_OVERSIZE', /TXT record of 5004 bytes \(limit 4096\)/)
  })

  it('mixed subtrees: a link under e= and a record under l=', async () => {
    const link = formatLink(publicKeyOf(testKey(44)), 'other.example')
    const e = BRANCH_PREFIX + [subdomainOf(records[0]!.text), subdomainOf(link)].join(',')
    const z = handZone({key: KEY, domain, seq: 1n, eroot: subdomainOf(e), lroot: subdomainOf(BRANCH_PREFIX), entries: [records[0]!.text, link, e, BRANCH_PREFIX]})
    const r1 = await serve([{domain, txt: z.txt}])
    await expectFailure(resolveTree(z.url, {resolver: r1}), 'DNS_LINK_IN_ENR_TREE', `${subdomainOf(link)}.${domain}: link entry in ENR tree`)
    const l = BRANCH_PREFIX + subdomainOf(records[1]!.text)
    const z2 = handZone({key: KEY, domain: 'm.example', seq: 1n, eroot: subdomainOf(records[0]!.text), lroot: subdomainOf(l), entries: [records[0]!.text, records[1]!.text, l]})
    const r2 = await serve([{domain: 'm.example', txt: z2.txt}])
    await expectFailure(resolveTree(z2.url, {resolver: r2}), 'DNS_ENR_IN_LINK_TREE', /enr entry in link tree/)
  })

  it('seq rollback', async () => {
    const {url, txt} = signedTree(5, [], domain, 4n)
    const resolver = await serve([{domain, txt}])
    await expectFailure(resolveTree(url, {resolver, minSeq: 9n}), 'DNS_SEQ_ROLLBACK', /has seq 4, below the 9 seen before/)
    await expect(resolveTree(url, {resolver, minSeq: 4n})).resolves.toMatchObject({seq: '4'})
  })

  it('garbage TXT: no root, bad root syntax, stray strings skipped at a valid name', async () => {
    const r1 = await serve([{domain, txt: {[domain]: ['v=spf1 -all', 'hello']}}])
    await expectFailure(resolveTree(signedTree().url, {resolver: r1}), 'DNS_NO_ROOT', `${domain}: no valid root found`)
    const r2 = await serve([{domain: 'g.example', txt: {'g.example': 'enrtree-root:v1 e=%%% l=??? seq=x sig=!'}}])
    await expectFailure(resolveTree(formatLink(publicKeyOf(KEY), 'g.example'), {resolver: r2}), 'DNS_SYNTAX', 'invalid root entry: invalid syntax')
    const {url, txt} = signedTree(5, [], 's.example')
    const t: Record<string, string | string[]> = {...txt}
    const leaf = `${subdomainOf(records[2]!.text)}.s.example`
    t[leaf] = ['garbage \u0000\u00ff', txt[leaf]!]
    t['s.example'] = ['v=spf1 -all', txt['s.example']!]
    const r3 = await serve([{domain: 's.example', txt: t}])
    const ok = await resolveTree(url, {resolver: r3})
    expect(ok.nodes).toHaveLength(5)
  })

  it('--lenient returns the valid part and lists every problem', async () => {
    const {url, txt} = signedTree()
    const gone = `${subdomainOf(records[7]!.text)}.${domain}`
    const swapped = `${subdomainOf(records[3]!.text)}.${domain}`
    delete txt[gone]
    txt[swapped] = records[4]!.text
    const resolver = await serve([{domain, txt}])
    const result = await resolveTree(url, {resolver, lenient: true})
    expect(result.nodes).toHaveLength(38)
    expect(result.complete).toBe(false)
    expect(result.problems.map((p) => [p.code, p.name]).sort()).toEqual(
      [
        ['DNS_HASH_MISMATCH', swapped],
        ['DNS_NO_ENTRY', gone],
      ].sort(),
    )
  })
})
