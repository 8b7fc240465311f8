import type {ChalkInstance} from 'chalk'
import {table} from 'table'

import type {CapsReport, FleetReport} from '../lib/caps/index.js'
import {colorsFor} from './colors.js'

function statusText(status: CapsReport['status'], c: ChalkInstance): string {
  return status === 'ok' ? c.green('ok') : status === 'unmet' ? c.yellow('UNMET') : c.red('UNREACHABLE')
}

export function renderCapsCard(r: CapsReport, c: ChalkInstance = colorsFor()): string {
  const lines = [`${r.target.peerId}  ${statusText(r.status, c)}`]
  if (r.error) {
    lines.push(`  ${c.red(r.error.code)}: ${r.error.message}`)
  } else {
    lines.push(`  connected via ${r.remoteAddr} in ${r.dialMs} ms (${r.encryption ?? '?'}, ${r.multiplexer ?? '?'})`)
  }
  if (r.identify) {
    lines.push(`  agent ${r.identify.agentVersion ?? '(none)'}  protocol ${r.identify.protocolVersion ?? '(none)'}`)
    lines.push(`  observed address ${r.identify.observedAddr ?? '(none)'}`)
    for (const a of r.identify.listenAddrs) lines.push(`  listens on ${a}`)
    lines.push('  protocols:')
    for (const p of r.identify.protocols) lines.push(`    ${p.id.padEnd(42)} ${p.waku ? c.cyan(p.name) : p.name}`)
  } else if (r.identifyError) {
    lines.push(`  identify ${c.red(r.identifyError.code)}: ${r.identifyError.message}`)
  }
  if (r.metadata) {
    const shards = r.metadata.shards.length ? r.metadata.shards.join(',') : '(none)'
    lines.push(`  metadata cluster ${r.metadata.clusterId ?? '(none)'}  shards ${shards}  (from ${r.metadata.shardsField}, ${r.metadata.ms} ms)`)
  } else if (r.metadataError) {
    lines.push(`  metadata ${c.yellow(r.metadataError.code)}: ${r.metadataError.message}`)
  }
  if (r.pingMs !== undefined) lines.push(`  ping ${r.pingMs} ms`)
  else if (r.pingError) lines.push(`  ping ${c.yellow(r.pingError.code)}: ${r.pingError.message}`)
  if (r.enr) {
    lines.push(`  ENR says: waku2 ${r.enr.waku2?.join(',') ?? '(none)'}  cluster ${r.enr.cluster ?? '(none)'}  shards ${r.enr.shards?.join(',') ?? '(none)'}`)
    for (const f of r.enr.findings) {
      const sev = f.severity === 'error' ? c.red(f.severity) : f.severity === 'warning' ? c.yellow(f.severity) : f.severity
      lines.push(`    ${sev} ${f.code}: ${f.message}`)
    }
  }
  for (const e of r.expectations) lines.push(`  ${e.ok ? c.green('✓') : c.red('✗')} ${e.what}: expected ${e.expected}, got ${e.actual}`)
  return lines.join('\n')
}

export function renderFleet(f: FleetReport, c: ChalkInstance = colorsFor()): string {
  if (f.targets.length === 1 && f.summary.total === 1 && !f.skipped?.length) return renderCapsCard(f.targets[0]!, c)
  const rows = f.targets.map((r) => [
    r.target.peerId.length > 16 ? `…${r.target.peerId.slice(-12)}` : r.target.peerId,
    statusText(r.status, c),
    r.identify?.agentVersion ?? (r.error ? r.error.code : ''),
    r.capabilities.filter((x) => !['identify', 'ping'].includes(x)).join(',') || '-',
    r.metadata ? `${r.metadata.clusterId ?? '-'}/${r.metadata.shards.join(',') || '-'}` : r.reachable ? 'n/a' : '',
    r.pingMs !== undefined ? String(Math.round(r.pingMs)) : '',
    // An unreachable target's expectations are moot: show why it failed (without the peer id, already in column 1).
    r.error ? shorten(r.error.message.replace(`cannot connect to ${r.target.peerId}: `, ''), 64) : r.expectations.filter((e) => !e.ok).map((e) => e.what).join(', '),
  ])
  const s = f.summary
  const out = [table([['peer', 'status', 'agent', 'protocols', 'cluster/shards', 'ping ms', 'unmet / error'], ...rows])]
  for (const k of f.skipped ?? []) out.push(`skipped ${k.where}: ${k.error.message}`)
  const stopped = f.timedOut ? ` (--timeout reached after ${s.done}; the other ${s.total - s.done} not checked)` : f.interrupted ? ` (interrupted after ${s.done})` : ''
  out.push(`${s.total} targets: ${s.ok} ok, ${s.unmet} unmet, ${s.unreachable} unreachable in ${f.durationMs} ms${stopped}`)
  return out.join('\n')
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

export function renderFleetProgress(r: CapsReport, done: number, total: number): string {
  return `[${done}/${total}] ${r.target.peerId} ${r.status}${r.error ? ` (${r.error.code})` : ''}`
}
