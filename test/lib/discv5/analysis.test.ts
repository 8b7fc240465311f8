import {randomBytes} from 'node:crypto'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {closestDistances, kademliaSizeEstimate, normalizedDistance, randomWalkEstimate, thinCurve} from '../../../src/lib/discv5/index.js'

describe('random-walk estimate (ambient peer discovery seed)', () => {
  it('reproduces the seed: p = 0.1% needs about 144 queries, p = 1% about 14', () => {
    expect(randomWalkEstimate({p: 0.001, n: 2 ** 18}).queries).toBeCloseTo(143.8, 0)
    expect(randomWalkEstimate({p: 0.01, n: 2 ** 18}).queries).toBeCloseTo(14.3, 0)
  })

  it('hops are log_{2^b} n: 18 for n = 2^18 with b = 1, 6 with b = 3', () => {
    const e1 = randomWalkEstimate({p: 0.001, n: 2 ** 18})
    expect(e1.hopsPerQuery).toBeCloseTo(18, 6)
    expect(e1.overlayHops).toBeCloseTo(143.8 * 18, -1)
    expect(randomWalkEstimate({p: 0.001, n: 2 ** 18, b: 3}).hopsPerQuery).toBeCloseTo(6, 6)
  })

  it('p = 0 never finds a Waku node; p = 1 needs no query', () => {
    expect(randomWalkEstimate({p: 0, n: 100}).queries).toBeNull()
    expect(randomWalkEstimate({p: 0, n: 100}).overlayHops).toBeNull()
    expect(randomWalkEstimate({p: 1, n: 100}).queries).toBe(0)
  })

  it('q satisfies 1 - (1-p)^(kq) = P (property)', () => {
    fc.assert(
      fc.property(fc.double({min: 0.0001, max: 0.99, noNaN: true}), fc.double({min: 0.1, max: 0.99, noNaN: true}), fc.integer({min: 1, max: 64}), (p, P, k) => {
        const q = randomWalkEstimate({p, P, k, n: 1000}).queries!
        expect(1 - (1 - p) ** (k * q)).toBeCloseTo(P, 6)
      }),
    )
  })
})

describe('network size', () => {
  it('normalised distance is symmetric, zero to itself, and in [0, 1)', () => {
    const a = randomBytes(32).toString('hex')
    const b = randomBytes(32).toString('hex')
    expect(normalizedDistance(a, a)).toBe(0)
    expect(normalizedDistance(a, b)).toBe(normalizedDistance(b, a))
    expect(normalizedDistance('8' + '0'.repeat(63), '0'.repeat(64))).toBe(0.5)
    expect(normalizedDistance('f'.repeat(64), '0'.repeat(64))).toBeLessThan(1)
  })

  it('the Kademlia estimator recovers the size of a uniform network within 15%', () => {
    const n = 3000
    const ids = Array.from({length: n}, () => randomBytes(32).toString('hex'))
    const samples = Array.from({length: 60}, () => closestDistances(randomBytes(32).toString('hex'), ids, 16))
    const {estimate, samples: used} = kademliaSizeEstimate(samples)
    expect(used).toBe(60)
    expect(estimate!).toBeGreaterThan(n * 0.85)
    expect(estimate!).toBeLessThan(n * 1.15)
  })

  it('needs a few samples before estimating', () => {
    expect(kademliaSizeEstimate([[0.1, 0.2]]).estimate).toBeNull()
    expect(kademliaSizeEstimate([]).samples).toBe(0)
  })

  it('thins a curve keeping first and last points', () => {
    const points = Array.from({length: 1000}, (_, i) => ({ms: i, requests: i, discovered: i, responsive: i}))
    const thin = thinCurve(points, 50)
    expect(thin).toHaveLength(50)
    expect(thin[0]).toEqual(points[0])
    expect(thin.at(-1)).toEqual(points.at(-1))
    expect(thinCurve(points.slice(0, 10), 50)).toHaveLength(10)
  })
})
