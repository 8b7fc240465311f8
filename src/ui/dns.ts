import type {ChalkInstance} from 'chalk'
import {table} from 'table'
import {ndjsonLine} from './ndjson.js'

import type {BuildTreeReport, DiffReport, ResolveReport, ResolvedNode, ResolvedTree, SignTreeReport, TreeProblem, VerifyReport} from '../lib/dns/index.js'
import type {PublishReport} from '../lib/dns/publish/index.js'
import type {DecodedEnr} from '../lib/enr/index.js'
import {colorsFor} from './colors.js'

function problemLines(problems: TreeProblem[], c: ChalkInstance): string[] {
  return problems.map((p) => `  ${p.severity === 'error' ? c.red('error') : c.yellow('warning')} ${p.code}: ${p.message}`)
}

export function renderBuildReport(r: BuildTreeReport, c: ChalkInstance = colorsFor()): string {
  const lines = [
    `${c.green('built')} tree for ${r.domain} in ${r.dir}`,
    `  input ${r.input.path} (${r.input.format}): ${r.input.nodes} nodes${r.input.skipped.length ? `, ${r.input.skipped.length} skipped` : ''}`,
    ...(r.filtered ? [`  filters kept ${r.nodes} of ${r.input.nodes}${filterDropText(r.filtered)}`] : []),
    `  tree: ${r.nodes} nodes, ${r.links.length} links, ${r.records} TXT records, depth ${r.depth}, seq ${r.seq} (unsigned)`,
  ]
  for (const s of r.input.skipped) lines.push(`  ${c.yellow('skipped')} ${s.where}: ${s.message}`)
  for (const w of r.warnings) lines.push(`  ${c.yellow('warning')} ${w}`)
  lines.push(`  next: waku-disc dns-tree sign ${r.dir} --key-file KEY`)
  return lines.join('\n')
}

function filterDropText(d: NonNullable<BuildTreeReport['filtered']>): string {
  const parts = [
    d.minScore ? `${d.minScore} below --min-score` : '',
    d.minAge ? `${d.minAge} younger than --min-age` : '',
    d.record ? `${d.record} not matching the Waku filters` : '',
    d.limit ? `${d.limit} over --limit` : '',
  ].filter(Boolean)
  return parts.length ? ` (dropped: ${parts.join(', ')})` : ''
}

export function renderSignReport(r: SignTreeReport, c: ChalkInstance = colorsFor()): string {
  const lines = [
    `${c.green('signed')} ${r.dir}: seq ${r.previousSeq} → ${r.seq}, ${r.nodes} nodes, ${r.links} links, ${r.records} TXT records`,
    `  url  ${r.url}`,
    `  root ${r.root}`,
    `  signature re-verified: ${r.verified ? c.green('yes') : c.red('no')}`,
  ]
  for (const w of r.warnings) lines.push(`  ${c.yellow('warning')} ${w}`)
  return lines.join('\n')
}

export function renderVerifyReport(r: VerifyReport, c: ChalkInstance = colorsFor()): string {
  const head = r.ok ? c.green('valid') : c.red('INVALID')
  const lines = [
    `${head} ${r.kind} ${r.target}`,
    `  ${r.url ?? `(unsigned, domain ${r.domain})`}  seq ${r.seq}  signature ${r.signature}`,
    `  ${r.nodes} nodes, ${r.links.length} links, ${r.records} TXT records, depth ${r.depth}${r.stats ? `, ${r.stats.queries} queries in ${r.stats.elapsedMs} ms` : ''}`,
    ...problemLines(r.problems, c),
  ]
  return lines.join('\n')
}

export function renderResolved(r: ResolvedTree, format: 'summary' | 'enr' | 'table', c: ChalkInstance = colorsFor()): string {
  if (format === 'enr') return [...r.nodes.map((n) => n.enr), ...r.linkedTrees.flatMap((t) => t.nodes.map((n) => n.enr))].join('\n')
  const s = r.stats
  const lines = [
    `${r.complete ? c.green('resolved') : c.yellow('partial')} ${r.url}`,
    `  seq ${r.seq}  e=${r.eroot}  l=${r.lroot}  (${r.mode === 'random' ? 'random descent' : 'full sync'})`,
    `  ${r.nodes.length} nodes, ${r.links.length} links; ${s.entries} entries (${s.branches} branches, ${s.leaves} leaves), depth ${s.depth}`,
    `  ${s.queries} queries in ${s.elapsedMs} ms (concurrency ${s.concurrency}, rate ${s.rateLimit || 'unlimited'}/s${s.tcpFallbacks ? `, ${s.tcpFallbacks} TCP fallbacks` : ''}${s.retransmits ? `, ${s.retransmits} retransmits` : ''})`,
    ...r.links.map((l) => `  link ${l}`),
    ...problemLines(r.problems, c),
  ]
  if (format === 'table' && r.nodes.length > 0) {
    lines.push(table([['node id', 'seq', 'at'], ...r.nodes.map((n) => [n.nodeId.slice(0, 16) + '…', n.seq, n.hash])]).trimEnd())
  }
  for (const t of r.linkedTrees) lines.push('', renderResolved(t, format, c))
  return lines.join('\n')
}

/** One NDJSON line for a node as it is found (`resolve --ndjson`). */
export function ndjsonNodeLine(node: ResolvedNode): string {
  return ndjsonLine('node', node)
}

/** The closing NDJSON line of `resolve --ndjson`: the report with the node count instead of the nodes, without the TXT records or decoded records. */
export function ndjsonSummaryLine(r: ResolveReport): string {
  const {nodes, txt: _txt, decoded: _decoded, ...summary} = r
  return ndjsonLine('summary', {...summary, nodes: nodes.length})
}

export function renderDiff(d: DiffReport, c: ChalkInstance = colorsFor()): string {
  const lines = [
    `${d.a.source} (seq ${d.a.seq}, ${d.a.nodes} nodes) → ${d.b.source} (seq ${d.b.seq}, ${d.b.nodes} nodes)`,
    d.identical ? c.green('  identical') : `  nodes: +${d.nodes.added.length} −${d.nodes.removed.length} ~${d.nodes.changed.length}; links: +${d.links.added.length} −${d.links.removed.length}`,
  ]
  for (const n of d.nodes.added) lines.push(`  ${c.green('+')} ${n.nodeId} seq ${n.seq}`)
  for (const n of d.nodes.removed) lines.push(`  ${c.red('-')} ${n.nodeId} seq ${n.seq}`)
  for (const n of d.nodes.changed) lines.push(`  ${c.yellow('~')} ${n.nodeId} seq ${n.fromSeq} → ${n.toSeq}`)
  for (const l of d.links.added) lines.push(`  ${c.green('+')} link ${l}`)
  for (const l of d.links.removed) lines.push(`  ${c.red('-')} link ${l}`)
  if (!d.identical) {
    lines.push(`  publish would: create ${d.records.create.length} records, ${d.records.root ? 'switch the root' : 'keep the root'}, delete ${d.records.delete.length} stale records`)
  }
  for (const w of d.warnings) lines.push(`  ${c.yellow('warning')} ${w}`)
  return lines.join('\n')
}

export function renderPublishReport(r: PublishReport, c: ChalkInstance = colorsFor()): string {
  const verb = r.dryRun ? 'would' : 'did'
  const lines = [
    `${r.dryRun ? c.yellow('dry run') : r.complete ? c.green('published') : c.red('PARTIAL')} ${r.url} → ${r.target}`,
    `  ${verb}: create ${r.changes.create.length}, update ${r.changes.update.length}, delete ${r.changes.delete.length}, unchanged ${r.unchanged}`,
  ]
  for (const ch of r.changes.create) lines.push(`  ${c.green('+')} ${ch.name}${r.verbose ? ` ${ch.value}` : ''}`)
  for (const ch of r.changes.update) lines.push(`  ${c.yellow('~')} ${ch.name}`)
  for (const ch of r.changes.delete) lines.push(`  ${c.red('-')} ${ch.name}`)
  for (const p of r.phases) lines.push(`  phase ${p.phase}: ${p.status}${p.applied !== undefined ? ` (${p.applied} changes)` : ''}${p.error ? ` — ${p.error}` : ''}`)
  for (const w of r.warnings) lines.push(`  ${c.yellow('warning')} ${w}`)
  if (!r.complete && !r.dryRun) lines.push(`  ${c.red('not complete')}: run the same command again to finish (publishing is idempotent)`)
  return lines.join('\n')
}

export function renderDecodedNodes(nodes: DecodedEnr[]): string {
  if (nodes.length === 0) return '(no nodes)'
  const rows = nodes.map((d) => [
    d.nodeId.slice(0, 12) + '…',
    d.seq,
    [d.ip && `${d.ip}:${d.tcp ?? '-'}/${d.udp ?? '-'}`, d.ip6].filter(Boolean).join(' ') || '-',
    d.waku?.waku2?.capabilities.join(',') ?? '-',
    d.waku?.cluster !== undefined ? `${d.waku.cluster}/${(d.waku.shards ?? []).join(',')}` : '-',
    String(d.dialable.length),
    String(d.warnings.filter((w) => w.severity !== 'info').length),
  ])
  return table([['node', 'seq', 'ip:tcp/udp', 'waku2', 'cluster/shards', 'dialable', 'warnings'], ...rows]).trimEnd()
}
