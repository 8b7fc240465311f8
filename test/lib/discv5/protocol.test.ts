import {readFileSync} from 'node:fs'

import {ENR, SignableENR} from '@chainsafe/enr'
import {decodeHeader, MASKING_IV_SIZE} from '@chainsafe/discv5/packet'
import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import {afterAll, describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {resolveProtocolId, runCrawl, startNode, udpMultiaddr, type StartedNode} from '../../../src/lib/discv5/index.js'
import {pristineDiscv5Dir, randomKey} from './helpers.js'

const cleanup: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {})
})

async function server(protocolId: string): Promise<StartedNode> {
  const node = await startNode({privateKey: randomKey(), protocolId, bindHost: '127.0.0.1', advertise: true, staticTable: true})
  cleanup.push(() => node.stop())
  return node
}

/** Sends FINDNODE [0] from a fresh client with `protocolId`, capturing its first datagram. */
async function probe(target: StartedNode, protocolId: string) {
  const sent: Buffer[] = []
  const client = await startNode({privateKey: randomKey(), protocolId, bindHost: '127.0.0.1', config: {requestTimeout: 600}})
  cleanup.push(() => client.stop())
  const socket = client.transport.sockets[0]!
  const original = socket.send.bind(socket)
  ;(socket as unknown as {send: (...a: unknown[]) => void}).send = (msg: unknown, ...rest: unknown[]) => {
    sent.push(Buffer.from(msg as Uint8Array))
    return (original as (...a: unknown[]) => void)(msg, ...rest)
  }
  const before = target.transport.counters.decodeErrors
  let answer: ENR[] | undefined
  let error: Error | undefined
  try {
    answer = await client.discv5.sendFindNode(ENR.decodeTxt(target.enrText), [0])
  } catch (e) {
    error = e as Error
  }
  return {answer, error, sent, targetDecodeErrors: target.transport.counters.decodeErrors - before}
}

/** The protocol id of a captured datagram, unmasked with the destination's node id. */
function wireProtocolId(packet: Buffer, destNodeId: string): string {
  const iv = packet.subarray(0, MASKING_IV_SIZE)
  const masked = packet.subarray(MASKING_IV_SIZE)
  // Decode leniently: ask for whatever id is there by reading the raw bytes back out of the error path.
  for (const id of ['d5waku', 'discv5']) {
    try {
      const [header] = decodeHeader(destNodeId, iv, masked, id)
      return header.protocolId
    } catch {
      // try the other id
    }
  }
  return 'unknown'
}

describe('protocol ids on the wire', () => {
  it('maps networks to ids and validates explicit ones', () => {
    expect(resolveProtocolId('waku')).toBe('d5waku')
    expect(resolveProtocolId('ethereum')).toBe('discv5')
    expect(resolveProtocolId('waku', 'abcdef')).toBe('abcdef')
    for (const bad of ['', 'd5wak', 'd5wakuu', 'd5 wak', 'd5wakü']) expect(() => resolveProtocolId('waku', bad)).toThrow(BadInputError)
  })

  it.each(['d5waku', 'discv5'])('a %s client talks to a node with the same id, and its packets carry that id', async (id) => {
    const node = await server(id)
    const r = await probe(node, id)
    expect(r.error).toBeUndefined()
    expect(r.answer?.map((e) => e.nodeId)).toEqual([node.nodeId])
    expect(r.sent.length).toBeGreaterThanOrEqual(2)
    for (const packet of r.sent) expect(wireProtocolId(packet, node.nodeId)).toBe(id)
    expect(r.targetDecodeErrors).toBe(0)
  })

  it.each([
    ['d5waku', 'discv5'],
    ['discv5', 'd5waku'],
  ])('a %s client cannot talk to a %s node: its packets are rejected as undecodable', async (clientId, nodeId) => {
    const node = await server(nodeId)
    const r = await probe(node, clientId)
    expect(r.answer).toBeUndefined()
    expect(r.error?.message).toMatch(/RPC failure|timeout/i)
    expect(r.sent.length).toBeGreaterThanOrEqual(1)
    expect(wireProtocolId(r.sent[0]!, node.nodeId)).toBe(clientId)
    expect(r.targetDecodeErrors).toBeGreaterThanOrEqual(1)
  })

  it('the published library (patch reversed) keeps the discv5 id and interoperates with the crawler', async () => {
    const dir = pristineDiscv5Dir()
    const patched = readFileSync(`${dir}/lib/packet/encode.js`, 'utf8')
    expect(patched).toContain('if (protocolId !== "discv5")')
    expect(patched).not.toContain('expectedProtocolId')
    const lib = (await import(`${dir}/lib/index.js`)) as typeof import('@chainsafe/discv5')
    const multiaddr = (port: number) => lib.multiaddrFromSocketAddress({ip: {type: 4, octets: Uint8Array.of(127, 0, 0, 1)}, port})
    // Three unmodified nodes that know each other; the crawler starts from the first.
    const nodes: InstanceType<typeof lib.Discv5>[] = []
    // Keys whose node ids are pairwise at log-distance ≥ 253: an exhaustive crawl asks 256 and then
    // [255, 254, 253] before it stops on short buckets, so every neighbour must be listed.
    const keys: Uint8Array[] = []
    while (keys.length < 3) {
      const k = randomKey()
      const id = SignableENR.createV4(k).nodeId
      if (keys.every((o) => lib.log2Distance(SignableENR.createV4(o).nodeId, id) >= 253)) keys.push(k)
    }
    for (let i = 0; i < 3; i++) {
      const key = keys[i]!
      const enr = SignableENR.createV4(key)
      enr.ip = '127.0.0.1'
      const probeNode = await startNode({privateKey: randomKey(), protocolId: 'discv5', bindHost: '127.0.0.1'})
      const port = probeNode.port
      await probeNode.stop()
      enr.udp = port
      const d = lib.Discv5.create({enr, privateKey: privateKeyFromRaw(key) as never, bindAddrs: {ip4: multiaddr(port)}, config: {enrUpdate: false}})
      await d.start()
      cleanup.push(() => d.stop())
      nodes.push(d)
    }
    for (const a of nodes) for (const b of nodes) if (a !== b) a.addEnr(b.enr.toENR())
    const result = await runCrawl({bootnodes: [nodes[0]!.enr.encodeTxt()], network: 'ethereum', strategy: 'exhaustive'})
    expect(result.protocolId).toBe('discv5')
    expect(new Set(result.nodes.filter((n) => n.responsive).map((n) => n.nodeId))).toEqual(new Set(nodes.map((n) => n.enr.nodeId)))
    // The unmodified nodes' neighbours were enumerated.
    const first = result.nodes.find((n) => n.nodeId === nodes[0]!.enr.nodeId)!
    expect(first.neighbours?.sort()).toEqual([nodes[1]!.enr.nodeId, nodes[2]!.enr.nodeId].sort())
    // …and a d5waku crawler gets nothing from them.
    const waku = await runCrawl({bootnodes: [nodes[0]!.enr.encodeTxt()], network: 'waku', strategy: 'census', requestTimeoutMs: 500, retries: 0})
    expect(waku.counts.responsive).toBe(0)
  })

  it('builds library multiaddrs for IPv4 and IPv6', () => {
    expect(udpMultiaddr('127.0.0.1', 9000).toString()).toBe('/ip4/127.0.0.1/udp/9000')
    expect(udpMultiaddr('::1', 9000).toString()).toBe('/ip6/::1/udp/9000')
  })
})
