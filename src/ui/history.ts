import type {HistoryReport} from '../lib/history/report.js'
import {discoveryCurveChart} from './chart.js'
import {colorsFor} from './colors.js'

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`)

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((v, i) => (i === 0 || /^[\d.,%–-]+$/.test(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)]
}

function top(counts: Record<string, number>, n = 8): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1])
  const shown = entries.slice(0, n).map(([k, v]) => `${k} ${v}`)
  if (entries.length > n) shown.push(`… ${entries.length - n} more`)
  return shown.join(', ') || '–'
}

export function renderHistory(r: HistoryReport, stream: NodeJS.WriteStream = process.stdout): string {
  const c = colorsFor(stream)
  const out: string[] = []
  const filters = [r.filters.network && `network ${r.filters.network}`, r.filters.since && `since ${r.filters.since}`].filter(Boolean).join(', ')
  out.push(c.bold(`history of ${r.database.url}`) + c.dim(` (${r.database.backend}, schema v${r.database.schemaVersion})${filters ? ` — ${filters}` : ''}`))
  if (r.crawls.length === 0) {
    out.push('no crawls stored yet: run `waku-disc crawl … --db URL` first')
    return out.join('\n')
  }
  const churn = new Map(r.churn.map((x) => [x.crawlId, x]))
  out.push(
    ...table(
      ['crawl', 'started', 'network', 'strategy', 'discovered', 'responsive', 'waku', 'share', 'joined', 'left', 'state'],
      r.crawls.map((x) => [
        String(x.id),
        x.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        `${x.network}/${x.protocolId}`,
        x.strategy,
        String(x.discovered),
        String(x.responsive),
        String(x.waku),
        pct(x.wakuShare),
        churn.has(x.id) ? String(churn.get(x.id)!.joined) : '–',
        churn.has(x.id) ? String(churn.get(x.id)!.left) : '–',
        x.interrupted ? c.yellow(x.state === 'running' ? 'never finished' : x.state) : x.state,
      ]),
    ),
  )
  const u = r.uptime
  out.push('', `uptime over ${u.peers} peers: median ${pct(u.median)}, mean ${pct(u.mean)}; sessions ${u.sessions.open} open, ${u.sessions.closed} closed` + (u.sessions.medianMs === null ? '' : `, median ${(u.sessions.medianMs / 60_000).toFixed(1)} min`))
  out.push('  ' + u.histogram.map((b) => `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}%: ${b.peers}`).join('  '))
  const last = (xs: HistoryReport['capabilities']) => xs.at(-1)?.counts ?? {}
  out.push(`capabilities (last crawl): ${top(last(r.capabilities))}`)
  out.push(`shards (last crawl): ${top(last(r.shards), 12)}`)
  out.push(`agents (last crawl): ${top(last(r.agents), 6)}`)
  if (r.lastCrawl) {
    const chart = discoveryCurveChart(r.lastCrawl.curve, stream)
    if (chart) out.push('', `crawl ${r.lastCrawl.id}: ${chart}`)
  }
  if (r.peer) {
    const p = r.peer
    out.push('', c.bold(`peer ${p.nodeId}`), `  peer id ${p.peerId ?? '–'}, first seen ${p.firstSeen}, last seen ${p.lastSeen}, seq ${p.latestSeq}, uptime ${pct(p.uptime)}`)
    out.push(
      ...table(
        ['crawl', 'started', 'status', 'seq', 'rtt ms', 'record'],
        p.observations.map((o) => [String(o.crawlId), o.startedAt ?? '–', o.status, o.seq, o.rttMs === null ? '–' : String(Math.round(o.rttMs)), o.recordChanged ? 'new' : 'same']),
      ).map((l) => '  ' + l),
    )
    for (const s of p.sessions) out.push(`  session ${s.startedAt} → ${s.endedAt ?? 'open'} (${s.crawls} crawls, last seen ${s.lastSeenAt})`)
  }
  return out.join('\n')
}
