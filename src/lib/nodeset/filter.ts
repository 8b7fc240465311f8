/** Filters over a node set: Waku criteria of the records, score, age, and a limit (geth's `devp2p nodeset filter`). */
import {decodeEnr, matchesNodeFilter, parseEnr} from '../enr/index.js'
import {GO_ZERO_TIME, type NodeSet, type NodeSetFilter, type NodeSetFilterDrops} from './types.js'

/** Applies Waku filters, score and age limits, then the limit (after the others, like geth). */
export function filterNodeSet(set: NodeSet, filter: NodeSetFilter): NodeSet {
  return filterNodeSetDetailed(set, filter).set
}

/** {@link filterNodeSet}, also counting what each criterion dropped (so a user can see why a tree came out empty). */
export function filterNodeSetDetailed(set: NodeSet, filter: NodeSetFilter): {set: NodeSet; dropped: NodeSetFilterDrops} {
  const dropped: NodeSetFilterDrops = {minScore: 0, minAge: 0, record: 0, limit: 0}
  const needsDecode = filter.wakuOnly || (filter.capabilities?.length ?? 0) > 0 || filter.cluster !== undefined || filter.shard !== undefined
  let kept = Object.entries(set).filter(([, entry]) => {
    if (filter.minScore !== undefined && (entry.score ?? 0) < filter.minScore) {
      dropped.minScore++
      return false
    }
    if (filter.minAge !== undefined) {
      const first = timeOf(entry.firstResponse)
      const last = timeOf(entry.lastResponse)
      if (first === undefined || last === undefined || (last - first) / 1000 < filter.minAge) {
        dropped.minAge++
        return false
      }
    }
    if (needsDecode) {
      const record = parseEnr(entry.record, {verifySignature: false})
      if (!matchesNodeFilter(decodeEnr(record), filter)) {
        dropped.record++
        return false
      }
    }
    return true
  })
  if (filter.limit !== undefined && kept.length > filter.limit) {
    dropped.limit = kept.length - Math.max(0, filter.limit)
    kept = kept
      .sort(([idA, a], [idB, b]) => (b.score ?? 0) - (a.score ?? 0) || (idA < idB ? -1 : idA > idB ? 1 : 0))
      .slice(0, Math.max(0, filter.limit))
  }
  return {set: Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), dropped}
}

function timeOf(value: string | undefined): number | undefined {
  if (value === undefined || value === GO_ZERO_TIME) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}
