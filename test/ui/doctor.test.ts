import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import type {DoctorReport, DoctorStep} from '../../src/lib/doctor/index.js'
import {describeDoctor, renderDoctor, stepSummary} from '../../src/ui/doctor.js'

const plain = new Chalk({level: 0})
const pxData = (code: number) => ({status: {code, name: code === 200 ? 'SUCCESS' : 'SERVICE_UNAVAILABLE'}, received: 2, valid: 2, invalid: 0, flagged: 0, warnings: []})
const report = (statuses: DoctorStep['status'][], extra: Partial<DoctorReport> = {}): DoctorReport => ({
  target: '/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAm',
  kind: 'multiaddr',
  steps: statuses.map((status) => ({step: 'peer-exchange', subject: 'p', status, durationMs: 1, data: pxData(status === 'ok' ? 200 : 503)})),
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
    expect(renderDoctor(report(['warn', 'ok']), plain)).toMatch(/\[warn\] peer-exchange status 503 SERVICE_UNAVAILABLE; 2 record\(s\)/)
  })
})

describe('stepSummary', () => {
  const step = (s: Partial<DoctorStep>): DoctorStep => ({step: 'caps', subject: 'p', status: 'skipped', durationMs: 0, ...s})

  it('words each reason a step can be skipped for', () => {
    expect(stepSummary(step({step: 'discv5-ping', reason: 'multiaddr-no-discv5'}))).toBe('a multiaddr carries no discv5 endpoint')
    expect(stepSummary(step({step: 'discv5-ping', reason: 'disabled'}))).toBe('disabled')
    expect(stepSummary(step({reason: 'no-libp2p-address'}))).toBe('the record has no libp2p address (tcp, tcp6 or multiaddrs)')
    expect(stepSummary(step({step: 'peer-exchange', reason: 'node-unreachable'}))).toBe('node unreachable')
    expect(stepSummary(step({step: 'peer-exchange', reason: 'no-peer-exchange'}))).toBe('the node does not announce peer exchange')
    const refused = {refused: [{address: '/ip4/10.0.0.1/tcp/1', reason: 'private'}, {address: '/ip4/127.0.0.1/tcp/2', reason: 'loopback'}]}
    expect(stepSummary(step({reason: 'no-admissible-address', data: refused}))).toBe('not dialled: no admissible address (/ip4/10.0.0.1/tcp/1: private; /ip4/127.0.0.1/tcp/2: loopback)')
    const error = {name: 'CheckFailedError', code: 'NO_DISCV5_ENDPOINT', exitCode: 3, message: 'the ENR has no ip+udp'}
    expect(stepSummary(step({step: 'discv5-ping', reason: 'no-discv5-endpoint', error}))).toBe('the ENR has no ip+udp')
  })

  it('words a failed step by its error, and a finished one by its data', () => {
    const error = {name: 'UnreachableError', code: 'DISCV5_NO_PONG', exitCode: 4, message: 'no discv5 PONG from 127.0.0.1:1'}
    expect(stepSummary(step({step: 'discv5-ping', status: 'fail', error}))).toBe('no discv5 PONG from 127.0.0.1:1')
    expect(stepSummary(step({step: 'discv5-ping', status: 'ok', data: {rttMs: 1.5, enrSeq: '3'}}))).toBe("PONG in 1.5 ms, node's ENR seq 3")
    expect(stepSummary(step({step: 'discv5-ping', status: 'warn', reason: 'stale-record', data: {rttMs: 2, enrSeq: '9'}}))).toBe("PONG in 2 ms, node's ENR seq 9 (newer than this record: the record is stale)")
    expect(stepSummary(step({step: 'lint', status: 'ok', data: []}))).toBe('no findings')
    const tree = {seq: '3', signature: 'valid', nodes: 3, links: [], depth: 1, problems: [{code: 'DNS_STALE'}]}
    expect(stepSummary(step({step: 'tree', status: 'warn', data: tree}))).toBe('seq 3, signature valid, 3 node(s), 0 link(s), depth 1; 1 problem(s): DNS_STALE')
    const reach = {portmapError: {name: 'UnreachableError', code: 'NO_GATEWAY', exitCode: 4, message: 'no gateway'}, reach: {verdict: 'direct link after DCUtR'}}
    expect(stepSummary(step({step: 'reachability', status: 'warn', data: reach}))).toBe('port mapping not checked (NO_GATEWAY: no gateway); direct link after DCUtR')
  })

  it('describeDoctor adds the same words to every step, for --json', () => {
    const described = describeDoctor(report(['ok']))
    expect(described.steps[0]!.summary).toBe(stepSummary(report(['ok']).steps[0]!))
  })
})
