import {describe, expect, it} from 'vitest'

import {NETWORK_PRESETS, presetFinding, WAKU_NETWORK_BOOTNODES} from '../../../src/lib/discv5/index.js'
import {decodeEnr, parseEnr} from '../../../src/lib/enr/index.js'

describe('network presets', () => {
  it("twn's embedded bootstrap records are valid, signed, and on cluster 1 shards 0–7 with a tcp and wss address", () => {
    const twn = NETWORK_PRESETS.twn!
    expect(twn.bootnodes).toHaveLength(3)
    expect(WAKU_NETWORK_BOOTNODES).toEqual(twn.bootnodes)
    for (const text of twn.bootnodes) {
      const d = decodeEnr(parseEnr(text))
      expect(d.signatureValid).toBe(true)
      expect(d.waku?.cluster).toBe(1)
      expect(d.waku?.shards).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
      expect(d.waku?.waku2?.capabilities).toEqual(['relay', 'store', 'filter', 'lightpush'])
      expect(d.udp).toBe(9000)
      expect(d.waku?.multiaddrs?.some((m) => /\/dns4\/node-01\.[a-z0-9-]+\.waku\.sandbox\.status\.im\/tcp\/8000\/wss/.test(m))).toBe(true)
      expect(presetFinding(d, twn)).toBeUndefined()
    }
  })

  it('every preset names its cluster and a source; presets with no records say how to bootstrap', () => {
    for (const p of Object.values(NETWORK_PRESETS)) {
      expect(p.cluster).toBeGreaterThan(0)
      expect(p.source.length).toBeGreaterThan(10)
      if (p.bootnodes.length === 0 && !p.enrtree) expect(p.description).toMatch(/--bootnode/)
    }
  })

  it('finds records outside a preset, with the reason', () => {
    const twn = NETWORK_PRESETS.twn!
    expect(presetFinding({waku: {cluster: 1, shards: [0, 7]}}, twn)).toBeUndefined()
    expect(presetFinding({waku: {cluster: 1, shards: [3, 8, 9]}}, twn)).toMatchObject({code: 'SHARD_OUT_OF_RANGE', message: expect.stringContaining('8,9')})
    expect(presetFinding({waku: {cluster: 16, shards: [32]}}, twn)?.code).toBe('WRONG_CLUSTER')
    expect(presetFinding({waku: {}}, twn)?.code).toBe('NO_SHARDS')
    // Static sharding: shards are not checked.
    expect(presetFinding({waku: {cluster: 16, shards: [32, 64]}}, NETWORK_PRESETS.status!)).toBeUndefined()
  })
})
