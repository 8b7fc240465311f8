import type {ChalkInstance} from 'chalk'

import type {CapsReport} from '../lib/caps/index.js'
import type {VerifyReport} from '../lib/dns/index.js'
import type {DoctorReason, DoctorReport, DoctorStep, ReachabilityData, RefusedAddresses, StepStatus} from '../lib/doctor/index.js'
import type {DecodedEnr, LintFinding} from '../lib/enr/index.js'
import type {ErrorJson} from '../lib/errors.js'
import type {PxQueryResult} from '../lib/px/index.js'
import {colorsFor} from './colors.js'

/** A report whose steps carry their one-line summary (what `doctor --json` prints). */
export interface DescribedDoctorReport extends DoctorReport {
  steps: (DoctorStep & {summary: string})[]
}

const REASONS: Record<Exclude<DoctorReason, 'stale-record' | 'no-discv5-endpoint' | 'not-a-target' | 'no-admissible-address'>, string> = {
  'multiaddr-no-discv5': 'a multiaddr carries no discv5 endpoint',
  disabled: 'disabled',
  'no-libp2p-address': 'the record has no libp2p address (tcp, tcp6 or multiaddrs)',
  'node-unreachable': 'node unreachable',
  'no-peer-exchange': 'the node does not announce peer exchange',
}

/** The one line a step gets in the report: from its reason, its error, or its data. */
export function stepSummary(s: DoctorStep): string {
  if (s.reason === 'no-admissible-address') {
    const {refused} = s.data as RefusedAddresses
    return `not dialled: no admissible address (${refused.map((r) => `${r.address}: ${r.reason}`).join('; ')})`
  }
  if (s.reason !== undefined && s.reason in REASONS) return REASONS[s.reason as keyof typeof REASONS]
  // A step that ended in an error and has nothing else to show (a failed PING, PX query or tree check).
  if (s.error && s.data === undefined) return s.error.message
  if (s.data === undefined) return s.status
  switch (s.step) {
    case 'decode':
      return decodeSummary(s.data as DecodedEnr)
    case 'lint':
      return lintSummary(s.data as LintFinding[])
    case 'discv5-ping': {
      const pong = s.data as {rttMs: number; enrSeq?: string}
      const seq = pong.enrSeq !== undefined ? `, node's ENR seq ${pong.enrSeq}${s.reason === 'stale-record' ? ' (newer than this record: the record is stale)' : ''}` : ''
      return `PONG in ${pong.rttMs} ms${seq}`
    }
    case 'caps':
      return capsSummary(s.data as CapsReport)
    case 'peer-exchange':
      return pxSummary(s.data as PxQueryResult)
    case 'tree':
      return treeSummary(s.data as VerifyReport)
    case 'reachability':
      return reachabilitySummary(s.data as ReachabilityData)
  }
}

function decodeSummary(d: DecodedEnr): string {
  const waku2 = d.waku?.waku2 ? `, waku2 ${d.waku.waku2.capabilities.join(',')}` : ''
  const cluster = d.waku?.cluster !== undefined ? `, cluster ${d.waku.cluster} shards ${d.waku.shards?.join(',')}` : ''
  return `seq ${d.seq}, ${d.size} bytes, ${d.dialable.length} dial address(es)${waku2}${cluster}`
}

function lintSummary(findings: LintFinding[]): string {
  if (findings.length === 0) return 'no findings'
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.filter((f) => f.severity === 'warning').length
  return `${errors} error(s), ${warnings} warning(s): ${findings.map((f) => f.code).join(', ')}`
}

function capsSummary(caps: CapsReport): string {
  if (caps.status === 'unreachable') return `unreachable: ${caps.error?.message}`
  const problems = caps.enr?.findings.filter((f) => f.severity !== 'info') ?? []
  return [
    `${caps.identify?.agentVersion ?? 'no agent'}`,
    `protocols ${caps.capabilities.join(',') || '(none)'}`,
    caps.metadata ? `cluster ${caps.metadata.clusterId ?? '-'} shards ${caps.metadata.shards.join(',') || '-'}` : `metadata ${caps.metadataError?.code ?? 'n/a'}`,
    caps.pingMs !== undefined ? `ping ${caps.pingMs} ms` : `ping ${caps.pingError?.code ?? 'n/a'}`,
    ...problems.map((f) => `${f.code}: ${f.message}`),
  ].join('; ')
}

function pxSummary(px: PxQueryResult): string {
  const warnings = px.warnings.length ? `; ${px.warnings.join('; ')}` : ''
  return `status ${px.status.code} ${px.status.name}; ${px.received} record(s): ${px.valid} valid, ${px.invalid} invalid, ${px.flagged} with forbidden addresses${warnings}`
}

function treeSummary(r: VerifyReport): string {
  const problems = r.problems.length ? `; ${r.problems.length} problem(s): ${r.problems.map((p) => p.code).join(', ')}` : ''
  return `seq ${r.seq}, signature ${r.signature}, ${r.nodes} node(s), ${r.links.length} link(s), depth ${r.depth}${problems}`
}

const errorText = (e: ErrorJson) => `${e.code}: ${e.message}`

function reachabilitySummary(data: ReachabilityData): string {
  const parts: string[] = []
  const pm = data.portmap
  if (pm) {
    const mapped = (['upnp', 'natpmp', 'pcp'] as const).filter((p) => pm.protocols[p].mapping)
    parts.push(mapped.length ? `port mapping available (${mapped.join(', ')}) at ${pm.gateway}` : `no port mapping at ${pm.gateway}`)
    const bad = pm.enrCheck?.findings.filter((f) => f.level === 'error') ?? []
    if (bad.length) parts.push(...bad.map((b) => b.message))
    else if (pm.enrCheck) parts.push('the record matches the gateway')
  } else if (data.portmapError) {
    parts.push(`port mapping not checked (${errorText(data.portmapError)})`)
  }
  if (data.reach) parts.push(data.reach.verdict)
  else if (data.reachError) parts.push(`reachability through the relay not checked (${errorText(data.reachError)})`)
  return parts.join('; ')
}

/** The report with each step's summary, for --json (the same words as the human view). */
export function describeDoctor(r: DoctorReport): DescribedDoctorReport {
  return {...r, steps: r.steps.map((s) => ({...s, summary: stepSummary(s)}))}
}

function mark(status: StepStatus, c: ChalkInstance): string {
  switch (status) {
    case 'ok':
      return c.green('ok  ')
    case 'warn':
      return c.yellow('warn')
    case 'fail':
      return c.red('FAIL')
    case 'skipped':
      return c.dim('skip')
    case 'unavailable':
      return c.dim('n/a ')
  }
}

export function renderDoctor(r: DoctorReport, c: ChalkInstance = colorsFor()): string {
  const lines = [`doctor ${r.kind} ${r.target.length > 90 ? r.target.slice(0, 87) + '…' : r.target}`]
  let subject = ''
  for (const s of r.steps) {
    if (s.subject !== subject && r.kind === 'enrtree') lines.push(`  ${c.bold(s.subject)}`)
    subject = s.subject
    lines.push(`  [${mark(s.status, c)}] ${s.step.padEnd(13)} ${stepSummary(s)}${s.durationMs ? c.dim(`  (${s.durationMs} ms)`) : ''}`)
  }
  const warnings = r.steps.filter((s) => s.status === 'warn').length
  const healthy = warnings ? `healthy, with ${warnings} warning${warnings > 1 ? 's' : ''} above` : 'healthy'
  lines.push(r.ok ? (warnings ? c.yellow(healthy) : c.green(healthy)) : r.exitCode === 4 ? c.red('unreachable') : c.red('problems found'))
  return lines.join('\n')
}
