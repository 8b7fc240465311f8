/**
 * Compares what the discovery sources know, per source: peers found, how many another source
 * also knows, how many only this one knows, how many answered discv5 and were dialable over
 * libp2p, and how many records lag the newest seq seen for the same node (stale records are a
 * known peer-exchange complaint). Pure: reads the crawl's nodes and the gatherer's results.
 */
import type {ErrorJson} from '../errors.js'
import type {PeerVisit} from '../visit/index.js'
import type {SourceResult} from './gather.js'

/**
 * What the comparison reads of one crawled node. The discv5 crawl's CrawledNode has these fields;
 * they are named here so that this folder does not import the crawl (which imports this folder).
 */
export interface SourcedNode {
  nodeId: string
  /** The record's seq (decimal). */
  seq: string
  status: string
  /** Discovery sources that knew the node (discv5, dns, px, …). */
  sources?: string[]
  /** Source → the highest ENR seq it held (decimal). */
  sourceSeqs?: Record<string, string>
  /** With visits on: what dialling it over libp2p found. */
  visit?: Pick<PeerVisit, 'error'>
}

export interface SourceComparison {
  found: number
  /** Also known to at least one other source. */
  alsoElsewhere: number
  /** Known to this source alone. */
  only: number
  /** Answered the crawler's discv5 requests. */
  responsive: number
  /** Visited over libp2p, and identified (null when visits were off). */
  visited: number | null
  dialable: number | null
  /** Records older than the newest seq seen for the node (null: the source has no ENR seq). */
  stale: number | null
  /** Wall time of gathering, queries made, errors (other sources than discv5). */
  ms?: number
  queries?: number
  errors?: ErrorJson[]
}

export interface SourcesReport {
  /** Source name → comparison; discv5 is the DHT crawl itself. */
  bySource: Record<string, SourceComparison>
  /** Peers a source named that the crawl never saw as a record (rendezvous peers outside the DHT). */
  outsideCrawl: Array<{source: string; peerId: string; nodeId: string; addresses: string[]; visit?: PeerVisit}>
}

/** Sources whose seq is an ENR seq (rendezvous uses a timestamp). */
const ENR_SOURCES = new Set(['discv5', 'dns', 'px'])

export function compareSources(
  nodes: readonly SourcedNode[],
  results: readonly SourceResult[],
  visitsOn: boolean,
  outsideVisits: ReadonlyMap<string, PeerVisit | undefined> = new Map(),
): SourcesReport {
  const names = ['discv5', ...results.map((r) => r.name)]
  const bySource: Record<string, SourceComparison> = {}
  for (const name of names) {
    bySource[name] = {found: 0, alsoElsewhere: 0, only: 0, responsive: 0, visited: visitsOn ? 0 : null, dialable: visitsOn ? 0 : null, stale: ENR_SOURCES.has(name) ? 0 : null}
  }
  for (const n of nodes) {
    const sources = n.sources ?? []
    for (const name of sources) {
      const c = bySource[name]
      if (!c) continue
      c.found++
      if (sources.length > 1) c.alsoElsewhere++
      else c.only++
      if (n.status === 'responsive') c.responsive++
      if (visitsOn && n.visit) {
        c.visited!++
        if (n.visit.error === null) c.dialable!++
      }
      const seq = n.sourceSeqs?.[name]
      if (c.stale !== null && seq !== undefined && BigInt(seq) < BigInt(n.seq)) c.stale++
    }
  }
  const seen = new Set(nodes.map((n) => n.nodeId))
  const outsideCrawl: SourcesReport['outsideCrawl'] = []
  for (const r of results) {
    const c = bySource[r.name]!
    c.ms = r.ms
    c.queries = r.queries
    c.errors = r.errors
    for (const p of r.peers) {
      if (seen.has(p.nodeId)) continue
      c.found++
      c.only++
      const visit = outsideVisits.get(p.nodeId)
      if (visitsOn && visit) {
        c.visited!++
        if (visit.error === null) c.dialable!++
      }
      if (outsideCrawl.length < 1000) outsideCrawl.push({source: r.name, peerId: p.peerId, nodeId: p.nodeId, addresses: p.addresses, ...(visit ? {visit} : {})})
    }
  }
  return {bySource, outsideCrawl}
}
