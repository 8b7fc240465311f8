import {createSocket} from 'node:dgram'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCrawl, startNode, type CrawlResult} from '../../../src/lib/discv5/index.js'
import {decodeEnr, encodeEnr, parseEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {ipv6LoopbackAvailable} from '../../helpers/ipv6.js'

const hasIpv6 = await ipv6LoopbackAvailable()

describe.skipIf(!hasIpv6)('dual-stack crawl on 127.0.0.1 and ::1 (skipped only when the kernel has no IPv6 loopback)', () => {
  let testnet: Testnet
  let result: CrawlResult
  const sentTo = new Set<string>()
  beforeAll(async () => {
    testnet = await startTestnet({nodes: 60, ipv6: 0.3, dualStack: 0.3, dead: 0.1, wakuShare: 1, libp2p: 1, workers: 1, seed: 12})
    result = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census', visit: {}, onSend: (s) => sentTo.add(s.host)})
  }, 120_000)
  afterAll(async () => testnet?.stop())

  it('the testnet has IPv4-only, IPv6-only and dual-stack records', () => {
    const byFamily = (f: 4 | 6 | 'dual') => testnet.nodes.filter((n) => n.family === f)
    expect(byFamily(4).length).toBeGreaterThan(5)
    expect(byFamily(6).length).toBeGreaterThan(5)
    expect(byFamily('dual').length).toBeGreaterThan(5)
    const v6 = decodeEnr(parseEnr(byFamily(6)[0]!.enr))
    expect(v6.ip).toBeUndefined()
    expect(v6.ip6).toBe('::1')
    expect(v6.udp6).toBeTypeOf('number')
  })

  it('finds every live node whatever its family, and IPv6-only ones over ::1', () => {
    const byId = new Map(result.nodes.map((n) => [n.nodeId, n]))
    for (const n of testnet.nodes.filter((x) => x.live)) {
      const c = byId.get(n.nodeId)
      expect(c?.status, `node ${n.index} (${n.family})`).toBe('responsive')
      if (n.family === 6) expect(c!.family).toBe(6)
      if (n.family === 4) expect(c!.family).toBe(4)
    }
    expect(result.counts.noAddress).toBe(0)
    expect([...sentTo].sort()).toEqual(['127.0.0.1', '::1'])
  })

  it('visits libp2p listeners of IPv6-only nodes over /ip6/::1', () => {
    const v6 = result.nodes.filter((n) => n.family === 6 && n.visit && n.visit.error === null)
    expect(v6.length).toBeGreaterThan(3)
    for (const n of v6) expect(n.visit!.remoteAddr).toMatch(/^\/ip6\/::1\/tcp\/\d+/)
  })

  it('a dual-stack record whose IPv4 address is silent is reached over IPv6 on the retry', async () => {
    const key = generatePrivateKey()
    const node = await startNode({privateKey: key, protocolId: 'd5waku', bindHost: '::1', advertise: true})
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()))
    try {
      const own = parseEnr(node.enrText)
      const record = encodeEnr({privateKey: key, from: own, ip: '127.0.0.1', udp: silent.address().port}).text
      const r = await runCrawl({bootnodes: [record], strategy: 'census', challengeTimeoutMs: 300})
      const n = r.nodes.find((x) => x.nodeId === node.nodeId)!
      expect(n.status).toBe('responsive')
      expect(n.family).toBe(6)
      expect(n.timeouts).toBeGreaterThanOrEqual(1)
    } finally {
      silent.close()
      await node.stop()
    }
  }, 60_000)

  it('bindHost6: null keeps the crawler on IPv4: IPv6-only records have no address it can use', async () => {
    const r = await runCrawl({bootnodes: [testnet.bootnode], strategy: 'census', bindHost6: null})
    const v6only = new Set(testnet.nodes.filter((n) => n.family === 6).map((n) => n.nodeId))
    for (const n of r.nodes) if (v6only.has(n.nodeId)) expect(n.status).toBe('no-address')
    expect(r.counts.responsive).toBe(testnet.nodes.filter((n) => n.live && n.family !== 6).length)
  }, 60_000)
})
