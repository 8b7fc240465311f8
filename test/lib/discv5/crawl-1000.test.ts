/**
 * The proof: crawls of a 1,000-node testnet (20% dead, 10% liars) find every live node
 * with both protocol ids, without crashing and without one packet to a forbidden destination.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCrawl, type SendObservation} from '../../../src/lib/discv5/index.js'
import {classifyIp} from '../../../src/lib/net/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'

describe.each(["d5waku", "discv5"])("census crawl of a 1,000-node %s testnet with 20 percent dead and 10 percent liars", (protocolId) => {
  let testnet: Testnet

  beforeAll(async () => {
    testnet = await startTestnet({nodes: 1000, dead: 0.2, liars: 0.1, protocolId, workers: 1, seed: protocolId === 'd5waku' ? 11 : 12})
  }, 180_000)

  afterAll(async () => {
    await testnet?.stop()
  })

  it('finds 100% of live nodes, sends only to testnet nodes, and refuses the liars\' forbidden addresses', async () => {
    const sends: SendObservation[] = []
    const result = await runCrawl({
      bootnodes: [testnet.bootnode],
      network: protocolId === 'd5waku' ? 'waku' : 'ethereum',
      strategy: 'census',
      onSend: (s) => sends.push(s),
    })
    const live = testnet.nodes.filter((n) => n.live)
    const found = new Set(result.nodes.map((n) => n.nodeId))
    const missing = live.filter((n) => !found.has(n.nodeId))
    expect(missing.map((n) => `${n.index}:${n.role}`)).toEqual([])
    expect(result.state).toBe('complete')
    expect(result.protocolId).toBe(protocolId)

    // Honest nodes answer (a live node wrongly marked dead would show here).
    const honest = testnet.nodes.filter((n) => n.role === 'honest')
    const responsive = new Set(result.nodes.filter((n) => n.responsive).map((n) => n.nodeId))
    const falseDead = honest.filter((n) => !responsive.has(n.nodeId))
    expect(falseDead.length, `honest nodes marked dead: ${falseDead.length}`).toBeLessThanOrEqual(Math.ceil(honest.length * 0.01))
    // Dead nodes never answer.
    for (const n of testnet.nodes.filter((x) => x.role === 'dead')) expect(responsive.has(n.nodeId)).toBe(false)

    // Every datagram went to a testnet node's own loopback port above 1024.
    const ports = new Set(testnet.nodes.map((n) => n.port))
    expect(sends.length).toBeGreaterThan(1000)
    for (const s of sends) {
      expect(classifyIp(s.host).class).toBe('loopback')
      expect(s.port).toBeGreaterThan(1024)
      expect(ports.has(s.port)).toBe(true)
    }
    expect(result.wire.refusedSends).toBe(0)
    // The bad-address liars pointed at private, multicast, reserved and low-port endpoints: refused.
    expect(result.counts.refused).toBeGreaterThan(0)
    expect(Object.keys(result.refusals).length).toBeGreaterThan(2)
    for (const n of result.nodes.filter((x) => x.status === 'refused')) expect(n.responsive).toBeNull()

    // Waku share and analysis are consistent with the testnet.
    expect(result.counts.waku).toBeGreaterThan(0)
    expect(result.analysis.wakuShare).toBeCloseTo(result.counts.waku / result.counts.responsive, 3)
    // About one request per node plus retries of the 24% that never answer (more under heavy load).
    expect(result.requests.perResponsiveNode, JSON.stringify(result.requests)).toBeLessThan(4)
  }, 240_000)
})
