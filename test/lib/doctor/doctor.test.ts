import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ServerTxtResolver, makeTree, startDnsServer, zoneFromTxt, type DnsServerHandle} from '../../../src/lib/dns/index.js'
import {discv5Ping, runDoctor} from '../../../src/lib/doctor/index.js'
import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {METADATA_PROTOCOL, PEER_EXCHANGE_PROTOCOL, WAKU_PROTOCOLS} from '../../../src/lib/libp2p/protocols.js'
import {encodeResponse} from '../../../src/lib/px/codec.js'
import {stepSummary} from '../../../src/ui/doctor.js'
import {answer, hex, startDiscv5Target, startTestPeer, type Discv5Target, type TestPeer} from '../../helpers/libp2p-peers.js'

const META = hex('08011a020001') // cluster 1, shards 0,1 (packed field 3)
// Steps carry data and reasons; their one-line words come from src/ui/doctor.ts.
const summary = stepSummary

describe('doctor', () => {
  const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]
  const peers: TestPeer[] = []
  const enrs: EnrRecord[] = []
  const discv5s: Discv5Target[] = []
  let dns: DnsServerHandle | undefined
  beforeAll(async () => {
    const shared = encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', tcp: 61_000, udp: 61_001, waku2: ['relay'], cluster: 1, shards: [0]})
    for (const rawKey of keys) {
      const p = await startTestPeer({
        rawKey,
        agentVersion: 'nwaku-like',
        protocols: {
          [WAKU_PROTOCOLS.relay]: 'announce',
          [METADATA_PROTOCOL]: answer(META),
          [PEER_EXCHANGE_PROTOCOL]: answer(encodeResponse({enrs: [shared.raw], statusCode: 200})),
        },
      })
      peers.push(p)
      // The same identity answers discv5 (d5waku) on its own UDP port.
      const d = await startDiscv5Target(rawKey, 'd5waku')
      discv5s.push(d)
      enrs.push(encodeEnr({privateKey: rawKey, ip: '127.0.0.1', tcp: p.port, udp: d.port, waku2: ['relay'], cluster: 1, shards: [0, 1]}))
    }
  })
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()))
    await Promise.all(discv5s.map((d) => d.stop()))
    await dns?.close()
  })

  it('chains decode, lint, a discv5 PING (d5waku), caps and a PX sample for an ENR', async () => {
    const r = await runDoctor(enrs[0]!.text)
    expect(r.kind).toBe('enr')
    expect(r.steps.map((s) => s.step)).toEqual(['decode', 'lint', 'discv5-ping', 'caps', 'peer-exchange'])
    const by = Object.fromEntries(r.steps.map((s) => [s.step, s]))
    expect(by.decode!.status).toBe('ok')
    expect(by['discv5-ping']!.status).toBe('ok')
    expect(summary(by['discv5-ping']!)).toMatch(/^PONG in [\d.]+ ms, node's ENR seq \d+$/)
    expect(by['discv5-ping']!.data).toMatchObject({protocolId: 'd5waku', endpoint: `127.0.0.1:${discv5s[0]!.port}`, observed: expect.stringMatching(/^127\.0\.0\.1:\d+$/)})
    expect(by.caps!.status).toBe('ok')
    expect(summary(by.caps!)).toMatch(/nwaku-like; protocols relay,peer-exchange,metadata,ping,identify; cluster 1 shards 0,1; ping/)
    expect(by['peer-exchange']).toMatchObject({status: 'ok'})
    expect(summary(by['peer-exchange']!)).toMatch(/status 200 SUCCESS; 1 record\(s\): 1 valid/)
    expect(r.exitCode).toBe(0)
    expect(r.ok).toBe(true)
    // The library returns data; no step carries prose of its own.
    for (const s of r.steps) expect(s).not.toHaveProperty('summary')
  })

  it('reports an unreachable multiaddr with exit 4 and skips what depends on it', async () => {
    const dead = peers[0]!.tcp.replace(/\/tcp\/\d+\//, '/tcp/1/')
    const r = await runDoctor(dead, {timeoutMs: 3000})
    expect(r.steps.map((s) => [s.step, s.status, s.reason])).toEqual([
      ['discv5-ping', 'skipped', 'multiaddr-no-discv5'],
      ['caps', 'fail', undefined],
      ['peer-exchange', 'skipped', 'node-unreachable'],
    ])
    expect(summary(r.steps[1]!)).toMatch(/^unreachable: /)
    expect(r.exitCode).toBe(4)
  })

  it('verifies an enrtree:// tree served on loopback and checks a random sample of its nodes', async () => {
    const treeKey = generatePrivateKey()
    const tree = makeTree(3n, enrs, [])
    const url = tree.sign(treeKey, 'nodes.test')
    dns = await startDnsServer([zoneFromTxt('nodes.test', tree.toTxt('nodes.test'))], {listen: '127.0.0.1:0'})
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port: dns.port}, {timeoutMs: 1000})
    try {
      const r = await runDoctor(url, {resolver, treeSample: 2})
      expect(r.kind).toBe('enrtree')
      expect(r.steps[0]).toMatchObject({step: 'tree', status: 'ok'})
      expect(summary(r.steps[0]!)).toMatch(/^seq 3, signature valid, 3 node\(s\), 0 link\(s\)/)
      const caps = r.steps.filter((s) => s.step === 'caps')
      expect(caps).toHaveLength(2)
      expect(new Set(caps.map((s) => s.subject)).size).toBe(2)
      for (const s of caps) {
        expect(peers.map((p) => p.peerId)).toContain(s.subject)
        expect(s.status).toBe('ok')
      }
      expect(r.exitCode).toBe(0)
      // Nodes of a tree at private/metadata addresses are never dialled.
      const hostile = makeTree(4n, [encodeEnr({privateKey: generatePrivateKey(), ip: '169.254.169.254', tcp: 8080, waku2: ['relay']})], [])
      const hostileUrl = hostile.sign(treeKey, 'hostile.test')
      const dns2 = await startDnsServer([zoneFromTxt('hostile.test', hostile.toTxt('hostile.test'))], {listen: '127.0.0.1:0'})
      const resolver2 = new ServerTxtResolver({host: '127.0.0.1', port: dns2.port}, {timeoutMs: 1000})
      try {
        const h = await runDoctor(hostileUrl, {resolver: resolver2, treeSample: 1})
        expect(h.steps[1]).toMatchObject({step: 'caps', status: 'skipped', reason: 'no-admissible-address', data: {refused: [{address: '/ip4/169.254.169.254/tcp/8080', reason: 'metadata'}]}})
        expect(summary(h.steps[1]!)).toMatch(/not dialled: no admissible address \(\/ip4\/169\.254\.169\.254\/tcp\/8080: metadata\)/)
      } finally {
        await resolver2.close()
        await dns2.close()
      }
      // A wrong (valid) key in the URL fails the verification step (exit 3).
      const wrong = tree.sign(generatePrivateKey(), 'nodes.test')
      expect(wrong).not.toBe(url)
      const bad = await runDoctor(wrong, {resolver, treeSample: 0})
      expect(bad.steps[0]!.status).toBe('fail')
      expect(bad.exitCode).toBe(3)
      // A key that is no public key at all makes the URL malformed: bad input (exit 2), as in dns-tree verify.
      const garbled = `enrtree://${'A'.repeat(52)}@nodes.test` // 33 zero bytes: not a compressed point
      await expect(runDoctor(garbled, {resolver, treeSample: 0})).rejects.toMatchObject({code: 'DNS_BAD_URL', exitCode: 2})
    } finally {
      await resolver.close()
    }
  })

  it('discv5: the wrong protocol id gets no PONG; a record without udp skips the step; one without tcp skips caps', async () => {
    await expect(discv5Ping(enrs[0]!.text, {protocolId: 'discv5', requestTimeoutMs: 300})).rejects.toMatchObject({code: 'DISCV5_NO_PONG', exitCode: 4})
    const noUdp = encodeEnr({privateKey: keys[0]!, ip: '127.0.0.1', tcp: peers[0]!.port, waku2: ['relay'], cluster: 1, shards: [0, 1]})
    const r = await runDoctor(noUdp.text)
    const skipped = r.steps.find((s) => s.step === 'discv5-ping')!
    expect(skipped).toMatchObject({status: 'skipped', reason: 'no-discv5-endpoint', error: {code: 'NO_DISCV5_ENDPOINT'}})
    expect(summary(skipped)).toMatch(/has no ip\+udp/)
    expect(r.exitCode).toBe(0)
    const udpOnly = encodeEnr({privateKey: keys[1]!, ip: '127.0.0.1', udp: discv5s[1]!.port, waku2: ['relay']})
    const u = await runDoctor(udpOnly.text)
    expect(u.steps.map((s) => [s.step, s.status])).toEqual([
      ['decode', 'ok'],
      ['lint', expect.any(String)],
      ['discv5-ping', 'ok'],
      ['caps', 'skipped'],
      ['peer-exchange', 'skipped'],
    ])
    expect(u.steps.slice(3).map((s) => s.reason)).toEqual(['no-libp2p-address', 'no-libp2p-address'])
    expect(u.exitCode).toBe(0)
  })

  it('throws bad input for something that is none of the three', async () => {
    await expect(runDoctor('hello')).rejects.toMatchObject({exitCode: 2})
  })
})
