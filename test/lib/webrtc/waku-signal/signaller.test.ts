import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {UnreachableError} from '../../../../src/lib/errors.js'
import {generatePrivateKey, peerIdOf, publicKeyOf} from '../../../../src/lib/keys/index.js'
import {publicKeyFromPeerId} from '../../../../src/lib/webrtc/waku-signal/identity.js'
import {createInvitation, listenerTopic} from '../../../../src/lib/webrtc/waku-signal/messages.js'
import {startWakuEndpoint, startWakuNetwork, type WakuNetwork} from '../../../../src/lib/webrtc/waku-signal/network.js'
import {connectWakuSignal, type WakuSignaller} from '../../../../src/lib/webrtc/waku-signal/signaller.js'

// A real node-datachannel offer (as in messages.test.ts).
const SDP =
  'v=0\r\no=rtc 4036007048 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\na=ice-options:ice2,trickle\r\na=fingerprint:sha-256 B1:E5:D7:8A:EF:84:97:B6:3C:21:32:E7:1C:E3:C6:8E:85:A1:B8:22:D5:42:56:1B:F5:AB:10:4A:35:CF:8D:3E\r\nm=application 36386 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.2\r\na=mid:0\r\na=sendrecv\r\na=sctp-port:5000\r\na=max-message-size:262144\r\na=setup:actpass\r\na=ice-ufrag:JeHk\r\na=ice-pwd:0Bqxl5pk7SQHNq/XjZeJM4\r\na=candidate:1 1 UDP 2114977791 192.0.2.2 36386 typ host\r\na=end-of-candidates\r\n'
const ANSWER = SDP.replace('a=setup:actpass', 'a=setup:active')

/** What runPeer does with a signaller pair, without the WebRTC part. */
async function exchange(listener: WakuSignaller, dialer: WakuSignaller): Promise<{offer: string; answer: string; applied: boolean}> {
  const served = listener.receive('offer').then(async (o) => {
    await listener.send({type: 'answer', sdp: ANSWER})
    return o.sdp
  })
  await dialer.waitPeer()
  await dialer.send({type: 'offer', sdp: SDP})
  const answer = await dialer.receive('answer')
  const offer = await served
  dialer.applied!.tell()
  const applied = await listener.applied!.wait(5000)
  return {offer, answer: answer.sdp, applied}
}

describe('Waku signaller on a local 3-node js-waku relay network', {timeout: 90_000}, () => {
  let net: WakuNetwork
  const open: WakuSignaller[] = []
  const track = (s: WakuSignaller) => (open.push(s), s)
  beforeAll(async () => {
    net = await startWakuNetwork({nodes: 3, cluster: 42})
  })
  afterAll(async () => {
    for (const s of open) s.close()
    await Promise.all(open.map((s) => s.closed))
    await net?.stop()
  })

  it('listener on node 1, dialer on node 3: offer, answer and applied cross two hops; observers say what the nodes learned', async () => {
    const identities: string[] = []
    const l = track(await connectWakuSignal({role: 'answerer', node: net.nodes[0]!.multiaddr, cluster: 42, announceIntervalMs: 1000, onIdentity: (i) => identities.push(i.enr)}))
    expect(identities).toEqual([l.identity!.enr])
    expect(l.identity!.topic).toBe(listenerTopic(l.identity!.peerId))
    const d = track(await connectWakuSignal({role: 'offerer', node: net.nodes[2]!.multiaddr, cluster: 42, peer: l.identity!.enr}))
    const r = await exchange(l, d)
    expect(r).toEqual({offer: SDP, answer: ANSWER, applied: true})
    const ls = l.stats()
    expect(ls.refusedTotal).toBe(0)
    expect(ls.published.byKind.answer).toBe(1)
    expect(ls.sameNode).toBe(false)
    expect(d.stats().published.byKind).toMatchObject({invite: 1, applied: 1})
    const [node, subscribers] = l.observers()
    expect(node).toMatchObject({server: net.nodes[0]!.multiaddr, role: 'waku-node', sawBothPeers: 'unknown', carriedData: false})
    expect(node!.sawAddresses.every((a) => a.startsWith('127.0.0.1:'))).toBe(true)
    expect(node!.learned.join(' ')).toMatch(/sealed to the listener’s key/)
    expect(subscribers).toMatchObject({role: 'waku-subscribers', sawAddresses: [], carriedData: false})
  })

  it('both peers on the same node: the node is named as having seen both', async () => {
    const key = generatePrivateKey()
    const l = track(await connectWakuSignal({role: 'answerer', node: net.nodes[1]!.multiaddr, cluster: 42, privateKey: key, announceIntervalMs: 1000}))
    // --key: the identity is the key's.
    expect(l.identity!.peerId).toBe(peerIdOf(publicKeyOf(key)))
    const d = track(await connectWakuSignal({role: 'offerer', node: net.nodes[1]!.multiaddr, cluster: 42, peer: l.identity!.peerId}))
    await exchange(l, d)
    expect(d.stats().sameNode).toBe(true)
    expect(d.observers()[0]!.sawBothPeers).toBe(true)
  })

  it('a flood of junk, replayed, wrong-key, stale and oversized invitations: the real dialer still gets through, refusals are counted', async () => {
    const l = track(await connectWakuSignal({role: 'answerer', node: net.nodes[0]!.multiaddr, cluster: 42, announceIntervalMs: 1000, limits: {burst: 16, perSecond: 16}}))
    const attacker = await startWakuEndpoint({cluster: 42})
    try {
      await attacker.connect(net.nodes[1]!.multiaddr)
      const topic = l.identity!.topic
      const pub = publicKeyOf(generatePrivateKey())
      const listenerPub = publicKeyFromPeerId(l.identity!.peerId)!
      const valid = createInvitation({listenerPublicKey: listenerPub, listenerPeerId: l.identity!.peerId, sdp: SDP}).bytes
      const floods: Uint8Array[] = []
      for (let i = 0; i < 100; i++) floods.push(new Uint8Array(Array.from({length: 50 + i}, (_, j) => (i * 31 + j * 7) & 255)))
      for (let i = 0; i < 60; i++) floods.push(createInvitation({listenerPublicKey: pub, listenerPeerId: l.identity!.peerId, sdp: SDP}).bytes) // wrong key
      for (let i = 0; i < 40; i++) floods.push(createInvitation({listenerPublicKey: listenerPub, listenerPeerId: l.identity!.peerId, sdp: SDP, now: Date.now() - 120_000}).bytes) // stale
      for (let i = 0; i < 60; i++) {
        const t = Uint8Array.from(valid)
        t[t.length - 1 - (i % 40)]! ^= 1 + i // tampered
        floods.push(t)
      }
      floods.push(new Uint8Array(20_000).fill(1)) // oversized
      // Sent while the real dialer connects, waits for the announcement and invites.
      const d = track(await connectWakuSignal({role: 'offerer', node: net.nodes[2]!.multiaddr, cluster: 42, peer: l.identity!.peerId, resendMs: 1000}))
      const sending = (async () => {
        for (const f of floods) await attacker.publish(topic, f).catch(() => {})
      })()
      const r = await exchange(l, d)
      await sending
      expect(r.offer).toBe(SDP)
      // The attacker's valid invitation, and replays of it, arrive while we serve the real one.
      for (let i = 0; i < 20; i++) {
        // A millisecond apart: the Waku message timestamp differs, so relay's message id does too.
        await new Promise((resolve) => setTimeout(resolve, 3))
        await attacker.publish(topic, valid)
      }
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const s = l.stats()
      expect(s.refused.SIGNAL_JUNK ?? 0).toBeGreaterThan(0)
      // Wrong-key invitations cost no ECDH (the key hint), so they are never rate limited.
      expect(s.refused.SIGNAL_WRONG_KEY).toBe(60)
      expect(s.refused.SIGNAL_STALE ?? 0).toBeGreaterThan(0)
      expect(s.refused.SIGNAL_TOO_BIG).toBe(1)
      // Tampered ones need the ECDH: beyond the burst they are dropped unread.
      expect(s.refused.SIGNAL_TAMPERED ?? 0).toBeGreaterThan(0)
      expect(s.refused.SIGNAL_RATE_LIMITED ?? 0).toBeGreaterThan(0)
      expect(s.refused.SIGNAL_BUSY).toBe(1)
      expect(s.refused.SIGNAL_REPLAYED ?? 0).toBeGreaterThan(0)
      expect(s.refusedTotal).toBeGreaterThan(250)
    } finally {
      await attacker.stop()
    }
  })

  it('--peer of a listener that is not there: SIGNAL_TIMEOUT (UnreachableError, exit 4)', async () => {
    const absent = peerIdOf(publicKeyOf(generatePrivateKey()))
    const d = track(await connectWakuSignal({role: 'offerer', node: net.nodes[0]!.multiaddr, cluster: 42, peer: absent, waitPeerTimeoutMs: 2500}))
    const err = await d.waitPeer().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err).toMatchObject({code: 'SIGNAL_TIMEOUT', exitCode: 4})
  })

  it('an unreachable Waku node, or one on another cluster: typed errors', async () => {
    const dead = net.nodes[0]!.multiaddr.replace(/\/tcp\/\d+\//, '/tcp/1/')
    await expect(connectWakuSignal({role: 'answerer', node: dead, cluster: 42, connectTimeoutMs: 5000})).rejects.toMatchObject({code: 'WAKU_UNREACHABLE', exitCode: 4})
    await expect(connectWakuSignal({role: 'answerer', node: net.nodes[0]!.multiaddr, cluster: 43, connectTimeoutMs: 4000})).rejects.toMatchObject({exitCode: 4})
  })
})
