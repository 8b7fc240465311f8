import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ProtocolError} from '../../../../src/lib/errors.js'
import {encodeEnr} from '../../../../src/lib/enr/index.js'
import {generatePrivateKey, peerIdOf, publicKeyOf} from '../../../../src/lib/keys/index.js'
import {ecdh, ephemeralKeyPair, open, seal, sessionKeys} from '../../../../src/lib/webrtc/waku-signal/crypto.js'
import {
  ANNOUNCE_TOPIC,
  createInvitation,
  decodeAnnounce,
  encodeAnnounce,
  listenerTopic,
  MAX_SIGNAL_BYTES,
  openAnswer,
  openApplied,
  openInvitation,
  REFUSAL_CODES,
  sealAnswer,
  sealApplied,
} from '../../../../src/lib/webrtc/waku-signal/messages.js'
import {parseWakuNode, pubsubTopicOf} from '../../../../src/lib/webrtc/waku-signal/network.js'
import {parsePeer, publicKeyFromPeerId} from '../../../../src/lib/webrtc/waku-signal/identity.js'
import {ReplayGuard} from '../../../../src/lib/webrtc/waku-signal/replay.js'

const SDP =
  'v=0\r\no=rtc 4036007048 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\na=ice-options:ice2,trickle\r\na=fingerprint:sha-256 B1:E5:D7:8A:EF:84:97:B6:3C:21:32:E7:1C:E3:C6:8E:85:A1:B8:22:D5:42:56:1B:F5:AB:10:4A:35:CF:8D:3E\r\nm=application 36386 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.2\r\na=mid:0\r\na=sendrecv\r\na=sctp-port:5000\r\na=max-message-size:262144\r\na=setup:actpass\r\na=ice-ufrag:JeHk\r\na=ice-pwd:0Bqxl5pk7SQHNq/XjZeJM4\r\na=candidate:1 1 UDP 2114977791 192.0.2.2 36386 typ host\r\na=end-of-candidates\r\n'

function listener() {
  const privateKey = generatePrivateKey()
  const publicKey = publicKeyOf(privateKey)
  const peerId = peerIdOf(publicKey)
  return {privateKey, publicKey, peerId, topic: listenerTopic(peerId)}
}

/** The refusal code thrown by f, failing the test for anything that is not one of ours. */
function refusal(f: () => unknown): string | undefined {
  try {
    f()
    return undefined
  } catch (err) {
    if (!(err instanceof ProtocolError) || !(REFUSAL_CODES as readonly string[]).includes(err.code)) throw err
    return err.code
  }
}

const L = listener()
const open_ = (bytes: Uint8Array, l = L, now?: number) => openInvitation(bytes, {staticPrivateKey: l.privateKey, staticPublicKey: l.publicKey, topic: l.topic, now})
const invite = (l = L, now?: number) => createInvitation({listenerPublicKey: l.publicKey, listenerPeerId: l.peerId, sdp: SDP, node: '12D3KooWFFxPM9qaffgce2qwjbhxq6s7LaqcyM896YbboF5umCP7', now})

describe('waku signalling crypto', () => {
  it('ECDH agrees both ways, HKDF gives distinct keys per direction, the AEAD opens only with its key and AAD', () => {
    const a = ephemeralKeyPair()
    const b = ephemeralKeyPair()
    const s1 = ecdh(a.privateKey, b.publicKey)!
    expect(s1).toHaveLength(32)
    expect(ecdh(b.privateKey, a.publicKey)).toEqual(s1)
    expect(ecdh(a.privateKey, new Uint8Array(33).fill(7))).toBeUndefined()
    const k = sessionKeys(s1, a.publicKey, b.publicKey)
    expect(k.toListener).not.toEqual(k.toDialer)
    expect(sessionKeys(s1, b.publicKey, a.publicKey).toListener).not.toEqual(k.toListener)
    const aad = new Uint8Array([1, 2, 3])
    const {nonce, sealed} = seal(k.toListener, aad, new TextEncoder().encode('hello'))
    expect(new TextDecoder().decode(open(k.toListener, aad, nonce, sealed)!)).toBe('hello')
    expect(open(k.toDialer, aad, nonce, sealed)).toBeUndefined()
    expect(open(k.toListener, new Uint8Array([1, 2, 4]), nonce, sealed)).toBeUndefined()
    // Fresh nonces: the same plaintext never seals to the same bytes.
    expect(seal(k.toListener, aad, new Uint8Array(5)).nonce).not.toEqual(seal(k.toListener, aad, new Uint8Array(5)).nonce)
  })
})

describe('waku signalling messages', () => {
  it('invitation → answer → applied round trip; the answer and applied are bound to the invitation', () => {
    const inv = invite()
    const opened = open_(inv.bytes)
    expect(opened.sdp).toBe(SDP)
    expect(opened.node).toBe('12D3KooWFFxPM9qaffgce2qwjbhxq6s7LaqcyM896YbboF5umCP7')
    expect(opened.session.idHex).toBe(inv.session.idHex)
    expect(opened.session.replyTopic).toBe(inv.session.replyTopic)
    const answer = sealAnswer(opened.session, SDP.replace('actpass', 'active'), '12D3KooWJ6hQMkstRK4NU7KnS3g6UpyetSFPv1kGtXHPjo71i3Hf')
    expect(openAnswer(inv.session, answer)).toEqual({sdp: SDP.replace('actpass', 'active'), node: '12D3KooWJ6hQMkstRK4NU7KnS3g6UpyetSFPv1kGtXHPjo71i3Hf'})
    openApplied(opened.session, sealApplied(inv.session))
    // Another invitation's session cannot read this answer, nor accept this applied notice.
    const other = invite()
    const otherWithSameReply = {...other.session, replyTopic: inv.session.replyTopic}
    expect(refusal(() => openAnswer(otherWithSameReply, answer))).toBe('SIGNAL_WRONG_KEY')
    expect(refusal(() => openApplied(open_(other.bytes).session, sealApplied(inv.session)))).toBe('SIGNAL_WRONG_KEY')
    // Same id, other keys (a forged answer claiming the invitation): refused as tampered.
    expect(refusal(() => openAnswer({...otherWithSameReply, id: inv.session.id, idHex: inv.session.idHex}, answer))).toBe('SIGNAL_TAMPERED')
  })

  it('wrong key, wrong topic, stale, oversized', () => {
    const M = listener()
    // Sealed to L's key but published on M's topic: the header names L's topic.
    expect(refusal(() => open_(invite(L).bytes, M))).toBe('SIGNAL_WRONG_TOPIC')
    // Published on M's topic but sealed to L's key: refused before any ECDH.
    const misdirected = createInvitation({listenerPublicKey: L.publicKey, listenerPeerId: M.peerId, sdp: SDP})
    expect(refusal(() => open_(misdirected.bytes, M))).toBe('SIGNAL_WRONG_KEY')
    const now = Date.now()
    expect(refusal(() => open_(invite(L, now - 61_000).bytes, L, now))).toBe('SIGNAL_STALE')
    expect(refusal(() => open_(invite(L, now + 61_000).bytes, L, now))).toBe('SIGNAL_STALE')
    expect(open_(invite(L, now - 59_000).bytes, L, now).sdp).toBe(SDP)
    expect(refusal(() => open_(new Uint8Array(MAX_SIGNAL_BYTES + 1)))).toBe('SIGNAL_TOO_BIG')
    // We refuse to build what the other side would refuse.
    expect(refusal(() => createInvitation({listenerPublicKey: L.publicKey, listenerPeerId: L.peerId, sdp: SDP + 'a=x\r\n'.repeat(4000)}))).toBe('SIGNAL_TOO_BIG')
  })

  it('an invitation whose SDP is not usable is refused as SIGNAL_BAD_SDP', () => {
    const bad = createInvitation({listenerPublicKey: L.publicKey, listenerPeerId: L.peerId, sdp: 'v=0\r\nnot sdp'})
    expect(refusal(() => open_(bad.bytes))).toBe('SIGNAL_BAD_SDP')
  })

  it('property: any changed byte of an invitation, answer or applied notice → a typed refusal, never acceptance', () => {
    const inv = invite()
    const opened = open_(inv.bytes)
    const answer = sealAnswer(opened.session, SDP)
    const applied = sealApplied(inv.session)
    const cases: [Uint8Array, (b: Uint8Array) => unknown][] = [
      [inv.bytes, (b) => open_(b)],
      [answer, (b) => openAnswer(inv.session, b)],
      [applied, (b) => openApplied(opened.session, b)],
    ]
    fc.assert(
      fc.property(fc.nat({max: 2}), fc.nat(), fc.integer({min: 1, max: 255}), (which, at, xor) => {
        const [bytes, read] = cases[which]!
        const t = Uint8Array.from(bytes)
        t[at % t.length]! ^= xor
        expect(refusal(() => read(t))).toBeDefined()
      }),
      {numRuns: 600},
    )
    // Truncated anywhere, or with bytes appended: refused too.
    fc.assert(
      fc.property(fc.nat({max: 2}), fc.nat(), (which, cut) => {
        const [bytes, read] = cases[which]!
        expect(refusal(() => read(bytes.subarray(0, cut % bytes.length)))).toBeDefined()
        expect(refusal(() => read(Uint8Array.from([...bytes, cut & 255])))).toBeDefined()
      }),
      {numRuns: 200},
    )
  })

  it('property: random junk, and junk behind a valid header, only ever gives typed refusals', () => {
    const header = invite().bytes.subarray(0, 11 + L.topic.length)
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 2000}), fc.boolean(), (junk, withHeader) => {
        const bytes = withHeader ? Uint8Array.from([...header, ...junk]) : junk
        expect(refusal(() => open_(bytes))).toBeDefined()
        expect(refusal(() => openAnswer(invite().session, bytes))).toBeDefined()
        expect(refusal(() => decodeAnnounce(bytes))).toBeDefined()
      }),
      {numRuns: 300},
    )
  })

  it('announcement: signed ENR and topic, verified; tampering, a foreign signature and staleness refused', () => {
    const enr = encodeEnr({privateKey: L.privateKey, seq: 1n, cluster: 1, shards: [0]})
    const bytes = encodeAnnounce({privateKey: L.privateKey, enr})
    const a = decodeAnnounce(bytes)
    expect(a.peerId).toBe(L.peerId)
    expect(a.topic).toBe(L.topic)
    // Someone else re-signing L's ENR cannot announce it.
    expect(refusal(() => decodeAnnounce(encodeAnnounce({privateKey: generatePrivateKey(), enr})))).toBe('SIGNAL_TAMPERED')
    const now = Date.now()
    expect(refusal(() => decodeAnnounce(encodeAnnounce({privateKey: L.privateKey, enr, now: now - 70_000}), now))).toBe('SIGNAL_STALE')
    fc.assert(
      fc.property(fc.nat(), fc.integer({min: 1, max: 255}), (at, xor) => {
        const t = Uint8Array.from(bytes)
        t[at % t.length]! ^= xor
        expect(refusal(() => decodeAnnounce(t))).toBeDefined()
      }),
      {numRuns: 300},
    )
    expect(ANNOUNCE_TOPIC).toBe('/waku-disc/1/webrtc-announce/proto')
  })

  it('replay guard remembers keys for the window, and stays bounded', () => {
    const g = new ReplayGuard(1000, 3)
    expect(g.seen('a', 0)).toBe(false)
    expect(g.seen('a', 500)).toBe(true)
    expect(g.has('a', 999)).toBe(true)
    expect(g.has('a', 1000)).toBe(false)
    for (const k of ['b', 'c', 'd', 'e']) g.seen(k, 600)
    expect(g.size).toBeLessThanOrEqual(3)
  })

  it('peer ids and --peer / --waku-node parsing', () => {
    expect(publicKeyFromPeerId(L.peerId)).toEqual(L.publicKey)
    expect(publicKeyFromPeerId('12D3KooWJ6hQMkstRK4NU7KnS3g6UpyetSFPv1kGtXHPjo71i3Hf')).toBeUndefined() // Ed25519
    expect(publicKeyFromPeerId('not base58 0OIl')).toBeUndefined()
    const enr = encodeEnr({privateKey: L.privateKey, seq: 1n})
    expect(parsePeer(enr.text).peerId).toBe(L.peerId)
    expect(parsePeer(L.peerId).publicKey).toEqual(L.publicKey)
    expect(() => parsePeer('enr:-garbage')).toThrow(expect.objectContaining({code: 'BAD_PEER', exitCode: 2}))
    expect(() => parsePeer('hello')).toThrow(expect.objectContaining({code: 'BAD_PEER'}))
    const ws = '/ip4/127.0.0.1/tcp/8000/ws/p2p/16Uiu2HAmMTqc4VatRDuPBwmR1nCzRihWbpw5ccQRroy9LKqdoQ9V'
    expect(parseWakuNode(ws)).toBe(ws)
    expect(() => parseWakuNode('/ip4/127.0.0.1/tcp/8000/ws')).toThrow(expect.objectContaining({code: 'WAKU_NODE_NO_PEER_ID'}))
    expect(() => parseWakuNode('/ip4/127.0.0.1/tcp/8000/p2p/16Uiu2HAmMTqc4VatRDuPBwmR1nCzRihWbpw5ccQRroy9LKqdoQ9V')).toThrow(expect.objectContaining({code: 'WAKU_NODE_NO_WEBSOCKET'}))
    expect(() => parseWakuNode('nonsense')).toThrow(expect.objectContaining({code: 'BAD_WAKU_NODE', exitCode: 2}))
    // An ENR: its WebSocket multiaddr is used; one with only ip+tcp is refused with the reason.
    const withWs = encodeEnr({privateKey: L.privateKey, seq: 2n, ip: '127.0.0.1', tcp: 60000, multiaddrs: ['/ip4/127.0.0.1/tcp/8000/ws']})
    expect(parseWakuNode(withWs.text)).toBe(`/ip4/127.0.0.1/tcp/8000/ws/p2p/${L.peerId}`)
    const tcpOnly = encodeEnr({privateKey: L.privateKey, seq: 3n, ip: '127.0.0.1', tcp: 60000})
    expect(() => parseWakuNode(tcpOnly.text)).toThrow(expect.objectContaining({code: 'WAKU_NODE_NO_WEBSOCKET'}))
    expect(pubsubTopicOf(1, 0)).toBe('/waku/2/rs/1/0')
    expect(() => pubsubTopicOf(70000, 0)).toThrow(expect.objectContaining({code: 'BAD_CLUSTER'}))
    expect(() => pubsubTopicOf(1, -1)).toThrow(expect.objectContaining({code: 'BAD_SHARD'}))
  })
})
