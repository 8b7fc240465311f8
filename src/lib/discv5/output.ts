/**
 * Crawl outputs: geth's node-set (nodes.json) and CSV rows. NDJSON lines are the CrawledNode
 * objects themselves (one JSON object per line; the node-set reader accepts them).
 */
import {formatGoTime, type NodeSet} from '../nodeset/index.js'
import type {CrawledNode} from './crawl.js'

/**
 * The responsive nodes as geth's node set (what `devp2p discv5 crawl` writes): keyed by node id,
 * with score = successful checks (1 per crawl that reached the node), first/last response and
 * last check times.
 */
export function crawlNodeSet(nodes: Iterable<CrawledNode>, options: {scores?: Map<string, number>; firstResponse?: Map<string, string>} = {}): NodeSet {
  const set: NodeSet = {}
  for (const n of nodes) {
    if (n.status !== 'responsive' || !n.matches) continue
    const last = formatGoTime(new Date(n.lastSeen))
    set[n.nodeId] = {
      seq: n.seq,
      record: n.enr,
      score: options.scores?.get(n.nodeId) ?? 1,
      firstResponse: options.firstResponse?.get(n.nodeId) ?? formatGoTime(new Date(n.firstSeen)),
      lastResponse: last,
      lastCheck: last,
    }
  }
  return set
}

export const CSV_COLUMNS = ['nodeId', 'seq', 'ip', 'udp', 'tcp', 'status', 'responsive', 'rttMs', 'seenBy', 'waku2', 'cluster', 'shards', 'multiaddrs', 'refusal', 'enr', 'visitError', 'agent', 'protocols', 'metadataCluster', 'metadataShards', 'pingMs', 'findings', 'outsidePreset'] as const

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return ''
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',')
}

export function csvRow(n: CrawledNode): string {
  const cells: unknown[] = [
    n.nodeId,
    n.seq,
    n.ip,
    n.udp,
    n.tcp,
    n.status,
    n.responsive,
    n.rttMs,
    n.seenBy,
    n.waku?.waku2?.capabilities.join(' '),
    n.waku?.cluster,
    n.waku?.shards?.join(' '),
    n.waku?.multiaddrs?.join(' '),
    n.refusal,
    n.enr,
    // Visit columns come last so that readers of the older 15-column layout keep working.
    n.visit ? (n.visit.error?.class ?? 'ok') : undefined,
    n.visit?.agentVersion,
    n.visit?.protocols.join(' '),
    n.visit?.metadata?.clusterId,
    n.visit?.metadata?.shards.join(' '),
    n.visit?.pingMs,
    n.visit?.findings.map((f) => f.code).join(' '),
    n.outsidePreset?.code,
  ]
  return cells.map(csvCell).join(',')
}
