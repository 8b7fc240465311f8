import {generateKeyPair, privateKeyFromRaw} from '@libp2p/crypto/keys'
import type {PrivateKey} from '@libp2p/interface'
import {peerIdFromPrivateKey} from '@libp2p/peer-id'
import {RecordEnvelope} from '@libp2p/peer-record'
import {multiaddr} from '@multiformats/multiaddr'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {BadInputError, ProtocolError, UnreachableError} from '../../../src/lib/errors.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {createProbeNode, type ProbeNode} from '../../../src/lib/libp2p/node.js'
import {
  LIBP2P_RENDEZVOUS_PROTOCOL,
  RENDEZVOUS_STATUS,
  WAKU_RENDEZVOUS_PROTOCOL,
  decodeRendezvousMessage,
  discoverRendezvous,
  encodeDiscoverResponse,
  encodeRegister,
  encodeRegisterResponse,
  encodeWakuPeerRecord,
  mixNamespace,
  registerRendezvous,
  rendezvousRequest,
  sealWakuPeerRecord,
  shardNamespace,
  startRendezvousServer,
  unregisterRendezvous,
  wakuPeerRecordEnvelopeRecord,
  type RendezvousServeEvent,
  type RendezvousServer,
} from '../../../src/lib/rendezvous/index.js'
import {answer, dripAnswer, hex, rawAnswer, silent, startTestPeer, type RawHandler, type TestPeer} from '../../helpers/libp2p-peers.js'

const MIX = mixNamespace(1)
const SHARD = shardNamespace(1, 0)

interface Registrant {
  key: PrivateKey
  peerId: string
  node: ProbeNode
  mixKey: string
  address: string
  record: Uint8Array
}

/** A peer with its own key and libp2p node (client only) and a sealed WakuPeerRecord. */
async function registrant(i: number): Promise<Registrant> {
  const key = await generateKeyPair('secp256k1')
  const node = await createProbeNode({privateKey: key})
  const mixKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  const address = `/ip4/127.0.0.1/tcp/${61_000 + i}`
  const record = await sealWakuPeerRecord({addresses: [address], mixKey}, key)
  return {key, peerId: node.peerId.toString(), node, mixKey, address, record}
}

describe('rendezvous point and client over real libp2p connections', () => {
  let server: RendezvousServer
  const peers: Registrant[] = []
  const events: RendezvousServeEvent[] = []
  beforeAll(async () => {
    server = await startRendezvousServer({listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], onEvent: (e) => events.push(e)})
    for (let i = 0; i < 3; i++) peers.push(await registrant(i))
  })
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.node.stop()))
    await server?.stop()
  })

  it('registers three peers, each from its own connection, in two namespaces', async () => {
    const addr = server.addresses.find((a) => !a.includes('/ws'))!
    for (const p of peers) {
      const r = await registerRendezvous(addr, {namespace: MIX, record: p.record, node: p.node})
      expect(r).toEqual({namespace: MIX, peerId: p.peerId, status: 0, statusName: 'OK', ttl: 60})
    }
    for (const p of peers.slice(0, 2)) {
      const r = await registerRendezvous(addr, {namespace: SHARD, record: p.record, node: p.node, ttlSeconds: 3600})
      expect(r).toMatchObject({status: 0, ttl: 3600})
    }
    expect(server.registrations(MIX).map((r) => r.peerId)).toEqual(peers.map((p) => p.peerId))
    expect(server.registrations(SHARD)).toHaveLength(2)
    // The point reports each request once its stream is closed, which may be just after our answer arrived.
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'register').map((e) => [e.peer, e.statusName])).toEqual([...peers, ...peers.slice(0, 2)].map((p) => [p.peerId, 'OK'])))
  })

  it('discovers them across both namespaces, paging with the cookie at limit 2', async () => {
    const r = await discoverRendezvous(server.addresses[0]!, {namespaces: [MIX, SHARD], limit: 2})
    expect(r.target.peerId).toBe(server.peerId)
    expect(r.protocol).toBe(WAKU_RENDEZVOUS_PROTOCOL)
    expect(r.peers).toBe(3)
    const [mix, shard] = r.namespaces
    // 2 + 1 registrations, then an empty page ends the walk.
    expect(mix).toMatchObject({namespace: MIX, status: 0, statusName: 'OK', pages: 3, truncated: false, valid: 3, invalid: 0, warnings: []})
    expect(mix!.registrations.map((x) => x.page)).toEqual([0, 0, 1])
    expect(mix!.registrations.map((x) => x.peerId)).toEqual(peers.map((p) => p.peerId))
    for (const [i, reg] of mix!.registrations.entries()) {
      expect(reg).toMatchObject({index: i, ok: true, addresses: [peers[i]!.address], mixKey: peers[i]!.mixKey})
      expect(reg.seqNo).toMatch(/^\d+$/)
      expect(reg.ttl).toBeGreaterThan(0)
      expect(reg.ttl).toBeLessThanOrEqual(60)
    }
    expect(shard).toMatchObject({namespace: SHARD, pages: 2, valid: 2})
    expect(shard!.registrations.map((x) => x.peerId)).toEqual(peers.slice(0, 2).map((p) => p.peerId))
    expect(shard!.registrations[0]!.ttl).toBeGreaterThan(3500)
    // The answer is JSON-safe as it stands.
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
  })

  it('stops at the page cap and says so; an unknown namespace is an empty OK answer', async () => {
    const r = await discoverRendezvous(server.addresses[0]!, {namespaces: [MIX, 'rs/1/none'], limit: 1, maxPages: 2})
    expect(r.namespaces[0]).toMatchObject({pages: 2, truncated: true, valid: 2})
    expect(r.namespaces[1]).toMatchObject({namespace: 'rs/1/none', status: 0, pages: 1, registrations: []})
  })

  it('serves the plain libp2p protocol id and websockets too', async () => {
    const ws = server.addresses.find((a) => a.includes('/ws'))!
    const r = await discoverRendezvous(ws, {namespaces: [MIX], protocol: 'libp2p'})
    expect(r.protocol).toBe(LIBP2P_RENDEZVOUS_PROTOCOL)
    expect(r.remoteAddr).toContain('/ws')
    expect(r.namespaces[0]!.valid).toBe(3)
  })

  it('unregisters a peer (no answer to wait for) and keeps the others', async () => {
    await unregisterRendezvous(server.addresses[0]!, {namespace: SHARD, node: peers[0]!.node})
    expect(server.registrations(SHARD).map((x) => x.peerId)).toEqual([peers[1]!.peerId])
    const r = await discoverRendezvous(server.addresses[0]!, {namespaces: [SHARD]})
    expect(r.namespaces[0]!.registrations.map((x) => x.peerId)).toEqual([peers[1]!.peerId])
    await vi.waitFor(() => expect(events.find((e) => e.type === 'unregister')).toMatchObject({peer: peers[0]!.peerId, namespace: SHARD, served: 1}))
  })

  it('re-registering replaces the earlier registration instead of adding a second', async () => {
    const p = peers[2]!
    const newer = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/62000'], mixKey: p.mixKey}, p.key)
    await registerRendezvous(server.addresses[0]!, {namespace: MIX, record: newer, node: p.node})
    const mine = server.registrations(MIX).filter((x) => x.peerId === p.peerId)
    expect(mine.map((x) => x.addresses)).toEqual([['/ip4/127.0.0.1/tcp/62000']])
    p.address = '/ip4/127.0.0.1/tcp/62000'
  })

  it('refuses a record whose peer id is not the registering connection\'s peer', async () => {
    const [a, b] = [peers[0]!, peers[1]!]
    // b's own, validly signed record, sent over a's connection.
    const r = await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/stolen', record: b.record, node: a.node})
    expect(r).toMatchObject({peerId: a.peerId, status: RENDEZVOUS_STATUS.E_INVALID_SIGNED_PEER_RECORD, statusName: 'E_INVALID_SIGNED_PEER_RECORD'})
    expect(r.statusText).toContain(`not the registering peer ${a.peerId}`)
    // A record naming a (the sender) but signed with b's key: a signature that vouches for nobody.
    const payload = encodeWakuPeerRecord({peerId: a.peerId, addresses: ['/ip4/127.0.0.1/tcp/1']})
    const foreign = (await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(payload), b.key)).marshal()
    const f = await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/stolen', record: foreign, node: a.node})
    expect(f.status).toBe(RENDEZVOUS_STATUS.E_INVALID_SIGNED_PEER_RECORD)
    expect(f.statusText).toMatch(/is signed by/)
    expect(server.registrations('rs/1/stolen')).toEqual([])
  })

  it('refuses a tampered signature, an unreadable envelope, bad TTLs and a bad namespace', async () => {
    const a = peers[0]!
    const tampered = Uint8Array.from(a.record)
    tampered[tampered.length - 3] ^= 0x40
    const t = await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/t', record: tampered, node: a.node})
    expect(t).toMatchObject({status: 101, statusName: 'E_INVALID_SIGNED_PEER_RECORD'})
    expect(t.statusText).toMatch(/signature does not verify/)
    const junk = await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/t', record: hex('0a0100'), node: a.node})
    expect(junk.status).toBe(101)
    expect((await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/t', record: a.record, node: a.node, ttlSeconds: 59})).statusName).toBe('E_INVALID_TTL')
    expect((await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/t', record: a.record, node: a.node, ttlSeconds: 72 * 3600 + 1})).statusName).toBe('E_INVALID_TTL')
    expect((await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/t', record: a.record, node: a.node, ttlSeconds: 72 * 3600})).statusName).toBe('OK')
    // The client refuses a namespace the spec forbids; a raw REGISTER shows the point refuses it too.
    await expect(registerRendezvous(server.addresses[0]!, {namespace: 'x'.repeat(256), record: a.record, node: a.node})).rejects.toBeInstanceOf(BadInputError)
    const connection = await a.node.dial(multiaddr(server.addresses[0]!))
    try {
      const reply = await rendezvousRequest(connection, WAKU_RENDEZVOUS_PROTOCOL, encodeRegister({ns: 'x'.repeat(256), signedPeerRecord: a.record}), {signal: AbortSignal.timeout(5000), maxResponseBytes: 1024, what: 'test'})
      expect(reply!.message.registerResponse?.status).toBe(RENDEZVOUS_STATUS.E_INVALID_NAMESPACE)
      const empty = await rendezvousRequest(connection, WAKU_RENDEZVOUS_PROTOCOL, encodeRegister({ns: '', signedPeerRecord: a.record}), {signal: AbortSignal.timeout(5000), maxResponseBytes: 1024, what: 'test'})
      expect(empty!.message.registerResponse?.status).toBe(RENDEZVOUS_STATUS.E_INVALID_NAMESPACE)
      // Garbage gets no answer: the stream is closed, as nwaku does.
      await expect(rendezvousRequest(connection, WAKU_RENDEZVOUS_PROTOCOL, hex('0aff'), {signal: AbortSignal.timeout(5000), maxResponseBytes: 1024, what: 'test'})).rejects.toMatchObject({code: 'EMPTY_RESPONSE'})
      // A DISCOVER with a cookie the point never issued.
      const badCookie = await rendezvousRequest(connection, WAKU_RENDEZVOUS_PROTOCOL, hex('08032a031a01ff'), {signal: AbortSignal.timeout(5000), maxResponseBytes: 1024, what: 'test'})
      expect(badCookie!.message.discoverResponse).toMatchObject({status: RENDEZVOUS_STATUS.E_INVALID_COOKIE, registrations: []})
    } finally {
      await connection.close()
    }
    await vi.waitFor(() => expect(events.some((e) => e.type === 'invalid' && /malformed protobuf/.test(e.error ?? ''))).toBe(true))
  })

  it('takes pre-loaded registrations without a connection, still verifying them', async () => {
    const key = await generateKeyPair('Ed25519')
    const record = await sealWakuPeerRecord({addresses: ['/dns4/seeded.example/tcp/443/wss'], seqNo: 42n}, key)
    const added = await server.add('rs/1/seeded', record, 120)
    expect(added).toMatchObject({namespace: 'rs/1/seeded', peerId: peerIdFromPrivateKey(key).toString(), seqNo: '42', ttlSeconds: 120})
    const r = await discoverRendezvous(server.addresses[0]!, {namespaces: ['rs/1/seeded'], keepEnvelopes: true})
    expect(r.namespaces[0]!.registrations[0]).toMatchObject({ok: true, seqNo: '42', addresses: ['/dns4/seeded.example/tcp/443/wss'], signedPeerRecordHex: Buffer.from(record).toString('hex')})
    expect(r.namespaces[0]!.registrations[0]!.mixKey).toBeUndefined()
    const tampered = Uint8Array.from(record)
    tampered[tampered.length - 1] ^= 1
    await expect(server.add('rs/1/seeded', tampered)).rejects.toMatchObject({name: 'BadInputError', code: 'RENDEZVOUS_E_INVALID_SIGNED_PEER_RECORD'})
    await expect(server.add('rs/1/seeded', record, 10)).rejects.toMatchObject({code: 'RENDEZVOUS_E_INVALID_TTL'})
  })

  it('accepts an ENR as the target', async () => {
    const raw = generatePrivateKey()
    const point = await startRendezvousServer({listen: ['/ip4/127.0.0.1/tcp/0'], privateKey: privateKeyFromRaw(raw)})
    try {
      await point.add(MIX, peers[1]!.record)
      const port = Number(/\/tcp\/(\d+)/.exec(point.addresses[0]!)![1])
      const enr = encodeEnr({privateKey: raw, ip: '127.0.0.1', tcp: port, waku2: ['relay']})
      const r = await discoverRendezvous(enr.text, {namespaces: [MIX]})
      expect(r.target).toMatchObject({kind: 'enr', peerId: point.peerId})
      expect(r.namespaces[0]!.registrations.map((x) => x.peerId)).toEqual([peers[1]!.peerId])
    } finally {
      await point.stop()
    }
  })
})

describe('rendezvous registration lifetime and limits (injected clock)', () => {
  let clock = Date.UTC(2030, 0, 1)
  let server: RendezvousServer
  let peer: Registrant
  beforeAll(async () => {
    server = await startRendezvousServer({listen: ['/ip4/127.0.0.1/tcp/0'], now: () => clock, maxRegistrationsPerPeer: 2})
    peer = await registrant(9)
  })
  afterAll(async () => {
    await peer?.node.stop()
    await server?.stop()
  })

  it('expires registrations by their TTL and reports the time left', async () => {
    const other = await registrant(8)
    try {
      await registerRendezvous(server.addresses[0]!, {namespace: MIX, record: peer.record, node: peer.node})
      await registerRendezvous(server.addresses[0]!, {namespace: MIX, record: other.record, node: other.node, ttlSeconds: 120})
      clock += 30_000
      let r = await discoverRendezvous(server.addresses[0]!, {namespaces: [MIX]})
      expect(r.namespaces[0]!.registrations.map((x) => [x.peerId, x.ttl])).toEqual([
        [peer.peerId, 30],
        [other.peerId, 90],
      ])
      clock += 31_000 // 61 s: the default 60 s registration is gone
      r = await discoverRendezvous(server.addresses[0]!, {namespaces: [MIX]})
      expect(r.namespaces[0]!.registrations.map((x) => [x.peerId, x.ttl])).toEqual([[other.peerId, 59]])
      clock += 60_000
      r = await discoverRendezvous(server.addresses[0]!, {namespaces: [MIX]})
      expect(r.namespaces[0]).toMatchObject({status: 0, registrations: [], pages: 1})
      expect(server.registrations()).toEqual([])
    } finally {
      await other.node.stop()
    }
  })

  it('caps live registrations per peer with E_NOT_AUTHORIZED, counting replacements once', async () => {
    const register = (namespace: string) => registerRendezvous(server.addresses[0]!, {namespace, record: peer.record, node: peer.node})
    expect((await register('rs/1/a')).statusName).toBe('OK')
    expect((await register('rs/1/b')).statusName).toBe('OK')
    const third = await register('rs/1/c')
    expect(third).toMatchObject({status: RENDEZVOUS_STATUS.E_NOT_AUTHORIZED, statusName: 'E_NOT_AUTHORIZED'})
    expect((await register('rs/1/a')).statusName).toBe('OK')
    clock += 61_000 // both expire, so the peer may register again
    expect((await register('rs/1/c')).statusName).toBe('OK')
  })

  it('seals its own record from a private key when none is given', async () => {
    const key = await generateKeyPair('secp256k1')
    const r = await registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/own', privateKey: key, addresses: ['/ip4/127.0.0.1/tcp/63000'], mixKey: 'aa'.repeat(32)})
    expect(r).toMatchObject({status: 0, peerId: peerIdFromPrivateKey(key).toString()})
    expect(server.registrations('rs/1/own')).toMatchObject([{peerId: r.peerId, addresses: ['/ip4/127.0.0.1/tcp/63000'], mixKey: 'aa'.repeat(32)}])
    await expect(registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/own'})).rejects.toMatchObject({code: 'NO_RECORD'})
    await expect(registerRendezvous(server.addresses[0]!, {namespace: 'rs/1/own', privateKey: key, node: peer.node})).rejects.toMatchObject({code: 'KEY_NOT_NODE'})
  })
})

describe('rendezvous client against hostile or odd points', () => {
  const points: TestPeer[] = []
  let good: Uint8Array
  let good2: Uint8Array
  let goodPeer: string
  beforeAll(async () => {
    const k1 = await generateKeyPair('secp256k1')
    goodPeer = peerIdFromPrivateKey(k1).toString()
    good = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/64000'], mixKey: '11'.repeat(32)}, k1)
    good2 = await sealWakuPeerRecord({addresses: ['/ip4/127.0.0.1/tcp/64001']}, await generateKeyPair('secp256k1'))
  })
  afterAll(async () => Promise.all(points.map((p) => p.stop())))
  const start = async (handler: RawHandler) => {
    const p = await startTestPeer({protocols: {[WAKU_RENDEZVOUS_PROTOCOL]: handler}})
    points.push(p)
    return p
  }

  it('turns garbage, an oversized frame, truncation and a wrong message type into typed errors', async () => {
    const garbage = await start(answer(hex('0aff')))
    await expect(discoverRendezvous(garbage.tcp, {namespaces: [MIX]})).rejects.toMatchObject({name: 'ProtocolError', code: 'BAD_PROTOBUF'})
    const huge = await start(rawAnswer(hex('ffffff7f'))) // declares 268 MB
    await expect(discoverRendezvous(huge.tcp, {namespaces: [MIX]})).rejects.toMatchObject({name: 'ProtocolError', code: 'FRAME_TOO_LARGE'})
    const capped = await start(answer(encodeDiscoverResponse({registrations: Array.from({length: 20}, () => ({ns: MIX, signedPeerRecord: good})), status: 0})))
    await expect(discoverRendezvous(capped.tcp, {namespaces: [MIX], maxResponseBytes: 1000})).rejects.toThrow(/more than the 1000-byte limit/)
    const truncated = await start(rawAnswer(hex('200a0208')))
    await expect(discoverRendezvous(truncated.tcp, {namespaces: [MIX]})).rejects.toMatchObject({code: 'TRUNCATED_FRAME'})
    const wrongType = await start(answer(encodeRegisterResponse({status: 0})))
    await expect(discoverRendezvous(wrongType.tcp, {namespaces: [MIX]})).rejects.toMatchObject({code: 'UNEXPECTED_MESSAGE'})
    const noBody = await start(answer(hex('0804')))
    await expect(discoverRendezvous(noBody.tcp, {namespaces: [MIX]})).rejects.toMatchObject({code: 'EMPTY_PAYLOAD'})
    const closes = await start(rawAnswer(new Uint8Array(0)))
    await expect(discoverRendezvous(closes.tcp, {namespaces: [MIX]})).rejects.toBeInstanceOf(ProtocolError)
  })

  it('reports each bad registration with its error and keeps the good ones', async () => {
    const tampered = Uint8Array.from(good2)
    tampered[tampered.length - 2] ^= 0x10
    const p = await start(answer(encodeDiscoverResponse({
      registrations: [
        {ns: MIX, signedPeerRecord: good, ttl: 50n},
        {ns: MIX, signedPeerRecord: hex('ff')},
        {ns: MIX, signedPeerRecord: tampered},
        {ns: 'rs/2/mix', signedPeerRecord: good2},
        {ns: MIX, signedPeerRecord: good},
      ],
      status: 0,
    })))
    const r = await discoverRendezvous(p.tcp, {namespaces: [MIX]})
    const ns = r.namespaces[0]!
    expect(ns).toMatchObject({valid: 3, invalid: 2, pages: 1})
    expect(ns.registrations[0]).toMatchObject({ok: true, peerId: goodPeer, ttl: 50, mixKey: '11'.repeat(32)})
    expect(ns.registrations[1]).toMatchObject({ok: false, error: {name: 'ProtocolError', code: 'BAD_ENVELOPE'}, envelopeHex: 'ff'})
    expect(ns.registrations[1]!.error!.message).toMatch(/^registration 1: /)
    expect(ns.registrations[2]).toMatchObject({ok: false, error: {name: 'CheckFailedError', code: 'BAD_RECORD_SIGNATURE'}})
    expect(ns.registrations[3]).toMatchObject({ok: true, namespace: 'rs/2/mix'})
    expect(ns.registrations[4]).toMatchObject({ok: true, duplicateOf: 0})
    expect(ns.warnings.join('\n')).toMatch(/registration 3 is for namespace "rs\/2\/mix"/)
    expect(ns.warnings.join('\n')).toMatch(/registration 4 repeats peer/)
    expect(r.peers).toBe(2)
  })

  it('stops when the cookie does not advance, and reports error statuses', async () => {
    const stuck = await start(answer(encodeDiscoverResponse({registrations: [{ns: MIX, signedPeerRecord: good}], cookie: hex('0801'), status: 0})))
    const r = await discoverRendezvous(stuck.tcp, {namespaces: [MIX]})
    expect(r.namespaces[0]).toMatchObject({pages: 2, truncated: false})
    expect(r.namespaces[0]!.warnings.join('\n')).toMatch(/cookie did not advance/)
    const refusing = await start(answer(encodeDiscoverResponse({registrations: [{ns: MIX, signedPeerRecord: good}], status: RENDEZVOUS_STATUS.E_UNAVAILABLE, statusText: 'busy'})))
    const u = await discoverRendezvous(refusing.tcp, {namespaces: [MIX]})
    expect(u.namespaces[0]).toMatchObject({status: 400, statusName: 'E_UNAVAILABLE', statusText: 'busy', registrations: []})
    expect(u.namespaces[0]!.warnings.join('\n')).toMatch(/status 400 E_UNAVAILABLE but 1 registrations were sent/)
    const odd = await start(answer(encodeDiscoverResponse({registrations: [], status: 777})))
    expect((await discoverRendezvous(odd.tcp, {namespaces: [MIX]})).namespaces[0]).toMatchObject({status: 777, statusName: 'UNRECOGNISED'})
  })

  it('keeps the namespaces that worked when another one fails', async () => {
    const p = await start(answer((request) => {
      const ns = decodeRendezvousMessage(request!).discover?.ns
      return ns === 'rs/1/bad' ? hex('0aff') : encodeDiscoverResponse({registrations: [{ns: ns!, signedPeerRecord: good}], status: 0})
    }))
    const r = await discoverRendezvous(p.tcp, {namespaces: ['rs/1/bad', MIX]})
    expect(r.namespaces[0]).toMatchObject({namespace: 'rs/1/bad', status: -1, statusName: 'NO_ANSWER', error: {name: 'ProtocolError', code: 'BAD_PROTOBUF'}})
    expect(r.namespaces[1]).toMatchObject({namespace: MIX, valid: 1})
  })

  it('gives up on a silent or dripping point at the deadline with a typed timeout', async () => {
    const quiet = await start(silent)
    const t0 = Date.now()
    await expect(discoverRendezvous(quiet.tcp, {namespaces: [MIX], timeouts: {protocolMs: 500}})).rejects.toMatchObject({name: 'UnreachableError', code: 'TIMEOUT'})
    const drip = await start(dripAnswer(encodeDiscoverResponse({registrations: [{ns: MIX, signedPeerRecord: good}], status: 0}), 100))
    await expect(discoverRendezvous(drip.tcp, {namespaces: [MIX], timeoutMs: 700})).rejects.toBeInstanceOf(UnreachableError)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('reports a peer without the protocol, and refuses bad options before dialling', async () => {
    const plain = await startTestPeer()
    points.push(plain)
    await expect(discoverRendezvous(plain.tcp, {namespaces: [MIX]})).rejects.toMatchObject({code: 'PROTOCOL_UNSUPPORTED'})
    await expect(discoverRendezvous(plain.tcp, {namespaces: []})).rejects.toMatchObject({code: 'NO_NAMESPACE'})
    await expect(discoverRendezvous(plain.tcp, {namespaces: [MIX], limit: 0})).rejects.toMatchObject({code: 'BAD_LIMIT'})
    await expect(discoverRendezvous(plain.tcp, {namespaces: [MIX], limit: 1001})).rejects.toBeInstanceOf(BadInputError)
    await expect(discoverRendezvous(plain.tcp, {namespaces: ['']})).rejects.toMatchObject({code: 'BAD_NAMESPACE'})
    await expect(discoverRendezvous(plain.tcp, {namespaces: [MIX], protocol: 'nope'})).rejects.toMatchObject({code: 'BAD_PROTOCOL'})
    await expect(discoverRendezvous('/ip4/127.0.0.1/tcp/1', {namespaces: [MIX]})).rejects.toMatchObject({code: 'MISSING_PEER_ID'})
  })
})
