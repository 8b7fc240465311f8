import type {ChalkInstance} from 'chalk'

import type {PortMapReport, ProtocolReport, ReachReport} from '../lib/nat/index.js'
import {colorsFor} from './colors.js'

const LABEL = {upnp: 'UPnP IGD', natpmp: 'NAT-PMP', pcp: 'PCP'} as const

function protocolLines(r: ProtocolReport, c: ChalkInstance): string[] {
  const head = `${c.bold(LABEL[r.protocol].padEnd(8))} `
  if (!r.tried) return [head + c.dim('not tried (--protocols)')]
  const state = r.mapping ? c.green('mapped') : r.supported ? c.yellow('answered, no mapping') : c.red('not available')
  const out = [`${head}${state}${r.server ? `  ${r.server}` : ''}  ${r.ms} ms`]
  if (r.device) out.push(`  device   ${[r.device.friendlyName, r.device.modelName, r.device.server].filter(Boolean).join(' · ')}  ${r.device.serviceType ?? ''}`)
  if (r.externalAddress !== undefined) out.push(`  external ${r.externalAddress}${r.epoch !== undefined ? `  (epoch ${r.epoch} s)` : ''}`)
  const m = r.mapping
  if (m) {
    out.push(`  mapping  ${m.protocol} ${r.externalAddress ?? '?'}:${m.externalPort} → ${m.internalAddress}:${m.internalPort}  lifetime ${m.lifetime} s (asked ${m.requestedLifetime} s)${m.externalPort !== m.requestedExternalPort ? c.yellow(`  asked for external port ${m.requestedExternalPort}`) : ''}`)
    if (m.readBack) out.push(`  read back ${m.readBack.ok ? c.green('ok') : c.red('failed')} (${m.readBack.method})${m.readBack.error ? ` ${m.readBack.error.code}: ${m.readBack.error.message}` : ''}`)
    out.push(`  removed  ${m.removed === 'kept' ? 'no (--keep)' : m.removed ? 'yes' : c.red(`no: ${m.removeError?.message ?? 'unknown'}`)}`)
  }
  if (r.versionNote) out.push(`  note     ${r.versionNote}`)
  if (r.error) out.push(`  ${c.red(r.error.code)}${r.error.resultName ? ` ${r.error.resultName}` : ''}: ${r.error.message}`)
  return out
}

export function renderPortMap(r: PortMapReport, c: ChalkInstance = colorsFor()): string {
  const out = [`gateway ${r.gateway} (${r.gatewaySource})  test mapping ${r.request.protocol}/${r.request.port} for ${r.request.lifetime} s${r.request.keep ? ', kept' : ''}`, '']
  for (const p of ['upnp', 'natpmp', 'pcp'] as const) out.push(...protocolLines(r.protocols[p], c))
  if (r.enrCheck) {
    out.push('', c.bold('ENR check'))
    for (const f of r.enrCheck.findings) out.push(`  ${f.level === 'ok' ? c.green('ok   ') : f.level === 'warn' ? c.yellow('warn ') : c.red('error')} ${f.message}`)
    const use = Object.entries(r.enrCheck.peersWillUse).map(([k, v]) => `${k} → ${v}`)
    if (use.length) out.push(`  peers will dial: ${use.join(', ')}`)
  }
  out.push('', `${c.bold('verdict')} ${r.verdict}`)
  return out.join('\n')
}

export function renderReach(r: ReachReport, c: ChalkInstance = colorsFor()): string {
  const out = [`target ${r.target.peerId}${r.relay ? `  relay ${r.relay}` : ''}`]
  for (const d of r.direct) out.push(`  direct ${d.ok ? c.green('ok    ') : c.red('failed')} ${d.address}  ${d.ms} ms${d.error ? `  ${d.error.class}: ${d.error.message}` : ''}`)
  for (const a of r.attempts) {
    const colour = a.outcome === 'SUCCESS' || a.outcome === 'CONNECTION_REVERSED' ? c.green : a.outcome === 'CANCELLED' ? c.dim : c.red
    const figures = [a.relayedMs !== undefined ? `relayed ${a.relayedMs} ms` : '', a.relayRttMs !== undefined ? `relay rtt ${a.relayRttMs} ms` : '', a.directMs !== undefined ? `direct after ${a.directMs} ms via ${a.directAddress} (${a.direction})` : ''].filter(Boolean)
    out.push(`  punch #${a.attempt} ${colour(a.outcome)}  ${figures.join('  ')}${a.error ? `  ${a.error}` : ''}`)
  }
  if (r.successRate !== undefined) out.push(`  success rate ${(r.successRate * 100).toFixed(1)}% over ${r.attempts.length} attempts`)
  out.push('', `${c.bold('verdict')} ${r.verdict}`)
  return out.join('\n')
}
