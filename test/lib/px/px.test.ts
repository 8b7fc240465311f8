import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {encodeEnr, parseEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {ProtocolError, UnreachableError} from '../../../src/lib/errors.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {PEER_EXCHANGE_PROTOCOL} from '../../../src/lib/libp2p/protocols.js'
import {decodeRpc, encodeResponse} from '../../../src/lib/px/codec.js'
import {lengthPrefixed} from '../../../src/lib/libp2p/protobuf.js'
import {parseRateLimit, queryPeerExchange, sample, startPxServer, type PxServer} from '../../../src/lib/px/index.js'
import {answer, dripAnswer, hex, rawAnswer, silent, startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'

function record(i: number, over: Partial<Parameters<typeof encodeEnr>[0]> = {}): EnrRecord {
  return encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', tcp: 30_000 + i, udp: 31_000 + i, waku2: ['relay'], cluster: 1, shards: [0], ...over})
}

describe('px query against px serve (tcp and ws)', () => {
  const records = Array.from({length: 10}, (_, i) => record(i))
  let server: PxServer
  beforeAll(async () => {
    server = await startPxServer({records: records.map((r) => r.raw), listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], rateLimit: {requests: 3, periodMs: 60_000}})
  })
  afterAll(async () => server?.stop())

  it('returns the requested number of distinct records from the set, decoded and linted', async () => {
    const tcpAddr = server.addresses.find((a) => !a.includes('/ws'))!
    const r = await queryPeerExchange(tcpAddr, {numPeers: 4})
    expect(r.status).toEqual({code: 200, name: 'SUCCESS', explicit: true})
    expect(r.received).toBe(4)
    expect(r.valid).toBe(4)
    expect(r.flagged).toBe(0) // loopback records from a loopback responder are not forbidden
    const known = new Set(records.map((x) => x.text))
    expect(new Set(r.peers.map((p) => p.enr)).size).toBe(4)
    for (const p of r.peers) {
      expect(known.has(p.enr!)).toBe(true)
      expect(p.decoded?.waku?.cluster).toBe(1)
      expect(Array.isArray(p.lint)).toBe(true)
    }
    expect(r.target.peerId).toBe(server.peerId)
  })

  it('works over websockets and caps the answer at the set size', async () => {
    const wsAddr = server.addresses.find((a) => a.includes('/ws'))!
    const r = await queryPeerExchange(wsAddr, {numPeers: 50})
    expect(r.received).toBe(10)
    expect(r.remoteAddr).toContain('/ws')
  })

  it('answers 429 once the per-peer limit is used up (a fresh client identity is a fresh peer)', async () => {
    const server2 = await startPxServer({records: records.map((r) => r.raw), listen: ['/ip4/127.0.0.1/tcp/0'], rateLimit: {requests: 1, periodMs: 60_000}})
    try {
      const {createProbeNode} = await import('../../../src/lib/libp2p/node.js')
      const node = await createProbeNode()
      try {
        const first = await queryPeerExchange(server2.addresses[0]!, {node, numPeers: 2})
        expect(first.status.code).toBe(200)
        const second = await queryPeerExchange(server2.addresses[0]!, {node, numPeers: 2})
        expect(second.status).toMatchObject({code: 429, name: 'TOO_MANY_REQUESTS', explicit: true})
        expect(second.received).toBe(0)
        const other = await queryPeerExchange(server2.addresses[0]!, {numPeers: 2})
        expect(other.status.code).toBe(200)
        expect(server2.stats().byStatus).toEqual({200: 2, 429: 1})
      } finally {
        await node.stop()
      }
    } finally {
      await server2.stop()
    }
  })

  it('answers 503 with an empty set and 400 to a garbage request', async () => {
    const empty = await startPxServer({records: [], listen: ['/ip4/127.0.0.1/tcp/0']})
    try {
      const r = await queryPeerExchange(empty.addresses[0]!, {numPeers: 3})
      expect(r.status).toMatchObject({code: 503, name: 'SERVICE_UNAVAILABLE', desc: 'no records to share'})
      // A raw client sending garbage gets BAD_REQUEST.
      const peer = await startTestPeer()
      try {
        const conn = await peer.node.dial((await import('@multiformats/multiaddr')).multiaddr(empty.addresses[0]!))
        const s = await conn.newStream(PEER_EXCHANGE_PROTOCOL)
        s.send(hex('03ffffff'))
        const chunks: number[] = []
        for await (const c of s) chunks.push(...c.subarray())
        const answerBytes = Uint8Array.from(chunks).subarray(1) // one-byte length prefix
        expect(chunks[0]).toBe(answerBytes.length)
        expect(decodeRpc(answerBytes).response).toEqual({enrs: [], statusCode: 400, statusDesc: 'malformed request'})
      } finally {
        await peer.stop()
      }
    } finally {
      await empty.stop()
    }
  })
})

describe('px query against hostile or odd responders', () => {
  const good = record(1)
  const good2 = record(2)
  const peers: TestPeer[] = []
  const start = async (handler: Parameters<typeof answer>[0] | ReturnType<typeof answer>, raw = false) => {
    const h = raw ? (handler as ReturnType<typeof answer>) : answer(handler as Parameters<typeof answer>[0])
    const p = await startTestPeer({protocols: {[PEER_EXCHANGE_PROTOCOL]: h}})
    peers.push(p)
    return p
  }
  afterAll(async () => Promise.all(peers.map((p) => p.stop())))

  it('keeps valid records around invalid ones, and flags forbidden addresses', async () => {
    const tampered = Uint8Array.from(good2.raw)
    tampered[tampered.length - 1] ^= 1 // breaks the signature
    const privateNet = record(3, {ip: '10.1.2.3'})
    const metadataIp = record(4, {ip: '169.254.169.254'})
    const p = await start(encodeResponse({enrs: [good.raw, hex('c0'), tampered, new Uint8Array(0), privateNet.raw, metadataIp.raw], statusCode: 200}))
    const r = await queryPeerExchange(p.tcp, {numPeers: 6})
    expect(r.received).toBe(6)
    expect(r.valid).toBe(3)
    expect(r.invalid).toBe(3)
    expect(r.peers[0]).toMatchObject({ok: true, enr: good.text, forbiddenAddresses: []})
    expect(r.peers[1]!.ok).toBe(false)
    expect(r.peers[1]!.error?.message).toMatch(/^record 1: /)
    expect(r.peers[2]!.ok).toBe(false)
    expect(r.peers[3]!.error?.code).toBe('EMPTY_PEER_INFO')
    expect(r.peers[4]!.forbiddenAddresses.map((f) => f.reason)).toContain('private')
    expect(r.peers[5]!.forbiddenAddresses.map((f) => f.reason)).toContain('metadata')
    expect(r.flagged).toBe(2)
  })

  it('reports a surplus, duplicates and a wrong status code as warnings, keeping the records', async () => {
    const p = await start(encodeResponse({enrs: [good.raw, good.raw, good2.raw], statusCode: 503, statusDesc: 'busy'}))
    const r = await queryPeerExchange(p.tcp, {numPeers: 2})
    expect(r.status).toEqual({code: 503, name: 'SERVICE_UNAVAILABLE', explicit: true, desc: 'busy'})
    expect(r.surplus).toBe(1)
    expect(r.peers[1]!.duplicateOf).toBe(0)
    expect(r.warnings.join('\n')).toMatch(/status 503 SERVICE_UNAVAILABLE but 3 records/)
    expect(r.warnings.join('\n')).toMatch(/3 records for 2 requested/)
  })

  it('reads exactly one frame: a second frame in the same write is reported, not parsed', async () => {
    const one = lengthPrefixed(encodeResponse({enrs: [good.raw]}))
    const p = await start(rawAnswer(Uint8Array.from([...one, ...one])), true)
    const r = await queryPeerExchange(p.tcp, {numPeers: 2})
    expect(r.received).toBe(1)
    expect(r.warnings.some((w) => /^\d+ bytes followed the response frame$/.test(w))).toBe(true)
  })

  it('rejects an oversize frame by its declared length without buffering it', async () => {
    const p = await start(rawAnswer(hex('ffffff7f')), true) // declares 268 MB
    await expect(queryPeerExchange(p.tcp, {numPeers: 2})).rejects.toMatchObject({name: 'ProtocolError', code: 'FRAME_TOO_LARGE'})
    const big = await start(encodeResponse({enrs: Array.from({length: 40}, () => good.raw)}))
    await expect(queryPeerExchange(big.tcp, {numPeers: 2})).rejects.toThrow(/more than the 1640-byte limit/)
  })

  it('gives up on a slow drip at the protocol deadline with a typed timeout', async () => {
    const p = await start(dripAnswer(encodeResponse({enrs: [good.raw]}), 200), true)
    const t0 = Date.now()
    await expect(queryPeerExchange(p.tcp, {numPeers: 1, timeouts: {protocolMs: 800}})).rejects.toMatchObject({name: 'UnreachableError', code: 'TIMEOUT'})
    expect(Date.now() - t0).toBeLessThan(5000)
    const q = await start(silent, true)
    await expect(queryPeerExchange(q.tcp, {numPeers: 1, timeouts: {protocolMs: 500}})).rejects.toBeInstanceOf(UnreachableError)
  })

  it('reassembles an answer that arrives one byte at a time (length prefix split across chunks)', async () => {
    const p = await start(dripAnswer(encodeResponse({enrs: [good.raw, good2.raw]}), 2), true)
    const r = await queryPeerExchange(p.tcp, {numPeers: 2, timeouts: {protocolMs: 20_000}})
    expect(r.peers.map((x) => x.enr)).toEqual([good.text, good2.text])
  })

  it('turns garbage protobuf, truncation, an empty answer and a missing response field into ProtocolErrors', async () => {
    const garbage = await start(hex('0aff'))
    await expect(queryPeerExchange(garbage.tcp)).rejects.toMatchObject({code: 'BAD_PROTOBUF'})
    const truncated = await start(rawAnswer(hex('200a0208')), true)
    await expect(queryPeerExchange(truncated.tcp)).rejects.toMatchObject({code: 'TRUNCATED_FRAME'})
    const empty = await start(rawAnswer(new Uint8Array(0)), true)
    await expect(queryPeerExchange(empty.tcp)).rejects.toMatchObject({code: 'EMPTY_RESPONSE'})
    const requestBack = await start(hex('0a020805'))
    await expect(queryPeerExchange(requestBack.tcp)).rejects.toMatchObject({code: 'EMPTY_PAYLOAD'})
    await expect(queryPeerExchange(requestBack.tcp)).rejects.toBeInstanceOf(ProtocolError)
  })

  it('reports a peer without the protocol and an unreachable address', async () => {
    const noPx = await startTestPeer()
    peers.push(noPx)
    await expect(queryPeerExchange(noPx.tcp)).rejects.toMatchObject({code: 'PROTOCOL_UNSUPPORTED'})
    const gone = await startTestPeer()
    const addr = gone.tcp
    await gone.stop()
    await expect(queryPeerExchange(addr, {timeouts: {dialMs: 3000}})).rejects.toMatchObject({name: 'UnreachableError'})
  })

  it('accepts an ENR as the target (dial addresses from the record)', async () => {
    const key = generatePrivateKey()
    const p = await startTestPeer({rawKey: key, protocols: {[PEER_EXCHANGE_PROTOCOL]: answer(encodeResponse({enrs: [good.raw]}))}})
    peers.push(p)
    const enr = encodeEnr({privateKey: key, ip: '127.0.0.1', tcp: p.port, waku2: ['relay']})
    const r = await queryPeerExchange(enr.text, {numPeers: 1})
    expect(r.target).toMatchObject({kind: 'enr', peerId: p.peerId})
    expect(r.peers[0]!.enr).toBe(parseEnr(good.text).text)
  })
})

describe('px serve metadata', () => {
  it('echoes the asking peer\'s cluster by default and announces a configured one otherwise', async () => {
    const {checkCapabilities} = await import('../../../src/lib/caps/index.js')
    const echo = await startPxServer({records: [], listen: ['/ip4/127.0.0.1/tcp/0']})
    const fixed = await startPxServer({records: [], listen: ['/ip4/127.0.0.1/tcp/0'], metadata: {clusterId: 16, shards: [32, 64]}})
    try {
      const a = await checkCapabilities(echo.addresses[0]!, {expect: {cluster: 5}})
      expect(a.metadata).toMatchObject({clusterId: 5})
      const b = await checkCapabilities(fixed.addresses[0]!, {expect: {cluster: 5}})
      expect(b.metadata).toMatchObject({clusterId: 16, shards: [32, 64], shardsField: 'field3'})
      expect(b.status).toBe('unmet')
    } finally {
      await echo.stop()
      await fixed.stop()
    }
  })
})

describe('px helpers', () => {
  it('parses nwaku rate-limit syntax', () => {
    expect(parseRateLimit('10/1m')).toEqual({requests: 10, periodMs: 60_000})
    expect(parseRateLimit('5/30s')).toEqual({requests: 5, periodMs: 30_000})
    expect(parseRateLimit('2/h')).toEqual({requests: 2, periodMs: 3_600_000})
    expect(() => parseRateLimit('ten per minute')).toThrow(/10\/1m/)
  })
  it('samples distinct items', () => {
    const s = sample([1, 2, 3, 4, 5], 3)
    expect(new Set(s).size).toBe(3)
    expect(sample([1, 2], 5)).toHaveLength(2)
  })
})
