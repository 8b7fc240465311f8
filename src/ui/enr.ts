import type {ChalkInstance} from 'chalk'

import type {DecodedEntry, EnrBatchSummary, EnrDecodeEntry, LintEntry, LintFinding} from '../lib/enr/index.js'
import {isUnparseable} from '../lib/enr/index.js'
import {hasCode} from '../lib/errors.js'
import {colorsFor} from './colors.js'

function severityTag(c: ChalkInstance, s: LintFinding['severity']): string {
  if (s === 'error') return c.red('error  ')
  if (s === 'warning') return c.yellow('warning')
  return c.cyan('info   ')
}

export function renderFinding(f: LintFinding, c: ChalkInstance = colorsFor()): string {
  return `${severityTag(c, f.severity)} ${c.bold(f.code)}: ${f.message}`
}

function row(c: ChalkInstance, label: string, value: string): string {
  return `  ${c.dim(label.padEnd(12))}${value}`
}

function short(text: string, max = 72): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A readable card for one decoded record (or the error line for an unparseable input). */
export function renderEnrCard(entry: EnrDecodeEntry, c: ChalkInstance = colorsFor()): string {
  if (isUnparseable(entry)) {
    const where = entry.source.startsWith('argument') ? entry.source : `${entry.source}:${entry.line}`
    const hint = entry.error.hint !== undefined ? `  ${c.dim(`hint: ${entry.error.hint}`)}\n` : ''
    return `${c.red('✗')} ${where} ${c.dim(short(entry.input, 48))}\n  ${c.red(`Error [${entry.error.code}]`)}: ${entry.error.message}\n${hint}`
  }
  const d: DecodedEntry = entry
  const lines: string[] = []
  const sig = d.signatureValid ? c.green('signature ok') : c.red('signature INVALID')
  const mark = d.error ? c.red('✗') : c.green('✓')
  lines.push(`${mark} ${c.bold(short(d.enr, 60))}`)
  lines.push(row(c, 'seq', `${d.seq}   size ${d.size} bytes   ${sig}`))
  lines.push(row(c, 'node id', d.nodeId))
  lines.push(row(c, 'public key', d.publicKey))
  lines.push(row(c, 'peer id', d.peerId))
  const v4: string[] = []
  if (d.ip !== undefined) v4.push(d.ip)
  if (d.tcp !== undefined) v4.push(`tcp ${d.tcp}`)
  if (d.udp !== undefined) v4.push(`udp ${d.udp}`)
  if (d.quic !== undefined) v4.push(`quic ${d.quic}`)
  if (v4.length > 0) lines.push(row(c, 'ipv4', v4.join('   ')))
  const v6: string[] = []
  if (d.ip6 !== undefined) v6.push(d.ip6)
  if (d.tcp6 !== undefined) v6.push(`tcp6 ${d.tcp6}`)
  if (d.udp6 !== undefined) v6.push(`udp6 ${d.udp6}`)
  if (d.quic6 !== undefined) v6.push(`quic6 ${d.quic6}`)
  if (v6.length > 0) lines.push(row(c, 'ipv6', v6.join('   ')))
  if (d.enode !== undefined) lines.push(row(c, 'enode', c.dim(d.enode)))
  const w = d.waku
  if (w?.waku2 !== undefined) {
    const caps = w.waku2.capabilities.length > 0 ? w.waku2.capabilities.join(', ') : '(none)'
    const unknown = w.waku2.unknownBits.length > 0 ? `, unknown bits ${w.waku2.unknownBits.join(',')}` : ''
    lines.push(row(c, 'waku2', `${caps}${unknown}   ${c.dim(`0x${w.waku2.raw}`)}`))
  }
  if (w?.multiaddrs !== undefined) {
    if (w.multiaddrs.length === 0) lines.push(row(c, 'multiaddrs', c.dim('(empty)')))
    w.multiaddrs.forEach((m, i) => lines.push(row(c, i === 0 ? 'multiaddrs' : '', m)))
  }
  if (w?.cluster !== undefined) {
    lines.push(row(c, 'shards', `cluster ${w.cluster}: ${w.shards!.length > 0 ? w.shards!.join(', ') : '(none)'}   ${c.dim(`(${w.shardSource})`)}`))
  }
  if (d.eth2 !== undefined) lines.push(row(c, 'eth2', `fork digest ${d.eth2.forkDigest}, next fork ${d.eth2.nextForkVersion} at epoch ${d.eth2.nextForkEpoch}`))
  if (d.attnets !== undefined) lines.push(row(c, 'attnets', d.attnets.length > 0 ? d.attnets.join(',') : '(none)'))
  if (d.syncnets !== undefined) lines.push(row(c, 'syncnets', d.syncnets.length > 0 ? d.syncnets.join(',') : '(none)'))
  if (d.client !== undefined) lines.push(row(c, 'client', d.client.join(' ')))
  for (const [k, v] of Object.entries(d.otherKeys)) lines.push(row(c, k, c.dim(`0x${short(v, 64)}`)))
  d.dialable.forEach((m, i) => lines.push(row(c, i === 0 ? 'dialable' : '', m)))
  if (d.pubsubTopics.length > 0) lines.push(row(c, 'topics', short(d.pubsubTopics.join(' '), 100)))
  if (d.error !== undefined) lines.push(`  ${c.red(`Error [${d.error.code}]`)}: ${d.error.message}`)
  for (const f of d.warnings) {
    if (d.error !== undefined && f.severity === 'error' && hasCode(d.error, f.code)) continue
    lines.push(`  ${renderFinding(f, c)}`)
  }
  return lines.join('\n') + '\n'
}

export function renderEnrCards(entries: EnrDecodeEntry[], c: ChalkInstance = colorsFor()): string {
  return entries.map((e) => renderEnrCard(e, c)).join('\n')
}

/** One record's lint findings. */
export function renderLintEntry(entry: LintEntry, c: ChalkInstance = colorsFor()): string {
  const where = entry.source.startsWith('argument') ? entry.source : `${entry.source}:${entry.line}`
  const head = entry.nodeId !== undefined ? `${short(entry.enr ?? entry.input, 60)}  ${c.dim(`node ${entry.nodeId.slice(0, 16)}…`)}` : `${where} ${short(entry.input, 48)}`
  const mark = entry.worst === 'error' ? c.red('✗') : entry.worst === 'warning' ? c.yellow('!') : c.green('✓')
  const lines = [`${mark} ${head}`]
  if (entry.findings.length === 0) lines.push(`  ${c.green('no findings')}`)
  for (const f of entry.findings) lines.push(`  ${renderFinding(f, c)}`)
  return lines.join('\n') + '\n'
}

export function renderLintSummary(summary: EnrBatchSummary, c: ChalkInstance = colorsFor()): string {
  const {error: e, warning: w, info: i} = summary.findings ?? {error: 0, warning: 0, info: 0}
  return `${summary.records} record${summary.records === 1 ? '' : 's'}: ${e > 0 ? c.red(`${e} error${e === 1 ? '' : 's'}`) : '0 errors'}, ${w} warning${w === 1 ? '' : 's'}, ${i} info`
}
