/**
 * The analysis a crawl summary carries, after the ambient-peer-discovery seed (vac.dev rlog
 * 2022-05-09): a random walk that samples k nodes per query finds at least one Waku node with
 * probability P after q = log_{(1-p)^k}(1-P) queries, each query costing log_{2^b} n hops.
 * Plus the Kademlia distance estimator of network size (go-libp2p-kad-dht netsize): for random
 * targets, the normalised XOR distance of the i-th closest node averages i/(n+1).
 */

export interface RandomWalkEstimate {
  /** Waku share p (0–1) the estimate uses. */
  p: number
  /** Target probability of finding at least one Waku node. */
  P: number
  /** Nodes per random sample (bucket size). */
  k: number
  /** Bits per hop. */
  b: number
  /** Network size n the hop count uses. */
  n: number
  /** Queries q = log_{(1-p)^k}(1-P); null when p = 0 (never). */
  queries: number | null
  /** Hops per query, log_{2^b} n. */
  hopsPerQuery: number | null
  /** queries × hops. */
  overlayHops: number | null
}

export function randomWalkEstimate(input: {p: number; n: number; P?: number; k?: number; b?: number}): RandomWalkEstimate {
  const P = input.P ?? 0.9
  const k = input.k ?? 16
  const b = input.b ?? 1
  const {p, n} = input
  let queries: number | null
  if (!(p > 0)) queries = null
  else if (p >= 1) queries = 0
  else queries = Math.log(1 - P) / (k * Math.log(1 - p))
  const hopsPerQuery = n >= 1 ? Math.log2(Math.max(n, 1)) / b : null
  const overlayHops = queries !== null && hopsPerQuery !== null ? queries * hopsPerQuery : null
  return {p, P, k, b, n, queries, hopsPerQuery, overlayHops}
}

/** A node id's XOR distance to a target, as a fraction of 2^256 (52 bits of precision). */
export function normalizedDistance(a: string, b: string): number {
  // XOR the first 13 hex digits (52 bits) exactly, in two halves to stay within 32-bit ops.
  const hiA = Number.parseInt(a.slice(0, 7), 16)
  const hiB = Number.parseInt(b.slice(0, 7), 16)
  const loA = Number.parseInt(a.slice(7, 13), 16)
  const loB = Number.parseInt(b.slice(7, 13), 16)
  const hi = (hiA ^ hiB) >>> 0
  const lo = (loA ^ loB) >>> 0
  return (hi * 2 ** 24 + lo) / 2 ** 52
}

export interface SizeEstimate {
  /** Estimated number of nodes, or null with too few samples. */
  estimate: number | null
  samples: number
}

/**
 * Least-squares fit through the origin of E[d_i] = i/(n+1) over every sample (each sample: the
 * sorted normalised distances of the closest nodes found for one random target).
 */
export function kademliaSizeEstimate(samples: readonly number[][], minSamples = 3): SizeEstimate {
  let sxy = 0
  let sxx = 0
  let used = 0
  for (const distances of samples) {
    if (distances.length === 0) continue
    used++
    distances.forEach((d, i) => {
      sxy += (i + 1) * d
      sxx += (i + 1) * (i + 1)
    })
  }
  if (used < minSamples || sxy <= 0) return {estimate: null, samples: used}
  const slope = sxy / sxx
  return {estimate: Math.max(0, 1 / slope - 1), samples: used}
}

/** The closest k distances from a target to any of the given node ids (for offline estimates). */
export function closestDistances(target: string, nodeIds: Iterable<string>, k = 16): number[] {
  const all: number[] = []
  for (const id of nodeIds) all.push(normalizedDistance(target, id))
  all.sort((x, y) => x - y)
  return all.slice(0, k)
}

export interface CurvePoint {
  /** Milliseconds since the crawl started. */
  ms: number
  requests: number
  discovered: number
  responsive: number
}

/** Thins a curve to at most `max` points, keeping the first and last. */
export function thinCurve(points: readonly CurvePoint[], max = 120): CurvePoint[] {
  if (points.length <= max) return [...points]
  const out: CurvePoint[] = []
  const step = (points.length - 1) / (max - 1)
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]!)
  return out
}
