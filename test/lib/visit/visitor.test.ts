import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {DestinationPolicy} from '../../../src/lib/net/index.js'
import {LIBP2P_LIE_ROLES, LIBP2P_ROLE_EXPECTATION, startTestnet, TESTNET_AGENT, type Testnet} from '../../../src/lib/testnet/index.js'
import {startTestPeer} from '../../helpers/libp2p-peers.js'
import {summarizeVisits, Visitor, type PeerVisit} from '../../../src/lib/visit/index.js'

const loopbackPolicy = () => new DestinationPolicy({trustedRanges: ['127.0.0.0/8']})

describe('Visitor against a testnet whose listeners tell the truth or plant one fault each', () => {
  let testnet: Testnet
  const visits = new Map<string, PeerVisit>()
  beforeAll(async () => {
    // 24 Waku nodes, every one with a listener, most of them lying: every role appears.
    testnet = await startTestnet({nodes: 24, wakuShare: 1, libp2p: 1, libp2pLies: 0.7, workers: 1, seed: 11})
    const visitor = new Visitor({policy: loopbackPolicy(), timeoutMs: 4000, concurrency: 8})
    try {
      await Promise.all(
        testnet.nodes.map(async (n) => {
          const v = await visitor.visit(n.enr)
          if (v) visits.set(n.nodeId, v)
        }),
      )
    } finally {
      await visitor.stop()
    }
  }, 60_000)
  afterAll(async () => testnet?.stop())

  it('plants every role', () => {
    expect(Object.keys(testnet.libp2pRoles).sort()).toEqual(['truthful', ...LIBP2P_LIE_ROLES].sort())
    expect(visits.size).toBe(24)
  })

  it('truthful listeners: identify, metadata and ping all answer and nothing is flagged', () => {
    const truthful = testnet.nodes.filter((n) => n.libp2p?.role === 'truthful')
    expect(truthful.length).toBeGreaterThan(0)
    for (const n of truthful) {
      const v = visits.get(n.nodeId)!
      expect(v.error).toBeNull()
      expect(v.findings).toEqual([])
      expect(v.agentVersion).toBe(TESTNET_AGENT)
      expect(v.metadata).toEqual({clusterId: n.cluster, shards: n.shards})
      expect(v.protocols).toContain('/vac/waku/metadata/1.0.0')
      expect(v.pingMs).toBeTypeOf('number')
      expect(v.dialMs).toBeTypeOf('number')
      expect(v.remoteAddr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${n.libp2p!.tcpPort}(/p2p/|$)`))
      expect(v.listenAddrs).toContain(`/ip4/127.0.0.1/tcp/${n.libp2p!.tcpPort}`)
    }
  })

  it.each(LIBP2P_LIE_ROLES)('%s is reported with its class or finding', (role) => {
    const nodes = testnet.nodes.filter((n) => n.libp2p?.role === role)
    expect(nodes.length).toBeGreaterThan(0)
    const expected = LIBP2P_ROLE_EXPECTATION[role]
    for (const n of nodes) {
      const v = visits.get(n.nodeId)!
      if (expected.errorClass) {
        expect(v.error?.class, v.error?.message).toBe(expected.errorClass)
        expect(v.error!.message.length).toBeGreaterThan(0)
      }
      if (expected.finding) {
        expect(v.error).toBeNull()
        expect(v.findings.map((f) => f.code)).toContain(expected.finding)
      }
    }
  })

  it('wrong-claims also shows the protocol served but not claimed and the shard mismatch both ways', () => {
    for (const n of testnet.nodes.filter((x) => x.libp2p?.role === 'wrong-claims')) {
      const codes = visits.get(n.nodeId)!.findings.map((f) => f.code)
      expect(codes).toEqual(expect.arrayContaining(['ENR_PROTOCOL_MISSING', 'SHARDS_NOT_SERVED', 'SHARDS_NOT_IN_ENR']))
    }
  })

  it('the summary counts what the visits say', () => {
    const s = summarizeVisits([...visits.values()])
    const failed = [...visits.values()].filter((v) => v.error !== null).length
    expect(s.visits.attempted).toBe(24)
    expect(s.visits.succeeded).toBe(24 - failed)
    expect(Object.values(s.visits.failed).reduce((a, b) => a + b, 0)).toBe(failed)
    expect(s.agents[TESTNET_AGENT]).toBe(24 - failed)
    expect(s.findings.CLUSTER_MISMATCH).toBe(testnet.libp2pRoles['wrong-cluster'])
    expect(s.metadata.clusters['1']).toBeGreaterThan(0)
  })
})

describe('Visitor address safety', () => {
  const key = generatePrivateKey()
  const record = (o: Omit<Parameters<typeof encodeEnr>[0], 'privateKey'>) => encodeEnr({privateKey: key, udp: 9000, ...o}).text

  it('refuses what the crawler refuses, never resolves special-use names, and dials nothing it refused', async () => {
    const asked: string[] = []
    const visitor = new Visitor({
      policy: new DestinationPolicy({}),
      timeoutMs: 1000,
      resolve: async (name) => {
        asked.push(name)
        if (name === 'private.example.org') return ['192.168.1.20']
        if (name === 'missing.example.org') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), {code: 'ENOTFOUND'})
        return ['127.0.0.1']
      },
    })
    try {
      const cases: Array<[string, string, RegExp]> = [
        [record({ip: '10.1.2.3', tcp: 60000}), 'address-refused', /private/],
        [record({ip: '127.0.0.1', tcp: 60000}), 'address-refused', /loopback/],
        [record({ip: '203.0.113.9', tcp: 60000}), 'address-refused', /203\.0\.113\.9/],
        [record({ip: '198.51.100.4', tcp: 80}), 'address-refused', /low-port|reserved/],
        [record({multiaddrs: ['/dns4/node.test/tcp/8000/wss']}), 'address-refused', /special-use/],
        [record({multiaddrs: ['/dns4/relay.local/tcp/8000']}), 'address-refused', /special-use/],
        [record({multiaddrs: ['/dns4/private.example.org/tcp/8000']}), 'address-refused', /192\.168\.1\.20/],
        [record({multiaddrs: ['/dns4/missing.example.org/tcp/8000']}), 'dns-failed', /ENOTFOUND/],
        [record({}), 'no-libp2p-address', /no tcp/],
      ]
      for (const [enr, cls, message] of cases) {
        const v = (await visitor.visit(enr))!
        expect(v.error?.class, enr).toBe(cls)
        expect(v.error?.message).toMatch(message)
        // Nothing refused is dialled: the loopback guard would have turned a dial into `other`.
        expect(v.addresses).toEqual([])
        expect(v.dialMs).toBeNull()
      }
      expect(asked.sort()).toEqual(['missing.example.org', 'private.example.org'])
    } finally {
      await visitor.stop()
    }
  })

  it('dials a name whose address the policy admits, on the checked address', async () => {
    const peer = await startTestPeer({rawKey: key, agentVersion: 'nwaku-v0.36.0'})
    const asked: string[] = []
    const visitor = new Visitor({
      policy: loopbackPolicy(),
      timeoutMs: 5000,
      resolve: async (name) => {
        asked.push(name)
        return ['127.0.0.1']
      },
    })
    try {
      const v = (await visitor.visit(record({multiaddrs: [`/dns4/node-a.example.org/tcp/${peer.port}`]})))!
      expect(asked).toEqual(['node-a.example.org'])
      expect(v.error).toBeNull()
      expect(v.agentVersion).toBe('nwaku-v0.36.0')
      expect(v.addresses).toHaveLength(1)
      expect(v.addresses[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${peer.port}(/p2p/|$)`))
    } finally {
      await visitor.stop()
      await peer.stop()
    }
  })

  it('a cancelled visit reports nothing rather than a false timeout', async () => {
    const testnet = await startTestnet({nodes: 12, wakuShare: 1, libp2p: 1, libp2pLies: 1, seed: 2})
    const controller = new AbortController()
    const visitor = new Visitor({policy: loopbackPolicy(), timeoutMs: 5000, signal: controller.signal})
    try {
      const silent = testnet.nodes.find((n) => n.libp2p?.role === 'silent-tcp')!
      const pending = visitor.visit(silent.enr)
      setTimeout(() => controller.abort(), 300)
      const started = performance.now()
      expect(await pending).toBeUndefined()
      expect(performance.now() - started).toBeLessThan(4500)
      expect(await visitor.visit(testnet.nodes[0]!.enr)).toBeUndefined()
    } finally {
      await visitor.stop()
      await testnet.stop()
    }
  })
})
