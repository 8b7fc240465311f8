/**
 * Crawl views: the live ink dashboard (stderr, TTY only), the plain status line, and the final
 * summary table. All read the one CrawlView folded from the crawl's events.
 */
import {Box, Text, render, type Instance} from 'ink'
import React from 'react'
import {table} from 'table'

import type {CrawlSummary} from '../lib/discv5/crawl.js'
import type {MonitorSummary} from '../lib/discv5/monitor.js'
import type {CrawlView} from '../lib/discv5/state.js'
import {colorsFor} from './colors.js'

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '–'
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

function topEntries(record: Record<string, number>, limit: number): Array<[string, number]> {
  return Object.entries(record)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
}

function Bar({label, value, max, width = 24}: {label: string; value: number; max: number; width?: number}) {
  const filled = max > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((value / max) * width)) : 0
  return (
    <Text>
      {label.padEnd(12)} <Text color="cyan">{'█'.repeat(filled)}</Text>
      {' '.repeat(width - filled)} {value}
    </Text>
  )
}

export function CrawlDashboard({view}: {view: CrawlView}) {
  const s = view.stats
  const caps = topEntries(view.capabilities, 6)
  const shards = topEntries(view.shards, 8)
  const capMax = Math.max(0, ...caps.map(([, v]) => v))
  const shardMax = Math.max(0, ...shards.map(([, v]) => v))
  const failed = topEntries(view.visited.failed, 5)
  const visitTotal = view.visited.ok + Object.values(view.visited.failed).reduce((a, b) => a + b, 0)
  const agents = topEntries(view.visited.agents, 4)
  const findings = topEntries(view.visited.findings, 4)
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>
        waku-disc crawl · {view.strategy} · protocol {view.protocolId} · {seconds(s.elapsedMs)}
      </Text>
      <Box>
        <Box flexDirection="column" marginRight={4}>
          <Text>discovered   {s.discovered}</Text>
          <Text>responsive   <Text color="green">{s.responsive}</Text></Text>
          <Text>silent       <Text color="yellow">{s.unresponsive}</Text></Text>
          <Text>refused      {s.refused}</Text>
          <Text>queued       {s.queued}</Text>
        </Box>
        <Box flexDirection="column">
          <Text>Waku share   {pct(s.wakuResponsive, s.responsive)} ({s.wakuResponsive})</Text>
          <Text>requests     {s.requests} ({s.requestsPerSecond}/s)</Text>
          <Text>in flight    {s.inFlight}</Text>
          <Text>handshakes   {s.handshakes}</Text>
          <Text>errors       <Text color={s.timeouts > 0 ? 'yellow' : undefined}>{s.timeouts} timeouts, {s.wire.decodeErrors} bad packets</Text></Text>
        </Box>
      </Box>
      {visitTotal > 0 && (
        <Box marginTop={1}>
          <Box flexDirection="column" marginRight={4}>
            <Text underline>libp2p visits</Text>
            <Text>
              identified   <Text color="green">{view.visited.ok}</Text> of {visitTotal}
              {s.visits && s.visits.pending > 0 ? ` (${s.visits.pending} in flight)` : ''}
            </Text>
            {failed.map(([k, v]) => (
              <Text key={k}>
                {k.padEnd(22)} <Text color="yellow">{v}</Text>
              </Text>
            ))}
          </Box>
          <Box flexDirection="column">
            <Text underline>agents</Text>
            {agents.map(([k, v]) => (
              <Text key={k}>
                {k.slice(0, 28).padEnd(28)} {v}
              </Text>
            ))}
            {findings.length > 0 && <Text underline>claims vs reality</Text>}
            {findings.map(([k, v]) => (
              <Text key={k}>
                {k.padEnd(28)} <Text color="yellow">{v}</Text>
              </Text>
            ))}
          </Box>
        </Box>
      )}
      {caps.length > 0 && (
        <Box flexDirection="column" marginTop={1}>
          <Text underline>capabilities</Text>
          {caps.map(([k, v]) => (
            <Bar key={k} label={k} value={v} max={capMax} />
          ))}
        </Box>
      )}
      {shards.length > 0 && (
        <Box flexDirection="column" marginTop={1}>
          <Text underline>shards (cluster/shard)</Text>
          {shards.map(([k, v]) => (
            <Bar key={k} label={k} value={v} max={shardMax} />
          ))}
        </Box>
      )}
    </Box>
  )
}

/** A live dashboard on stderr; update() re-renders, stop() unmounts. */
export function startCrawlDashboard(view: CrawlView): {update(view: CrawlView): void; stop(): void} {
  const instance: Instance = render(<CrawlDashboard view={view} />, {stdout: process.stderr, exitOnCtrlC: false, patchConsole: false})
  let last = 0
  return {
    update(next) {
      const t = Date.now()
      if (t - last < 100 && !next.done) return
      last = t
      instance.rerender(<CrawlDashboard view={next} />)
    },
    stop() {
      instance.unmount()
    },
  }
}

/** The plain periodic status line for non-interactive stderr. */
export function crawlStatusLine(view: CrawlView): string {
  const s = view.stats
  return (
    `[${seconds(s.elapsedMs)}] discovered ${s.discovered}, responsive ${s.responsive}, silent ${s.unresponsive}, refused ${s.refused}, ` +
    `Waku ${s.wakuResponsive} (${pct(s.wakuResponsive, s.responsive)}), requests ${s.requests} (${s.requestsPerSecond}/s), timeouts ${s.timeouts}` +
    (view.strategy === 'random-walk' ? `, lookups ${s.lookups}` : `, queued ${s.queued}`) +
    (s.visits ? `, visits ${s.visits.done} (${s.visits.failed} failed, ${s.visits.pending} pending)` : '')
  )
}

function fmt(n: number | null, digits = 1): string {
  return n === null ? '∞' : n.toFixed(digits)
}

/** The final summary as text (a table plus the analysis lines). */
export function renderCrawlSummary(r: CrawlSummary, stream: NodeJS.WriteStream = process.stdout): string {
  const c = colorsFor(stream)
  const state = r.state === 'complete' ? c.green(r.state) : c.yellow(r.state)
  const rows: string[][] = [
    ['state', `${state} (${r.strategy}, protocol id ${r.protocolId}, ${seconds(r.durationMs)})`],
    ['discovered', String(r.counts.discovered)],
    ['responsive', `${r.counts.responsive}${r.families ? ` (${r.families.ipv4} over IPv4, ${r.families.ipv6} over IPv6)` : ''}`],
    ['Waku nodes (responsive)', `${r.counts.waku} of ${r.counts.wakuDiscovered} discovered`],
    ['unresponsive', String(r.counts.unresponsive)],
    ['refused (address policy)', `${r.counts.refused}${Object.keys(r.refusals).length ? ' — ' + Object.entries(r.refusals).map(([k, v]) => `${k} ${v}`).join(', ') : ''}`],
    ['no address / not visited', `${r.counts.noAddress} / ${r.counts.unvisited}`],
    ['matching filter', `${r.counts.matching} (${r.counts.matchingResponsive} responsive)`],
    ['requests', `${r.requests.sent} (${r.requests.perResponsiveNode}/responsive node), ${r.requests.timeouts} timeouts`],
    ['handshakes', String(r.handshakes)],
    ['packets out / in', `${r.wire.packetsOut} / ${r.wire.packetsIn} (${(r.wire.bytesOut / 1024).toFixed(0)} / ${(r.wire.bytesIn / 1024).toFixed(0)} KiB)`],
  ]
  if (r.lookups) rows.push(['lookups', `${r.lookups.count} (${r.lookups.requestsPerLookup} requests each)`])
  const caps = Object.entries(r.capabilities)
  if (caps.length > 0) rows.push(['capabilities', caps.map(([k, v]) => `${k} ${v}`).join(', ')])
  const shards = topEntries(r.shards, 12)
  if (shards.length > 0) rows.push(['shards', shards.map(([k, v]) => `${k}: ${v}`).join(', ')])
  if (r.visits) {
    const v = r.visits
    const failedClasses = topEntries(v.failed as Record<string, number>, 8)
    const failedTotal = failedClasses.reduce((a, [, n]) => a + n, 0)
    rows.push([
      'libp2p visits',
      `${v.succeeded} of ${v.attempted} identified${v.medianDialMs !== null ? `, median dial ${v.medianDialMs} ms` : ''}${v.medianPingMs !== null ? `, ping ${v.medianPingMs} ms` : ''}`,
    ])
    if (failedTotal > 0) rows.push(['dial failed', `${failedTotal} — ${failedClasses.map(([k, n]) => `${k} ${n}`).join(', ')}`])
    const agents = topEntries(r.agents ?? {}, 6)
    if (agents.length > 0) rows.push(['agents', agents.map(([k, n]) => `${k} ${n}`).join(', ')])
    const protocols = topEntries(r.protocols ?? {}, 10)
    if (protocols.length > 0) rows.push(['protocols (identify)', protocols.map(([k, n]) => `${k} ${n}`).join(', ')])
    const clusters = topEntries(r.metadata?.clusters ?? {}, 6)
    if (clusters.length > 0) {
      rows.push(['metadata clusters', clusters.map(([k, n]) => `${k}: ${n}`).join(', ')])
      rows.push(['metadata shards', topEntries(r.metadata!.shards, 12).map(([k, n]) => `${k}: ${n}`).join(', ')])
    }
    const findings = topEntries(r.findings ?? {}, 12)
    rows.push(['claims vs reality', findings.length > 0 ? findings.map(([k, n]) => `${k} ${n}`).join(', ') : 'every identified peer matches its record'])
  }
  if (r.sources) {
    for (const [name, c] of Object.entries(r.sources.bySource)) {
      const parts = [
        `${c.found} peers (${c.alsoElsewhere} also elsewhere, ${c.only} only here)`,
        `${c.responsive} answered discv5`,
        ...(c.visited !== null ? [`${c.dialable} of ${c.visited} visited dialable`] : []),
        ...(c.stale !== null ? [`${c.stale} stale seq`] : []),
        ...(c.ms !== undefined ? [`${c.ms} ms, ${c.queries} queries${c.errors?.length ? `, ${c.errors.length} errors` : ''}`] : []),
      ]
      rows.push([`source ${name}`, parts.join('; ')])
    }
    if (r.sources.outsideCrawl.length > 0) rows.push(['outside the DHT', `${r.sources.outsideCrawl.length} peers only a rendezvous point named`])
  }
  if (r.preset) {
    const p = r.preset
    const outside = topEntries(p.outside as Record<string, number>, 4)
    const total = outside.reduce((a, [, n]) => a + n, 0)
    rows.push([
      `preset ${p.name}`,
      `cluster ${p.cluster}${p.numShards !== null ? `, shards 0–${p.numShards - 1}` : ''}: ${total} of ${p.checked} responsive Waku nodes outside${total > 0 ? ' — ' + outside.map(([k, n]) => `${k} ${n}`).join(', ') : ''}`,
    ])
  }
  const a = r.analysis
  const rw = a.randomWalk
  rows.push(
    ['network size', `${a.networkSize.enumerated} enumerated${a.networkSize.kademliaEstimate !== null ? `, ${a.networkSize.kademliaEstimate} estimated from ${a.networkSize.kademliaSamples} lookups` : ''}`],
    ['Waku share p', `${(a.wakuShare * 100).toFixed(2)}%`],
    [
      `random walk, P=${rw.P}, k=${rw.k}`,
      `q = ${fmt(rw.queries, 2)} queries × ${fmt(rw.hopsPerQuery)} hops (log_${2 ** rw.b} n) = ${fmt(rw.overlayHops)} overlay hops`,
    ],
    [
      'observed first Waku node',
      a.observed.requestsToFirstWaku === null ? 'none' : `after ${a.observed.requestsToFirstWaku} requests, ${seconds(a.observed.msToFirstWaku ?? 0)}`,
    ],
  )
  const curve = r.curve
  if (curve.length > 1) {
    const marks = [0.25, 0.5, 0.75, 1].map((f) => curve[Math.min(curve.length - 1, Math.round((curve.length - 1) * f))]!)
    rows.push(['discovery curve', marks.map((p) => `${p.discovered} nodes @ ${p.requests} req / ${seconds(p.ms)}`).join(' → ')])
  }
  return table(rows, {singleLine: true, columns: {0: {width: 26}, 1: {width: 90, wrapWord: true}}}).trimEnd()
}

export function renderMonitorRound(round: number, r: CrawlSummary, known: number, meanUptime: number): string {
  return `round ${round}: ${r.counts.responsive} responsive (${r.counts.waku} Waku) of ${r.counts.discovered} discovered in ${seconds(r.durationMs)}; ${known} nodes known, mean uptime ${(meanUptime * 100).toFixed(1)}%`
}

export function renderMonitorSummary(s: MonitorSummary): string {
  const lines = [`monitor ${s.state}: ${s.rounds} rounds, ${s.nodes} nodes seen, ${s.responsiveLastRound} responsive in the last round, mean uptime ${(s.meanUptime * 100).toFixed(1)}%`]
  if (s.metricsUrl) lines.push(`metrics were served at ${s.metricsUrl}`)
  return lines.join('\n')
}
