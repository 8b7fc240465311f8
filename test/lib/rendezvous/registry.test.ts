// The rendezvous point's registrations (registry.ts) on their own: replacement, removal, expiry by
// the injected clock, and DISCOVER pages with cookies, without a libp2p node.
import {describe, expect, it} from 'vitest'

import {RENDEZVOUS_STATUS, RendezvousRegistry, decodeCookie, encodeCookie, type OpenedWakuPeerRecord} from '../../../src/lib/rendezvous/index.js'

/** The registry stores the opened record as given; only peerId, seqNo, addresses and mixKey are read. */
function record(peerId: string, seqNo = 1n): OpenedWakuPeerRecord {
  return {
    peerId,
    seqNo,
    addresses: [`/ip4/127.0.0.1/tcp/${60000 + Number(seqNo)}`],
    peerIdEncoding: 'bytes',
    textAddresses: 0,
    publicKey: {type: 'secp256k1', protobufHex: ''},
    payloadType: '300000',
    legacyPayloadType: false,
  }
}
const spr = (tag: number) => Uint8Array.of(tag)

function clock(start = 1_000_000): {now: () => number; advance: (ms: number) => void} {
  let t = start
  return {now: () => t, advance: (ms) => (t += ms)}
}

describe('RendezvousRegistry', () => {
  it('one registration per peer and namespace: a new one replaces the old', () => {
    const c = clock()
    const reg = new RendezvousRegistry(c.now)
    reg.put('rs/1/mix', spr(1), record('A', 1n), 60)
    reg.put('rs/1/0', spr(2), record('A', 1n), 60)
    const info = reg.put('rs/1/mix', spr(3), record('A', 2n), 120)
    expect(info).toMatchObject({namespace: 'rs/1/mix', peerId: 'A', seqNo: '2', ttlSeconds: 120, expiresAt: new Date(1_000_000 + 120_000).toISOString()})
    expect(reg.list('rs/1/mix').map((r) => r.seqNo)).toEqual(['2'])
    expect(reg.countFor('A')).toBe(2)
    expect(reg.list()).toHaveLength(2)
  })

  it('removes a peer\'s registration in one namespace only', () => {
    const reg = new RendezvousRegistry(clock().now)
    reg.put('a', spr(1), record('A'), 60)
    reg.put('b', spr(2), record('A'), 60)
    reg.put('a', spr(3), record('B'), 60)
    expect(reg.remove('a', 'A')).toBe(1)
    expect(reg.remove('a', 'A')).toBe(0)
    expect(reg.list().map((r) => `${r.namespace}:${r.peerId}`)).toEqual(['b:A', 'a:B'])
  })

  it('expires registrations by the injected clock; DISCOVER reports the seconds left', () => {
    const c = clock()
    const reg = new RendezvousRegistry(c.now)
    reg.put('a', spr(1), record('A'), 60)
    reg.put('a', spr(2), record('B'), 120)
    c.advance(59_500)
    expect(reg.discover({ns: 'a'}, 10).registrations.map((r) => r.ttl)).toEqual([1n, 61n])
    c.advance(500)
    expect(reg.list().map((r) => r.peerId)).toEqual(['B'])
    expect(reg.countFor('A')).toBe(0)
  })

  it('pages in arrival order with a cookie; the limit is clamped to the point\'s maximum', () => {
    const reg = new RendezvousRegistry(clock().now)
    for (const p of ['A', 'B', 'C', 'D', 'E']) reg.put('a', spr(p.charCodeAt(0)), record(p), 60)
    reg.put('other', spr(0), record('Z'), 60)
    const first = reg.discover({ns: 'a', limit: 2n}, 10)
    expect(first.status).toBe(RENDEZVOUS_STATUS.OK)
    expect(first.registrations.map((r) => r.signedPeerRecord[0])).toEqual([65, 66])
    expect(decodeCookie(first.cookie!)).toEqual({offset: 2n, ns: 'a'})
    const second = reg.discover({ns: 'a', limit: 99n, cookie: first.cookie}, 2)
    expect(second.registrations.map((r) => r.signedPeerRecord[0])).toEqual([67, 68])
    const third = reg.discover({ns: 'a', cookie: second.cookie}, 10)
    expect(third.registrations.map((r) => r.signedPeerRecord[0])).toEqual([69])
    // Past the end: nothing, and the cookie stays where it was.
    const end = reg.discover({ns: 'a', cookie: third.cookie}, 10)
    expect(end.registrations).toEqual([])
    expect(decodeCookie(end.cookie!)).toEqual(decodeCookie(third.cookie!))
    // Without a namespace: every namespace, and a cookie without one.
    const all = reg.discover({}, 10)
    expect(all.registrations.map((r) => r.ns)).toEqual(['a', 'a', 'a', 'a', 'a', 'other'])
    expect(decodeCookie(all.cookie!)).toEqual({offset: 6n})
  })

  it('a cookie from another namespace starts from the beginning; an unreadable one or a long namespace is refused', () => {
    const reg = new RendezvousRegistry(clock().now)
    reg.put('a', spr(1), record('A'), 60)
    reg.put('b', spr(2), record('B'), 60)
    expect(reg.discover({ns: 'b', cookie: encodeCookie({offset: 5n, ns: 'a'})}, 10).registrations).toHaveLength(1)
    expect(reg.discover({ns: 'b', cookie: Uint8Array.of(0xff)}, 10)).toMatchObject({status: RENDEZVOUS_STATUS.E_INVALID_COOKIE, registrations: []})
    expect(reg.discover({ns: 'b', cookie: encodeCookie({offset: 2n ** 60n, ns: 'b'})}, 10)).toMatchObject({status: RENDEZVOUS_STATUS.E_INVALID_COOKIE})
    expect(reg.discover({ns: 'x'.repeat(256)}, 10)).toMatchObject({status: RENDEZVOUS_STATUS.E_INVALID_NAMESPACE, registrations: []})
  })

  it('compacting dead entries keeps issued cookies valid', () => {
    const c = clock()
    const reg = new RendezvousRegistry(c.now)
    for (let i = 0; i < 40; i++) reg.put('a', spr(i), record(`dead${i}`), 60)
    reg.put('a', spr(100), record('keep1'), 3600)
    const page = reg.discover({ns: 'a', limit: 41n}, 100)
    reg.put('a', spr(101), record('keep2'), 3600)
    c.advance(61_000)
    // Enough new puts to cross the compaction threshold (64 entries, most of them dead).
    for (let i = 0; i < 30; i++) reg.put('b', spr(i), record(`b${i}`), 60)
    const next = reg.discover({ns: 'a', cookie: page.cookie}, 100)
    expect(next.registrations.map((r) => r.signedPeerRecord[0])).toEqual([101])
    expect(reg.list('a').map((r) => r.peerId)).toEqual(['keep1', 'keep2'])
  })
})
