import {ENR} from '@chainsafe/enr'
import {afterAll, describe, expect, it} from 'vitest'

import {startNode} from '../../../src/lib/discv5/index.js'
import {decodeEnr, parseEnr} from '../../../src/lib/enr/index.js'
import {BadInputError} from '../../../src/lib/errors.js'
import {LIAR_ROLES, startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {randomKey} from '../discv5/helpers.js'

const running: Testnet[] = []
afterAll(async () => {
  for (const t of running) await t.stop()
})

async function ask(testnet: Testnet, enr: string, distances: number[]) {
  const client = await startNode({privateKey: randomKey(), protocolId: testnet.protocolId, bindHost: '127.0.0.1', config: {requestTimeout: 800}})
  try {
    return await client.discv5.sendFindNode(ENR.decodeTxt(enr), distances)
  } catch {
    return undefined
  } finally {
    await client.stop()
  }
}

describe('startTestnet', () => {
  it('starts honest Waku and plain nodes, dead nodes and every kind of liar, with realistic records', async () => {
    const t = await startTestnet({nodes: 60, dead: 0.2, liars: 0.1, wakuShare: 0.5, cluster: 16, shards: 4, seed: 3})
    running.push(t)
    expect(t.counts).toMatchObject({nodes: 60, dead: 12, liars: 6, live: 48})
    expect(Object.keys(t.liarRoles).sort()).toEqual([...LIAR_ROLES].sort())
    expect(t.nodes[0]!.role).toBe('honest')
    expect(t.nodes[0]!.waku).toBe(true)
    expect(t.bootnode).toBe(t.nodes[0]!.enr)
    const ports = new Set(t.nodes.map((n) => n.port))
    expect(ports.size).toBe(60)
    for (const n of t.nodes) {
      const d = decodeEnr(parseEnr(n.enr))
      expect(d.signatureValid).toBe(true)
      expect(d.ip).toBe('127.0.0.1')
      expect(d.udp).toBe(n.port)
      expect(d.nodeId).toBe(n.nodeId)
      if (n.waku) {
        expect(d.waku?.waku2?.capabilities).toEqual(n.caps)
        expect(d.waku?.cluster).toBe(16)
        expect(d.waku?.shards).toEqual(n.shards)
        for (const s of n.shards!) expect(s).toBeLessThan(4)
        expect(d.pubsubTopics).toContain(`/waku/2/rs/16/${n.shards![0]}`)
        expect(d.size).toBeLessThan(300)
      } else {
        expect(d.waku).toBeUndefined()
      }
    }
    expect(t.counts.waku).toBeGreaterThan(15)
    expect(t.counts.waku).toBeLessThan(50)
  }, 60_000)

  it('honest nodes answer from seeded tables; dead and silent ones do not; liars lie', async () => {
    const t = running[0]!
    const honest = t.nodes.find((n) => n.role === 'honest' && n.index !== 0)!
    const own = await ask(t, honest.enr, [0])
    expect(own?.map((e) => e.nodeId)).toEqual([honest.nodeId])
    const neighbours = await ask(t, honest.enr, [256])
    expect(neighbours!.length).toBeGreaterThanOrEqual(10)
    for (const role of ['dead', 'silent', 'garbage'] as const) {
      const n = t.nodes.find((x) => x.role === role)!
      expect(await ask(t, n.enr, [0]), role).toBeUndefined()
    }
    // Wrong distances are filtered out by the client: an empty answer.
    const wrong = t.nodes.find((x) => x.role === 'wrong-distance')!
    expect(await ask(t, wrong.enr, [256])).toEqual([])
    // A flood is cut at 5 NODES packets of 3 records.
    const flood = t.nodes.find((x) => x.role === 'flood')!
    const flooded = await ask(t, flood.enr, [256])
    expect(flooded!.length).toBeLessThanOrEqual(15)
    // Bad-address liars return records for addresses a public node could not point at.
    const liar = t.nodes.find((x) => x.role === 'bad-address')!
    const lies = (await ask(t, liar.enr, [256]))!
    expect(lies.some((e) => e.ip !== '127.0.0.1' || (e.udp ?? 0) <= 1024)).toBe(true)
  }, 60_000)

  it('runs its nodes in worker threads when asked', async () => {
    const t = await startTestnet({nodes: 30, workers: 2, protocolId: 'discv5', seed: 5})
    running.push(t)
    expect(t.workers).toBe(2)
    expect(t.localHosts).toHaveLength(0)
    expect(t.protocolId).toBe('discv5')
    const own = await ask(t, t.nodes[7]!.enr, [0])
    expect(own?.[0]?.nodeId).toBe(t.nodes[7]!.nodeId)
  }, 60_000)

  it('rejects impossible options', async () => {
    await expect(startTestnet({nodes: 0})).rejects.toThrow(BadInputError)
    await expect(startTestnet({nodes: 10, dead: 1.5})).rejects.toThrow(BadInputError)
    await expect(startTestnet({nodes: 10, dead: 0.6, liars: 0.6})).rejects.toThrow(BadInputError)
    await expect(startTestnet({nodes: 10, protocolId: 'x'})).rejects.toThrow(BadInputError)
    await expect(startTestnet({nodes: 10, shards: 0})).rejects.toThrow(BadInputError)
  })
})
