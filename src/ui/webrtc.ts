import type {StunServerInfo, StunServerStats} from '../lib/stun/server.js'
import type {PageReport} from '../lib/webrtc/page-report.js'
import type {PairReport} from '../lib/webrtc/pair.js'
import type {PrivacyObserver} from '../lib/webrtc/privacy.js'
import type {PeerReport} from '../lib/webrtc/peer.js'
import type {ProbeReport} from '../lib/webrtc/probe.js'
import type {SignalServerInfo, SignalServerStats} from '../lib/webrtc/signal-server.js'
import type {GatheredCandidate, LinkMeasurement, LinkSide} from '../lib/webrtc/types.js'
import {colorsFor} from './colors.js'

const fmtAddr = (c: GatheredCandidate) => (c.address.includes(':') ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`)
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x} ms`)

export function renderProbeReport(r: ProbeReport): string {
  const c = colorsFor()
  const lines: string[] = []
  const verdictColor = r.verdict === 'direct links likely' ? c.green : r.verdict === 'TURN needed' ? c.yellow : r.verdict === 'UDP blocked' ? c.red : c.dim
  lines.push(`${c.bold('Verdict:')} ${verdictColor(r.verdict)} — ${r.verdictReason}`)
  lines.push('')
  lines.push(c.bold('Candidates'))
  for (const type of ['host', 'srflx', 'prflx', 'relay'] as const) {
    const xs = r.candidates[type]
    lines.push(`  ${type.padEnd(6)} ${xs.length ? xs.map(fmtAddr).join(', ') : c.dim('none')}`)
  }
  if (r.stun.length) {
    lines.push('')
    lines.push(c.bold('STUN servers') + c.dim(' (one PeerConnection each; binding = our request from one shared socket)'))
    for (const s of r.stun) {
      const parts = [`srflx ${s.srflx.join(', ') || 'none'}`, `first srflx ${ms(s.firstSrflxMs)}`, `gathering ${ms(s.gatherCompleteMs)}`]
      if (s.binding) parts.push(`binding ${s.binding.mapped} in ${s.binding.rttMs} ms`)
      if (s.binding?.otherAddress) parts.push(`OTHER-ADDRESS ${s.binding.otherAddress}`)
      lines.push(`  ${s.url}: ${parts.join('; ')}${s.error ? c.red(` — ${s.error}`) : ''}`)
    }
  }
  lines.push('')
  const ei = r.mapping.endpointIndependent
  lines.push(`${c.bold('Mapping:')} ${ei === null ? 'unknown' : ei ? 'endpoint-independent' : 'endpoint-dependent (symmetric)'} (${r.mapping.basis})`)
  for (const m of r.mapping.mappings) lines.push(`  ${m.server} saw ${m.mapped}`)
  if (r.rfc5780) {
    const b = r.rfc5780
    lines.push(`${c.bold('RFC 5780')} (${b.server}): mapping ${b.mapping}, filtering ${b.filtering} in ${b.ms} ms`)
    for (const s of b.steps) {
      lines.push(`  ${s.test.padEnd(14)} → ${s.target}${s.change ? ` change ${s.change}` : ''}: ${s.mapped ?? 'no answer'}${s.responseOrigin ? ` (from ${s.responseOrigin})` : ''}`)
    }
    for (const n of b.notes) lines.push(`  ${c.dim(n)}`)
  }
  if (r.turn) {
    const t = r.turn
    const col = t.status === 'ok' ? c.green : t.status === 'unsupported-transport' ? c.yellow : c.red
    lines.push(`${c.bold('TURN')} ${t.url}: ${col(t.status)} — ${t.detail}`)
    if (t.relayCandidates.length) lines.push(`  relay ${t.relayCandidates.join(', ')} (first after ${ms(t.firstRelayMs)})`)
    for (const p of t.channel?.selectedPairs ?? []) lines.push(`  ${p}`)
  }
  lines.push(...renderPrivacy(r.privacy))
  for (const n of r.notes) lines.push(`  ${c.dim('note:')} ${n}`)
  lines.push('')
  lines.push(c.bold('Steps') + ' ' + r.steps.map((s) => `${s.name} ${s.ms} ms`).join(', '))
  return lines.join('\n')
}

function pairLine(s: LinkSide | undefined): string {
  if (!s) return 'not reported'
  const p = s.selectedPair
  if (!p) return 'no selected pair reported by node-datachannel'
  return `${p.local.type} ${p.local.address}:${p.local.port} → ${p.remote.type} ${p.remote.address}:${p.remote.port}`
}

export function renderLink(r: LinkMeasurement & {relayOnly?: boolean; role?: string}, title: string): string {
  const c = colorsFor()
  const lines: string[] = []
  lines.push(`${c.bold(title)}: ${r.ok ? c.green('connected') : c.red('failed')}${r.reason ? ` — ${r.reason}` : ''}`)
  if (r.retriedAfter) lines.push(c.dim(`  (set up twice: the first attempt hit a libdatachannel race: ${r.retriedAfter})`))
  lines.push(`  path        ${r.path}`)
  lines.push(`  offerer     ${pairLine(r.offerer)}`)
  lines.push(`  answerer    ${pairLine(r.answerer)}`)
  lines.push(`  open        ${ms(r.openMs)} (ICE connected after ${ms(r.iceConnectedMs)})`)
  if (r.rttMs.length) lines.push(`  RTT         median ${r.rttMedianMs} ms over ${r.rttMs.length} pings (min ${Math.min(...r.rttMs)}, max ${Math.max(...r.rttMs)})`)
  if (r.throughputMbps !== null) lines.push(`  throughput  ${r.throughputMbps} Mbit/s (${r.bytes} bytes in ${r.transferMs} ms)`)
  return lines.join('\n')
}

/** The "who learned what" block every probe and link report ends with. */
export function renderPrivacy(observers: PrivacyObserver[] | undefined): string[] {
  if (!observers?.length) return []
  const c = colorsFor()
  const lines = ['', c.bold('Who learned what')]
  for (const o of observers) {
    const flags = [o.sawBothPeers === true ? 'saw both peers' : o.sawBothPeers === 'unknown' ? 'may have seen both peers' : 'saw one peer', ...(o.carriedData ? ['carried the data'] : [])]
    lines.push(`  ${o.role} ${o.server} (${flags.join(', ')})`)
    if (o.sawAddresses.length) lines.push(`    addresses: ${o.sawAddresses.join(', ')}`)
    for (const l of o.learned) lines.push(`    ${c.dim('-')} ${l}`)
  }
  return lines
}

const endLine = (p: PageReport['selectedPair']) => (p ? `${p.local.type} ${p.local.address}:${p.local.port} → ${p.remote.type} ${p.remote.address}:${p.remote.port}` : 'none reported')

export function renderPageReport(r: PageReport): string {
  const c = colorsFor()
  const b = r.browser
  const lines: string[] = []
  lines.push(`${c.bold('Browser')}: ${r.ok ? c.green('connected') : c.red('failed')}${r.reason ? ` — ${r.reason}` : ''}`)
  lines.push(`  user agent  ${b.userAgent}`)
  lines.push(`  address     ${b.address}`)
  for (const type of ['host', 'srflx', 'prflx', 'relay'] as const) {
    const xs = b.candidates.filter((x) => x.type === type)
    lines.push(`  ${type.padEnd(11)} ${xs.length ? xs.map((x) => `${x.address.includes(':') ? `[${x.address}]` : x.address}:${x.port}/${x.protocol}`).join(', ') : c.dim('none')}`)
  }
  if (b.mdnsHostCandidates) lines.push(c.dim(`  (${b.mdnsHostCandidates} host candidate(s) hidden behind mDNS names)`))
  for (const e of b.iceErrors) lines.push(`  ${c.yellow('ICE error')}   ${e.url} ${e.errorCode} ${e.errorText}`)
  const ei = b.mapping.endpointIndependent
  lines.push(`  mapping     ${ei === null ? 'unknown' : ei ? 'endpoint-independent' : 'endpoint-dependent (symmetric)'} (${b.mapping.basis})`)
  lines.push(`  verdict     ${b.verdict} — ${b.verdictReason}`)
  lines.push(`  path        ${r.path}`)
  lines.push(`  browser     ${endLine(r.selectedPair)}`)
  lines.push(`  CLI         ${endLine(r.cliSelectedPair)}`)
  lines.push(`  open        ${ms(r.openMs)}`)
  if (r.rttMs.length) lines.push(`  RTT         median ${r.rttMedianMs} ms over ${r.rttMs.length} pings`)
  if (r.throughputMbps !== null) lines.push(`  throughput  ${r.throughputMbps} Mbit/s (${r.bytes} bytes in ${r.transferMs} ms)`)
  lines.push(...renderPrivacy(r.privacy))
  return lines.join('\n')
}

export function renderPairReport(r: PairReport): string {
  const text = renderLink(r, r.relayOnly ? 'Pair (relay only)' : 'Pair')
  return [r.note ? `${text}\n  note        ${r.note}` : text, ...renderPrivacy(r.privacy)].join('\n')
}

export function renderPeerReport(r: PeerReport): string {
  return [renderLink(r, `${r.role === 'offerer' ? 'Dial' : 'Listen'} (${r.room ? `room ${r.room}` : r.privacy?.some((p) => p.role === 'waku-node') ? 'over Waku' : 'manual'})`), ...renderPrivacy(r.privacy)].join('\n')
}

export function renderStunServerInfo(info: StunServerInfo): string {
  const lines = [`STUN server listening on ${info.sockets.join(', ')}`]
  lines.push(info.rfc5780 ? `RFC 5780: on (OTHER-ADDRESS ${info.alternate})` : 'RFC 5780: off (give --alt for CHANGE-REQUEST support)')
  return lines.join('\n')
}

export function renderStunServerStats(s: StunServerStats): string {
  return `STUN server stopped: ${s.requests} requests, ${s.responses} answered, ${s.errorResponses} error responses, ${s.dropped} dropped`
}

export function renderSignalServerInfo(info: SignalServerInfo): string {
  return `Signalling server on ${info.url} (rooms: ${info.url}/<room>; 2 peers per room)`
}

export function renderSignalServerStats(s: SignalServerStats): string {
  return `Signalling server stopped: ${s.connections} connections, ${s.relayed} messages relayed, ${s.rejected} rejected`
}
