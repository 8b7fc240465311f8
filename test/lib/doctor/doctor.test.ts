import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ServerTxtResolver, makeTree, startDnsServer, zoneFromTxt, type DnsServerHandle} from '../../../src/lib/dns/index.js'
import {runDoctor, NOT_AVAILABLE} from '../../../src/lib/doctor/index.js'
import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {METADATA_PROTOCOL, PEER_EXCHANGE_PROTOCOL, WAKU_PROTOCOLS} from '../../../src/lib/libp2p/protocols.js'
import {encodeResponse} from '../../../src/lib/px/codec.js'
import {answer, hex, startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'

const META = hex('08011a020001') // cluster 1, shards 0,1 (packed field 3)

describe('doctor', () => {
  const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]
  const peers: TestPeer[] = []
  const enrs: EnrRecord[] = []
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
      enrs.push(encodeEnr({privateKey: rawKey, ip: '127.0.0.1', tcp: p.port, udp: p.port, waku2: ['relay'], cluster: 1, shards: [0, 1]}))
    }
  })
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()))
    await dns?.close()
  })

  it('chains decode, lint, caps and a PX sample for an ENR, and says discv5 ping is not available', async () => {
    const r = await runDoctor(enrs[0]!.text)
    expect(r.kind).toBe('enr')
    expect(r.steps.map((s) => s.step)).toEqual(['decode', 'lint', 'discv5-ping', 'caps', 'peer-exchange'])
    const by = Object.fromEntries(r.steps.map((s) => [s.step, s]))
    expect(by.decode!.status).toBe('ok')
    expect(by['discv5-ping']).toMatchObject({status: 'unavailable', summary: NOT_AVAILABLE})
    expect(by.caps!.status).toBe('ok')
    expect(by.caps!.summary).toMatch(/nwaku-like; protocols relay,peer-exchange,metadata,ping,identify; cluster 1 shards 0,1; ping/)
    expect(by['peer-exchange']).toMatchObject({status: 'ok'})
    expect(by['peer-exchange']!.summary).toMatch(/status 200 SUCCESS; 1 record\(s\): 1 valid/)
    expect(r.exitCode).toBe(0)
    expect(r.ok).toBe(true)
  })

  it('reports an unreachable multiaddr with exit 4 and skips what depends on it', async () => {
    const dead = peers[0]!.tcp.replace(/\/tcp\/\d+\//, '/tcp/1/')
    const r = await runDoctor(dead, {timeoutMs: 3000})
    expect(r.steps.map((s) => [s.step, s.status])).toEqual([
      ['discv5-ping', 'skipped'],
      ['caps', 'fail'],
      ['peer-exchange', 'skipped'],
    ])
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
      expect(r.steps[0]!.summary).toMatch(/^seq 3, signature valid, 3 node\(s\), 0 link\(s\)/)
      const caps = r.steps.filter((s) => s.step === 'caps')
      expect(caps).toHaveLength(2)
      expect(new Set(caps.map((s) => s.subject)).size).toBe(2)
      for (const s of caps) {
        expect(peers.map((p) => p.peerId)).toContain(s.subject)
        expect(s.status).toBe('ok')
      }
      expect(r.exitCode).toBe(0)
      // A wrong key in the URL fails the verification step (exit 3).
      const wrong = url.replace(/enrtree:\/\/[A-Z2-7]+@/, `enrtree://${url.slice(10, 62).split('').reverse().join('')}@`)
      const bad = await runDoctor(wrong, {resolver, treeSample: 0})
      expect(bad.steps[0]!.status).toBe('fail')
      expect(bad.exitCode).not.toBe(0)
    } finally {
      await resolver.close()
    }
  })

  it('throws bad input for something that is none of the three', async () => {
    await expect(runDoctor('hello')).rejects.toMatchObject({exitCode: 2})
  })
})
