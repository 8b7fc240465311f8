import type {ChalkInstance} from 'chalk'
import {table} from 'table'

import type {PxPeer, PxQueryResult, PxServeEvent, PxServeStats} from '../lib/px/index.js'
import {colorsFor} from './colors.js'

function peerCard(p: PxPeer, c: ChalkInstance): string {
  if (!p.ok) return `${c.red(`#${p.index} invalid`)}  ${p.error?.code ?? ''}: ${p.error?.message ?? ''}`
  const d = p.decoded!
  const lines = [`${c.green(`#${p.index}`)} ${d.peerId}${p.duplicateOf !== undefined ? c.yellow(`  (duplicate of #${p.duplicateOf})`) : ''}`]
  lines.push(`    ${p.enr}`)
  const addr = [d.ip && `ip ${d.ip}`, d.tcp !== undefined && `tcp ${d.tcp}`, d.udp !== undefined && `udp ${d.udp}`, d.ip6 && `ip6 ${d.ip6}`].filter(Boolean).join('  ')
  if (addr) lines.push(`    ${addr}`)
  const w = d.waku
  if (w) {
    const parts = [w.waku2 && `waku2 ${w.waku2.capabilities.join(',') || '(none)'}`, w.cluster !== undefined && `cluster ${w.cluster}`, w.shards && `shards ${w.shards.join(',')}`].filter(Boolean)
    if (parts.length) lines.push(`    ${parts.join('  ')}`)
    for (const m of w.multiaddrs ?? []) lines.push(`    multiaddr ${m}`)
  }
  for (const f of p.forbiddenAddresses) lines.push(`    ${c.red('forbidden address')} ${f.address} (${f.reason})`)
  for (const f of p.lint ?? []) if (f.severity !== 'info') lines.push(`    ${f.severity === 'error' ? c.red(f.severity) : c.yellow(f.severity)} ${f.code}: ${f.message}`)
  return lines.join('\n')
}

export function renderPxQuery(r: PxQueryResult, c: ChalkInstance = colorsFor()): string {
  const status = `${r.status.code} ${r.status.name}${r.status.explicit ? '' : ' (implied: no status field)'}${r.status.desc ? ` "${r.status.desc}"` : ''}`
  const head = [
    `peer exchange with ${r.target.peerId}`,
    `  via ${r.remoteAddr}  dial ${r.dialMs} ms  exchange ${r.exchangeMs} ms  ${r.responseBytes} bytes`,
    `  status ${r.status.code === 200 ? c.green(status) : c.yellow(status)}`,
    `  requested ${r.requested}  received ${r.received}  valid ${r.valid}  invalid ${r.invalid}  forbidden addresses ${r.flagged}`,
  ]
  for (const w of r.warnings) head.push(`  ${c.yellow('warning')} ${w}`)
  return [head.join('\n'), ...r.peers.map((p) => peerCard(p, c))].join('\n\n')
}

/** One NDJSON-able object per record for --ndjson. */
export function pxPeerLines(r: PxQueryResult): Array<{type: 'peer'} & Record<string, unknown>> {
  return r.peers.map((p) => ({type: 'peer' as const, from: r.target.peerId, status: r.status.code, ...p}))
}

export function renderPxServeEvent(e: PxServeEvent): string {
  return `${e.at} ${e.peer} asked ${e.requested ?? '?'} → ${e.status} ${e.statusName}, ${e.served} records${e.error ? ` (${e.error})` : ''}`
}

export function renderPxServeSummary(s: PxServeStats & {addresses: string[]}): string {
  const rows = Object.entries(s.byStatus).map(([code, n]) => [code, String(n)])
  return [`served ${s.served} records in ${s.requests} answers`, rows.length ? table([['status', 'answers'], ...rows]) : ''].join('\n')
}
