/**
 * Exhaustive: every routing-table bucket of every responsive node, so the output has each node's
 * neighbours. The first contact (FINDNODE [0]: the node's current record) runs ahead in the
 * scheduler's own pool; enumerations follow in theirs.
 */
import {FULL_BUCKET} from '../crawl-types.js'
import type {CrawlEntry, StrategyHost} from '../crawl-entry.js'

/** First contact: the node's own record; on an answer its buckets are queued for enumeration. */
export async function exhaustiveFirstContact(host: StrategyHost, entry: CrawlEntry): Promise<void> {
  entry.neighbours = new Set()
  const self = await host.findNode(entry, [0], 0)
  if (self === undefined) {
    if (host.requeue(entry)) return
    if (!host.aborted) {
      entry.status = 'unresponsive'
      host.finalize(entry)
    }
    return
  }
  for (const enr of self) if (enr.nodeId === entry.nodeId && enr.seq > entry.enr.seq) host.learn(enr, undefined, 'discv5')
  host.enqueueEnumeration(entry)
}

/**
 * Every bucket of the node, from distance 256 down: one distance per request while buckets come
 * back full (15+), then one request for the next three distances; stop when that comes back short.
 */
export async function enumerateBuckets(host: StrategyHost, entry: CrawlEntry): Promise<void> {
  if (host.aborted) return
  let d = 256
  let consecutiveFailures = 0
  while (d >= 1 && !host.aborted) {
    const single = await host.findNode(entry, [d])
    if (single === undefined) {
      if (++consecutiveFailures >= 2) break
      d--
      continue
    }
    consecutiveFailures = 0
    host.absorb(entry, single)
    if (single.length >= FULL_BUCKET) {
      d--
      continue
    }
    const tail = [d - 1, d - 2, d - 3].filter((x) => x >= 1)
    if (tail.length === 0) break
    const rest = await host.findNode(entry, tail)
    if (rest === undefined) break
    host.absorb(entry, rest)
    if (rest.length < FULL_BUCKET) break
    d -= 4
  }
  if (!host.aborted) host.finalize(entry)
}
