import type {ChalkInstance} from 'chalk'

import type {DoctorReport, StepStatus} from '../lib/doctor/index.js'
import {colorsFor} from './colors.js'

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
    lines.push(`  [${mark(s.status, c)}] ${s.step.padEnd(13)} ${s.summary}${s.durationMs ? c.dim(`  (${s.durationMs} ms)`) : ''}`)
  }
  const warnings = r.steps.filter((s) => s.status === 'warn').length
  const healthy = warnings ? `healthy, with ${warnings} warning${warnings > 1 ? 's' : ''} above` : 'healthy'
  lines.push(r.ok ? (warnings ? c.yellow(healthy) : c.green(healthy)) : r.exitCode === 4 ? c.red('unreachable') : c.red('problems found'))
  return lines.join('\n')
}
