/** The summary of a crawl's visits: counts by outcome and class, agents, protocols, metadata, findings. */
import type {DialErrorClass} from './classes.js'
import type {PeerVisit} from './visitor.js'

export interface VisitSummary {
  /** Responsive nodes considered for a visit (succeeded + every failed class). */
  attempted: number
  /** Dialled and identified. */
  succeeded: number
  failed: Partial<Record<DialErrorClass, number>>
  /** Median dial and ping times of successful visits (ms). */
  medianDialMs: number | null
  medianPingMs: number | null
}

export interface VisitReport {
  visits: VisitSummary
  /** identify agent strings, verbatim → peers. */
  agents: Record<string, number>
  /** Protocol ids from identify → peers announcing them. */
  protocols: Record<string, number>
  /** What the metadata exchange said: cluster → peers, cluster/shard → peers. */
  metadata: {clusters: Record<string, number>; shards: Record<string, number>}
  /** Finding code → peers with it. */
  findings: Record<string, number>
}

export function summarizeVisits(visits: Iterable<PeerVisit>): VisitReport {
  const report: VisitReport = {
    visits: {attempted: 0, succeeded: 0, failed: {}, medianDialMs: null, medianPingMs: null},
    agents: {},
    protocols: {},
    metadata: {clusters: {}, shards: {}},
    findings: {},
  }
  const dial: number[] = []
  const ping: number[] = []
  const bump = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1)
  for (const v of visits) {
    report.visits.attempted++
    if (v.error) report.visits.failed[v.error.class] = (report.visits.failed[v.error.class] ?? 0) + 1
    else {
      report.visits.succeeded++
      if (v.dialMs !== null) dial.push(v.dialMs)
      if (v.pingMs !== null) ping.push(v.pingMs)
    }
    if (v.agentVersion !== null) bump(report.agents, v.agentVersion)
    for (const p of v.protocols) bump(report.protocols, p)
    if (v.metadata?.clusterId != null) {
      bump(report.metadata.clusters, String(v.metadata.clusterId))
      for (const s of v.metadata.shards) bump(report.metadata.shards, `${v.metadata.clusterId}/${s}`)
    }
    for (const code of new Set(v.findings.map((f) => f.code))) bump(report.findings, code)
  }
  report.visits.medianDialMs = median(dial)
  report.visits.medianPingMs = median(ping)
  return report
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * 100) / 100
}
