import {describe, expect, it} from 'vitest'

import {HandshakePacer} from '../../../src/lib/discv5/pacer.js'

const pacer = (o: Partial<ConstructorParameters<typeof HandshakePacer>[0]> = {}) =>
  new HandshakePacer({maxNewSessions: 48, rampMs: 1000, challengeTimeoutMs: 1000, requestTimeoutMs: 2500, now: () => performance.now(), ...o})

describe('HandshakePacer', () => {
  it('ramps the new-handshake cap from 8 to the ceiling over rampMs', () => {
    const p = pacer()
    expect(p.cap(0)).toBe(8)
    expect(p.cap(500)).toBe(24)
    expect(p.cap(1000)).toBe(48)
    expect(p.cap(5000)).toBe(48)
    expect(pacer({maxNewSessions: 4}).cap(0)).toBe(4)
    expect(pacer({rampMs: 0}).cap(0)).toBe(48)
  })

  it('slow handshakes shrink the cap (not below 4) and fast ones grow it back to the ceiling', () => {
    const p = pacer()
    p.onHandshakeRtt(10)
    for (let i = 0; i < 100; i++) p.onHandshakeRtt(500)
    expect(p.cap(5000)).toBe(4)
    for (let i = 0; i < 200; i++) p.onHandshakeRtt(12)
    expect(p.cap(5000)).toBe(48)
  })

  it('waits for a WHOAREYOU at least challengeTimeoutMs, 4× the slowest recent challenge, never on a last attempt', () => {
    const p = pacer()
    expect(p.challengeTimeout(false)).toBe(1000)
    p.onChallengeRtt(400)
    expect(p.challengeTimeout(false)).toBe(1600)
    expect(p.challengeTimeout(true)).toBeUndefined()
    expect(pacer({challengeTimeoutMs: 0}).challengeTimeout(false)).toBeUndefined()
    // Only the last 64 round trips count.
    for (let i = 0; i < 64; i++) p.onChallengeRtt(10)
    expect(p.challengeTimeout(false)).toBe(1000)
  })

  it('a silent first contact holds its slot until its challenge is overdue, within the request timeout', () => {
    const p = pacer()
    expect(p.slotHoldMs()).toBe(300)
    p.onChallengeRtt(20)
    expect(p.slotHoldMs()).toBe(100)
    p.onChallengeRtt(2000)
    expect(p.slotHoldMs()).toBe(300)
    expect(pacer({requestTimeoutMs: 200}).slotHoldMs()).toBe(200)
  })

  it('high loop lag holds new handshakes unless none runs', () => {
    const p = pacer()
    expect(p.lagAllowsHandshake(5)).toBe(true)
    p.lagMs = 200
    expect(p.lagAllowsHandshake(5)).toBe(false)
    expect(p.lagAllowsHandshake(0)).toBe(true)
  })
})
