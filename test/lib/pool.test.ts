import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {Limiter} from '../../src/lib/pool.js'

const tick = () => new Promise((r) => setTimeout(r, 1))

describe('Limiter', () => {
  it('never runs more than its limit, runs everything, in arrival order, and idle() waits for all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({min: 1, max: 6}), fc.array(fc.integer({min: 0, max: 3}), {maxLength: 40}), async (limit, delays) => {
        const limiter = new Limiter(limit)
        let running = 0
        let peak = 0
        const started: number[] = []
        const results = delays.map((d, i) =>
          limiter.run(async () => {
            started.push(i)
            running++
            peak = Math.max(peak, running)
            for (let k = 0; k < d; k++) await tick()
            running--
            return i
          }),
        )
        await limiter.idle()
        expect(running).toBe(0)
        expect(limiter.active + limiter.pending).toBe(0)
        expect(peak).toBeLessThanOrEqual(limit)
        expect(started).toEqual(delays.map((_, i) => i))
        expect(await Promise.all(results)).toEqual(delays.map((_, i) => i))
      }),
      {numRuns: 200},
    )
  })

  it('a failing task frees its place and its error reaches only its caller', async () => {
    const limiter = new Limiter(1)
    const bad = limiter.run(async () => {
      throw new Error('boom')
    })
    const good = limiter.run(async () => 'ok')
    await expect(bad).rejects.toThrow('boom')
    await expect(good).resolves.toBe('ok')
    await limiter.idle()
  })

  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Limiter(bad)).toThrow(RangeError)
  })
})
