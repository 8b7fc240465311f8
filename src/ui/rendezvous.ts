import type {ChalkInstance} from 'chalk'
import {table} from 'table'

import type {RendezvousDiscoverResult, RendezvousServeEvent, RendezvousServeStats} from '../lib/rendezvous/index.js'
import {colorsFor} from './colors.js'

export function renderRendezvousDiscover(r: RendezvousDiscoverResult, c: ChalkInstance = colorsFor()): string {
  const out = [
    `rendezvous point ${r.target.peerId} (${r.protocol})`,
    `  via ${r.remoteAddr}  dial ${r.dialMs} ms  discover ${r.discoverMs} ms  ${r.peers} distinct peers`,
  ]
  for (const ns of r.namespaces) {
    const status = `${ns.status} ${ns.statusName}${ns.statusText ? ` "${ns.statusText}"` : ''}`
    out.push('', `${c.bold(ns.namespace)}  ${ns.status === 0 ? c.green(status) : c.yellow(status)}  ${ns.valid} valid, ${ns.invalid} invalid, ${ns.pages} pages${ns.truncated ? c.yellow(' (page cap reached)') : ''}`)
    if (ns.error) out.push(`  ${c.red(ns.error.code)}: ${ns.error.message}`)
    for (const w of ns.warnings) out.push(`  ${c.yellow('warning')} ${w}`)
    for (const reg of ns.registrations) {
      if (!reg.ok) {
        out.push(`  ${c.red(`#${reg.index} invalid`)} ${reg.error?.code ?? ''}: ${reg.error?.message ?? ''}`)
        continue
      }
      out.push(`  #${reg.index} ${reg.peerId}  seq ${reg.seqNo}  ttl ${reg.ttl ?? '?'} s${reg.mixKey ? '  mix' : ''}${reg.duplicateOf !== undefined ? c.yellow(`  (duplicate of #${reg.duplicateOf})`) : ''}`)
      for (const a of reg.addresses ?? []) out.push(`      ${a}`)
    }
  }
  return out.join('\n')
}

export function renderRendezvousServeEvent(e: RendezvousServeEvent): string {
  const what = e.type === 'discover' ? `discover ${e.namespace ?? '?'} → ${e.served ?? 0} registrations` : `${e.type} ${e.namespace ?? ''}`.trimEnd()
  return `${e.at} ${e.peer} ${what}${e.statusName ? ` (${e.status} ${e.statusName})` : ''}${e.error ? ` — ${e.error}` : ''}`
}

export function renderRendezvousServeSummary(s: RendezvousServeStats): string {
  const rows = Object.entries(s.byStatus).map(([code, n]) => [code, String(n)])
  return [`${s.requests} requests: ${s.registered} registrations, ${s.discovered} registrations served`, rows.length ? table([['status', 'answers'], ...rows]) : ''].join('\n')
}
