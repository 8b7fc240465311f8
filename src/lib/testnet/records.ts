/**
 * Realistic ENR entries for testnet nodes: Waku's `waku2`, `rs` and `multiaddrs` keys encoded per
 * 31/WAKU2-ENR and RELAY-SHARDING. Written here (a few lines) rather than through the ENR module so
 * the testnet stays an independent producer of records that the crawler's decoder then reads.
 */
import {multiaddr} from '@multiformats/multiaddr'

export const WAKU_CAPS = ['relay', 'store', 'filter', 'lightpush', 'sync'] as const

/** A small seeded PRNG (mulberry32) so role and capability layouts repeat for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export interface WakuProfile {
  caps: number // waku2 bit field
  cluster: number
  shards: number[]
  multiaddrs: string[]
}

export function encodeRs(cluster: number, shards: number[]): Uint8Array {
  const out = new Uint8Array(3 + 2 * shards.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, cluster)
  out[2] = shards.length
  shards.forEach((s, i) => view.setUint16(3 + 2 * i, s))
  return out
}

export function encodeMultiaddrs(addrs: string[]): Uint8Array {
  const parts = addrs.map((a) => multiaddr(a).bytes)
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0))
  let off = 0
  for (const p of parts) {
    out[off] = p.length >> 8
    out[off + 1] = p.length & 0xff
    out.set(p, off + 2)
    off += 2 + p.length
  }
  return out
}

/** ENR entries for a Waku profile. */
export function wakuEntries(profile: WakuProfile): Record<string, Uint8Array> {
  return {
    waku2: Uint8Array.of(profile.caps),
    rs: encodeRs(profile.cluster, profile.shards),
    multiaddrs: encodeMultiaddrs(profile.multiaddrs),
  }
}

/** A random but plausible Waku profile: relay nearly always, some store/filter/lightpush/sync. */
export function randomWakuProfile(rand: () => number, index: number, cluster: number, shardCount: number): WakuProfile {
  let caps = rand() < 0.95 ? 1 : 0
  if (rand() < 0.4) caps |= 2
  if (rand() < 0.5) caps |= 4
  if (rand() < 0.5) caps |= 8
  if (rand() < 0.15) caps |= 16
  if (caps === 0) caps = 1
  const shards: number[] = []
  for (let s = 0; s < shardCount; s++) if (rand() < 0.6) shards.push(s)
  if (shards.length === 0) shards.push(Math.floor(rand() * Math.max(1, shardCount)))
  return {
    caps,
    cluster,
    shards,
    multiaddrs: [`/dns4/n${index}.waku.test/tcp/8000/wss`],
  }
}
