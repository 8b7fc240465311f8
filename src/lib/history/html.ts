/**
 * The crawl-history report as one self-contained HTML page. Charts are inline SVG
 * drawn here (no chart library, no script, no external fetch), so the file opens offline, can be
 * mailed or archived, and renders the same anywhere. Every string from the report is untrusted
 * (agent strings and network names come from remote peers) and goes through `esc`.
 *
 * Each chart is an <svg data-chart="NAME" data-points="N"> holding exactly N marks of class
 * "point" (circles on line charts, rects on bar charts), which the browser test counts.
 */
import type {HistoryReport, PerCrawlCounts} from './report.js'
import {redactDatabaseUrl} from './url.js'

export interface HistoryHtmlOptions {
  title?: string
  /** ISO time shown in the header; defaults to now. */
  generatedAt?: string
}

const W = 1100
const PAD = {left: 64, right: 20, top: 16, bottom: 40}

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[ch]!)
}

/** A coordinate for an attribute: finite by construction, but bad input (NaN counts) must not leak into the SVG. */
const c = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0')
const n = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US'))
const pct = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`)
const day = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1Z') : '–')
const finite = (v: number): number => (Number.isFinite(v) ? v : 0)

function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/** Round tick values 0, step, 2·step… covering max, with step in {1, 2, 5}·10^k. */
function ticks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1
  const raw = top / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const out: number[] = []
  for (let v = 0; v < top + step / 2; v += step) out.push(Number(v.toPrecision(12)))
  if (out.at(-1)! < top) out.push(Number((out.at(-1)! + step).toPrecision(12)))
  return out
}

const short = (v: number): string => (Math.abs(v) >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e4 ? `${+(v / 1e3).toFixed(1)}k` : String(+v.toFixed(2)))

function svgOpen(name: string, points: number, height: number, label: string): string {
  return `<svg data-chart="${esc(name)}" data-points="${points}" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg">`
}

function empty(name: string, label: string, height = 120): string {
  return `${svgOpen(name, 0, height, label)}<text class="empty" x="${W / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`
}

/** Horizontal grid lines and labels for a y axis from 0 to the last tick. */
function yAxis(tickValues: number[], y: (v: number) => number, format: (v: number) => string): string {
  return tickValues
    .map((t) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${c(y(t))}" y2="${c(y(t))}"/><text class="tick" x="${PAD.left - 8}" y="${c(y(t) + 4)}" text-anchor="end">${esc(format(t))}</text>`)
    .join('')
}

function legend(series: ReadonlyArray<{label: string}>): string {
  return series.map((s, i) => `<rect class="s${i}" x="${PAD.left + i * 150}" y="2" width="12" height="12"/><text class="tick" x="${PAD.left + i * 150 + 18}" y="12">${esc(s.label)}</text>`).join('')
}

interface XY {
  x: number
  y: number
  tip: string
}

/**
 * Line chart over numeric x. `xTicks` gives labelled x positions (crawl ids for per-crawl
 * charts, request counts for the curve). A single x value sits in the middle, not at NaN.
 */
function lineChart(name: string, label: string, series: Array<{label: string; points: XY[]}>, xTicks: Array<{x: number; label: string}>, opts: {yMax?: number; yFormat?: (v: number) => string} = {}): string {
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return empty(name, label)
  const H = 300
  const xs = all.map((p) => finite(p.x))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  const yt = ticks(opts.yMax ?? Math.max(...all.map((p) => finite(p.y))))
  const yTop = yt.at(-1)!
  const plotW = W - PAD.left - PAD.right
  const x = (v: number) => (x1 === x0 ? PAD.left + plotW / 2 : PAD.left + ((finite(v) - x0) / (x1 - x0)) * plotW)
  const y = (v: number) => H - PAD.bottom - (Math.max(0, finite(v)) / yTop) * (H - PAD.top - PAD.bottom - 16)
  const fmt = opts.yFormat ?? short
  let out = svgOpen(name, all.length, H, label) + yAxis(yt, y, fmt)
  out += xTicks.map((t) => `<text class="tick" x="${c(x(t.x))}" y="${H - PAD.bottom + 18}" text-anchor="middle">${esc(t.label)}</text>`).join('')
  if (series.length > 1) out += legend(series)
  series.forEach((s, i) => {
    if (s.points.length > 1) out += `<polyline class="line s${i}" points="${s.points.map((p) => `${c(x(p.x))},${c(y(p.y))}`).join(' ')}"/>`
    out += s.points.map((p) => `<circle class="point s${i}" cx="${c(x(p.x))}" cy="${c(y(p.y))}" r="3.5"><title>${esc(p.tip)}</title></circle>`).join('')
  })
  return `${out}</svg>`
}

/** Vertical bars, one group per x label, one bar per series within a group. */
function columnChart(name: string, label: string, series: string[], groups: Array<{label: string; values: number[]; tips: string[]}>): string {
  const total = groups.length * series.length
  if (total === 0) return empty(name, label)
  const H = 280
  const yt = ticks(Math.max(...groups.flatMap((g) => g.values.map(finite))))
  const yTop = yt.at(-1)!
  const plotH = H - PAD.top - PAD.bottom - 16
  const y = (v: number) => H - PAD.bottom - (Math.max(0, finite(v)) / yTop) * plotH
  const slot = (W - PAD.left - PAD.right) / groups.length
  const barW = Math.max(1, (slot * 0.8) / series.length)
  let out = svgOpen(name, total, H, label) + yAxis(yt, y, short)
  if (series.length > 1) out += legend(series.map((s) => ({label: s})))
  // Thin the x labels so they never overlap (about 60 px each).
  const every = Math.max(1, Math.ceil(groups.length / Math.floor((W - PAD.left - PAD.right) / 60)))
  groups.forEach((g, gi) => {
    const gx = PAD.left + gi * slot + slot * 0.1
    g.values.forEach((v, si) => {
      out += `<rect class="point s${si}" data-value="${c(finite(v))}" x="${c(gx + si * barW)}" y="${c(y(v))}" width="${c(barW)}" height="${c(H - PAD.bottom - y(v))}"><title>${esc(g.tips[si] ?? '')}</title></rect>`
    })
    if (gi % every === 0) out += `<text class="tick" x="${c(PAD.left + gi * slot + slot / 2)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${esc(g.label)}</text>`
  })
  return `${out}</svg>`
}

/** Horizontal bars for categorical counts (capabilities, shards, agents): long labels stay readable. */
function barList(name: string, label: string, counts: Record<string, number>, byKey = false): string {
  // Most common first; shards read better in cluster/shard order (1/2 before 1/10).
  const byName = (a: [string, number], b: [string, number]) => a[0].localeCompare(b[0], 'en', {numeric: true})
  const entries = Object.entries(counts).sort(byKey ? byName : (a, b) => finite(b[1]) - finite(a[1]) || byName(a, b))
  if (entries.length === 0) return empty(name, label)
  const row = 22
  const labelW = 320
  const H = PAD.top + entries.length * row + 8
  const max = Math.max(1, ...entries.map(([, v]) => finite(v)))
  const plotW = W - labelW - PAD.right - 70
  let out = svgOpen(name, entries.length, H, label)
  entries.forEach(([key, v], i) => {
    const top = PAD.top + i * row
    const shown = key.length > 40 ? `${key.slice(0, 39)}…` : key
    const width = (Math.max(0, finite(v)) / max) * plotW
    out += `<text class="tick" x="${labelW - 8}" y="${top + 15}" text-anchor="end">${esc(shown)}<title>${esc(key)}</title></text>`
    out += `<rect class="point s0" data-value="${c(finite(v))}" x="${labelW}" y="${top + 3}" width="${c(width)}" height="${row - 6}"><title>${esc(`${key}: ${n(v)}`)}</title></rect>`
    out += `<text class="tick" x="${c(labelW + width + 6)}" y="${top + 15}">${esc(n(v))}</text>`
  })
  return `${out}</svg>`
}

/** At most ~12 labelled crawl ids along an index axis. */
function indexTicks(labels: string[]): Array<{x: number; label: string}> {
  const every = Math.max(1, Math.ceil(labels.length / 12))
  return labels.map((label, i) => ({x: i, label})).filter((_, i) => i % every === 0 || i === labels.length - 1)
}

const lastCounts = (rows: PerCrawlCounts[]): Record<string, number> => rows.at(-1)?.counts ?? {}

/** `long` columns (ids, agents) may wrap anywhere; the others keep their words whole. */
function table(head: string[], rows: string[][], numeric: number[] = [], long: number[] = []): string {
  if (rows.length === 0) return '<p class="muted">none</p>'
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : long.includes(i) ? ' class="long"' : '')
  return `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, i) => `<td${cls(i)}>${esc(v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

function section(title: string, body: string, note = ''): string {
  return `<section><h2>${esc(title)}</h2>${note ? `<p class="muted">${esc(note)}</p>` : ''}${body}</section>`
}

function peerSection(report: HistoryReport): string {
  const p = report.peer
  if (!p) return ''
  const facts = table(
    ['node id', 'peer id', 'first seen', 'last seen', 'latest seq', 'uptime'],
    [[p.nodeId, p.peerId ?? '–', day(p.firstSeen), day(p.lastSeen), p.latestSeq, pct(p.uptime)]],
    [],
    [0, 1],
  )
  const obs = table(
    ['crawl', 'started', 'status', 'responsive', 'seq', 'record changed', 'rtt', 'sources', 'agent', 'dial'],
    p.observations.map((o) => [`#${o.crawlId}`, day(o.startedAt), o.status, o.responsive ? 'yes' : 'no', o.seq, o.recordChanged ? 'yes' : '', o.rttMs === null ? '–' : `${Math.round(o.rttMs)} ms`, o.sources.join(', '), o.agent ?? '–', o.dialClass ?? '–']),
    [6],
    [7, 8],
  )
  const sessions = table(
    ['network', 'started', 'last seen', 'ended', 'crawls'],
    p.sessions.map((s) => [s.network, day(s.startedAt), day(s.lastSeenAt), s.endedAt ? day(s.endedAt) : 'open', n(s.crawls)]),
    [4],
    [0],
  )
  return section('Peer timeline', `${facts}<h3>Observations</h3>${obs}<h3>Sessions</h3>${sessions}`)
}

const STYLE = `
:root{--fg:#1d2330;--muted:#667085;--grid:#e4e7ec;--bg:#fff;--panel:#f8f9fb;--s0:#2563eb;--s1:#e8590c}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:0 0 6px}h3{font-size:14px;margin:14px 0 6px}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 0}
header dt{color:var(--muted)}header dd{margin:0;word-break:break-all}
section{background:var(--panel);border:1px solid var(--grid);border-radius:8px;padding:14px 16px;margin:16px 0}
.muted{color:var(--muted);margin:0 0 8px}
svg{display:block;background:var(--bg);border-radius:4px}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
svg .tick{fill:var(--muted)}svg .empty{font-size:16px;fill:var(--muted)}
svg .grid{stroke:var(--grid);stroke-width:1}
svg .line{fill:none;stroke-width:2}
svg .line.s0{stroke:var(--s0)}svg .line.s1{stroke:var(--s1)}
svg .s0:not(.line){fill:var(--s0)}svg .s1:not(.line){fill:var(--s1)}
svg circle.point{stroke:#fff;stroke-width:1}
svg .point:hover{opacity:.75}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;width:100%;background:var(--bg);font-size:13px}
th,td{border-bottom:1px solid var(--grid);padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}
td.long{white-space:normal;overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:flex;gap:24px;flex-wrap:wrap;margin:0 0 8px}.stats b{font-size:16px}
`

export function renderHistoryHtml(report: HistoryReport, options: HistoryHtmlOptions = {}): string {
  const title = options.title ?? 'waku-disc crawl history'
  const generatedAt = options.generatedAt ?? new Date().toISOString()
  const crawls = report.crawls
  const ids = crawls.map((cr) => `#${cr.id}`)
  const tip = (i: number, what: string, v: string) => `crawl ${ids[i]} ${day(crawls[i]!.startedAt)}: ${what} ${v}`

  const size = lineChart(
    'size',
    'network size per crawl',
    [
      {label: 'discovered', points: crawls.map((cr, i) => ({x: i, y: cr.discovered, tip: tip(i, 'discovered', n(cr.discovered))}))},
      {label: 'responsive', points: crawls.map((cr, i) => ({x: i, y: cr.responsive, tip: tip(i, 'responsive', n(cr.responsive))}))},
    ],
    indexTicks(ids),
  )
  // Scaled to the largest share (at most 100%) so a 10% share is not a flat line at the bottom.
  const share = lineChart('waku-share', 'Waku share per crawl', [{label: 'Waku share', points: crawls.map((cr, i) => ({x: i, y: cr.wakuShare, tip: tip(i, 'Waku share', pct(cr.wakuShare))}))}], indexTicks(ids), {
    yMax: Math.min(1, Math.max(0, ...crawls.map((cr) => finite(cr.wakuShare)))),
    yFormat: (v) => `${+(v * 100).toFixed(1)}%`,
  })
  const churn = columnChart(
    'churn',
    'peers joined and left between crawls',
    ['joined', 'left'],
    report.churn.map((ch) => ({label: `#${ch.crawlId}`, values: [ch.joined, ch.left], tips: [`#${ch.previousCrawlId} → #${ch.crawlId}: ${n(ch.joined)} joined`, `#${ch.previousCrawlId} → #${ch.crawlId}: ${n(ch.left)} left`]})),
  )
  // The report always carries ten buckets; with no peers they are all zero and mean nothing.
  const buckets = report.uptime.histogram.some((b) => b.peers > 0) ? report.uptime.histogram : []
  const uptime = columnChart(
    'uptime',
    'peers by uptime',
    ['peers'],
    buckets.map((b) => ({label: `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}%`, values: [b.peers], tips: [`uptime ${pct(b.from, 0)}–${pct(b.to, 0)}: ${n(b.peers)} peers`]})),
  )
  const curvePoints = report.lastCrawl?.curve ?? []
  // Request-count ticks inside the curve's own x range (it need not start at 0).
  const reqs = curvePoints.map((p) => finite(p.requests))
  const [r0, r1] = reqs.length ? [Math.min(...reqs), Math.max(...reqs)] : [0, 0]
  let curveTicks = ticks(r1, 8).filter((t) => t >= r0 && t <= r1)
  if (curveTicks.length < 2) curveTicks = [...new Set([r0, r1])]
  const curve = lineChart(
    'curve',
    'discovery curve of the last crawl',
    [{label: 'discovered', points: curvePoints.map((p) => ({x: p.requests, y: p.discovered, tip: `${n(p.requests)} requests, ${duration(p.ms)}: ${n(p.discovered)} discovered, ${n(p.responsive)} responsive`}))}],
    reqs.length ? curveTicks.map((t) => ({x: t, label: short(t)})) : [],
  )
  const lastId = crawls.at(-1) ? ` (crawl #${crawls.at(-1)!.id})` : ''

  const filters = Object.entries(report.filters).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'
  const u = report.uptime
  const summary = table(
    ['id', 'started', 'network', 'strategy', 'duration', 'discovered', 'responsive', 'waku', 'waku share', 'interrupted'],
    crawls.map((cr) => [`#${cr.id}`, day(cr.startedAt), `${cr.network} (${cr.protocolId})`, cr.strategy, duration(cr.durationMs), n(cr.discovered), n(cr.responsive), n(cr.waku), pct(cr.wakuShare), cr.interrupted ? 'yes' : '']),
    [4, 5, 6, 7, 8],
    [2],
  )

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<dl>
<dt>database</dt><dd>${esc(redactDatabaseUrl(report.database.url))} (${esc(report.database.backend)}, schema v${esc(report.database.schemaVersion)})</dd>
<dt>filters</dt><dd>${esc(filters)}</dd>
<dt>crawls</dt><dd>${esc(n(crawls.length))}${crawls.length ? ` · ${esc(day(crawls[0]!.startedAt))} → ${esc(day(crawls.at(-1)!.startedAt))}` : ''}</dd>
<dt>generated</dt><dd>${esc(generatedAt)}</dd>
</dl>
</header>
<main>
${section('Network size', size, 'discovered and responsive nodes per crawl')}
${section('Waku share', share, 'Waku nodes among responsive nodes')}
${section('Churn', churn, 'peers joined and left since the previous finished crawl of the same network')}
${section('Uptime', `<div class="stats"><span>peers <b>${esc(n(u.peers))}</b></span><span>mean <b>${esc(pct(u.mean))}</b></span><span>median <b>${esc(pct(u.median))}</b></span><span>sessions open <b>${esc(n(u.sessions.open))}</b> closed <b>${esc(n(u.sessions.closed))}</b> median <b>${esc(duration(u.sessions.medianMs))}</b></span></div>${uptime}`, 'answered crawls / finished crawls since a peer first answered')}
${section(`Capabilities${lastId}`, barList('capabilities', 'capabilities in the last crawl', lastCounts(report.capabilities)))}
${section(`Shards${lastId}`, barList('shards', 'shards in the last crawl', lastCounts(report.shards), true), 'cluster/shard')}
${section(`Agents${lastId}`, barList('agents', 'agents in the last crawl', lastCounts(report.agents)))}
${section(`Discovery curve${report.lastCrawl ? ` (crawl #${report.lastCrawl.id}, ${day(report.lastCrawl.startedAt)})` : ''}`, curve, 'discovered nodes by requests sent')}
${section('Crawls', summary)}
${peerSection(report)}
</main>
</body>
</html>
`
}
