/**
 * The crawl report's arithmetic: counts and histograms over the reported nodes, the rounding of
 * the analysis figures, and the "reached nothing" verdict. Pure functions of the node list.
 */
import {UnreachableError} from '../errors.js'
import type {WakuCapability} from '../enr/index.js'
import type {RefusalReason} from '../net/index.js'
import type {RandomWalkEstimate} from './analysis.js'
import type {CrawledNode, CrawlSummary} from './crawl-types.js'

export type NodeTally = Pick<CrawlSummary, 'counts' | 'refusals' | 'capabilities' | 'clusters' | 'shards'>

/** Counts by status, Waku share, refusal reasons, capability/cluster/shard histograms (responsive nodes). */
export function tallyNodes(nodes: readonly CrawledNode[]): NodeTally {
  const counts = {
    discovered: nodes.length,
    responsive: 0,
    unresponsive: 0,
    refused: 0,
    noAddress: 0,
    unvisited: 0,
    waku: 0,
    wakuDiscovered: 0,
    matching: 0,
    matchingResponsive: 0,
  }
  const refusals: Partial<Record<RefusalReason, number>> = {}
  const capabilities: Partial<Record<WakuCapability, number>> = {}
  const clusters: Record<string, number> = {}
  const shards: Record<string, number> = {}
  for (const n of nodes) {
    const waku = n.waku?.waku2 !== undefined
    if (waku) counts.wakuDiscovered++
    if (n.matches) counts.matching++
    switch (n.status) {
      case 'responsive':
        counts.responsive++
        if (n.matches) counts.matchingResponsive++
        if (waku) {
          counts.waku++
          for (const c of n.waku!.waku2!.capabilities) capabilities[c] = (capabilities[c] ?? 0) + 1
        }
        if (n.waku?.cluster !== undefined) {
          clusters[String(n.waku.cluster)] = (clusters[String(n.waku.cluster)] ?? 0) + 1
          for (const s of n.waku.shards ?? []) shards[`${n.waku.cluster}/${s}`] = (shards[`${n.waku.cluster}/${s}`] ?? 0) + 1
        }
        break
      case 'unresponsive':
        counts.unresponsive++
        break
      case 'refused':
        counts.refused++
        refusals[n.refusal!] = (refusals[n.refusal!] ?? 0) + 1
        break
      case 'no-address':
        counts.noAddress++
        break
      default:
        counts.unvisited++
    }
  }
  return {counts, refusals, capabilities, clusters, shards}
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100
}

export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000
}

export function roundEstimate(e: RandomWalkEstimate): RandomWalkEstimate {
  return {
    ...e,
    n: Math.round(e.n),
    queries: e.queries === null ? null : round2(e.queries),
    hopsPerQuery: e.hopsPerQuery === null ? null : round2(e.hopsPerQuery),
    overlayHops: e.overlayHops === null ? null : round2(e.overlayHops),
  }
}

/** Throws UnreachableError when a finished crawl reached none of its bootnodes. */
export function assertReachedSomething(result: CrawlSummary): void {
  if (result.counts.responsive === 0 && result.state === 'complete') {
    throw new UnreachableError('NO_RESPONSE', `no bootnode answered (${result.bootnodes} tried, protocol id ${result.protocolId})`, {
      hint: 'check the network (--network waku uses d5waku, ethereum uses discv5) and that the bootnodes are up',
    })
  }
}
