import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import type {DoctorReport} from '../../src/lib/doctor/index.js'
import {renderDoctor} from '../../src/ui/doctor.js'

const plain = new Chalk({level: 0})
const report = (statuses: DoctorReport['steps'][number]['status'][], extra: Partial<DoctorReport> = {}): DoctorReport => ({
  target: '/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAm',
  kind: 'multiaddr',
  steps: statuses.map((status, i) => ({step: i === 0 ? 'caps' : 'peer-exchange', subject: 'p', status, summary: `step ${i}`, durationMs: 1})),
  ok: true,
  exitCode: 0,
  ...extra,
})

describe('renderDoctor', () => {
  it('ends with the verdict, counting warnings a healthy node still has', () => {
    expect(renderDoctor(report(['ok', 'ok']), plain).split('\n').at(-1)).toBe('healthy')
    expect(renderDoctor(report(['warn', 'ok']), plain).split('\n').at(-1)).toBe('healthy, with 1 warning above')
    expect(renderDoctor(report(['warn', 'warn']), plain).split('\n').at(-1)).toBe('healthy, with 2 warnings above')
    expect(renderDoctor(report(['fail', 'warn'], {ok: false, exitCode: 3}), plain).split('\n').at(-1)).toBe('problems found')
    expect(renderDoctor(report(['fail', 'skipped'], {ok: false, exitCode: 4}), plain).split('\n').at(-1)).toBe('unreachable')
    expect(renderDoctor(report(['warn', 'ok']), plain)).toMatch(/\[warn\] caps +step 0/)
  })
})
