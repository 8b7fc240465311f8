import {describe, expect, it} from 'vitest'

import {boundedIntake, TokenBucket} from '../../../../src/lib/webrtc/waku-signal/intake.js'
import {MAX_SIGNAL_BYTES, type RefusalCode} from '../../../../src/lib/webrtc/waku-signal/messages.js'

describe('listener intake', () => {
  it('TokenBucket: a burst at once, then perSecond', () => {
    const b = new TokenBucket(3, 2)
    const t0 = Date.now()
    expect([b.take(t0), b.take(t0), b.take(t0), b.take(t0)]).toEqual([true, true, true, false])
    expect(b.take(t0 + 400)).toBe(false)
    expect(b.take(t0 + 500)).toBe(true)
    // Never more than the burst, however long it was idle.
    expect([...Array(5)].map(() => b.take(t0 + 60_000))).toEqual([true, true, true, false, false])
  })

  it('boundedIntake: refuses oversized messages and a full queue unread, reads the rest in order, 16 per turn', async () => {
    const read: number[] = []
    const refused: [number, RefusalCode][] = []
    const turns: number[] = []
    const push = boundedIntake(
      20,
      (b) => read.push(b[0]!),
      (b, code) => refused.push([b.length, code]),
    )
    push(new Uint8Array(MAX_SIGNAL_BYTES + 1))
    for (let i = 0; i < 25; i++) push(Uint8Array.of(i))
    expect(read).toEqual([])
    expect(refused).toEqual([[MAX_SIGNAL_BYTES + 1, 'SIGNAL_TOO_BIG'], ...[...Array(5)].map(() => [1, 'SIGNAL_QUEUE_FULL'])])
    await new Promise((r) => setImmediate(r))
    turns.push(read.length)
    await new Promise((r) => setImmediate(r))
    turns.push(read.length)
    expect(turns).toEqual([16, 20])
    expect(read).toEqual([...Array(20).keys()])
  })
})
