// resolveTreeReport (resolve-report.ts): rollback protection through the state file, the exit code
// of each outcome, decoding, and the nodes.json view; against an in-memory resolver.
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {resolveExitCode, resolveTreeReport, resolvedNodeSet} from '../../../src/lib/dns/resolve-report.js'
import {makeTree, subdomainOf} from '../../../src/lib/dns/tree.js'
import {ExitCode, InterruptedError} from '../../../src/lib/errors.js'
import {testKey, testRecords} from './fixtures.js'
import {MemoryResolver} from './memory-resolver.js'

const domain = 'report.example'
const records = testRecords(6)

function tree(seq: bigint): {url: string; txt: Record<string, string>} {
  const t = makeTree(seq, records, [])
  const url = t.sign(testKey(9201), domain)
  return {url, txt: t.toTxt(domain)}
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-resolve-report-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('resolveExitCode', () => {
  const error = {code: 'DNS_NO_ENTRY', severity: 'error' as const, message: 'x'}
  const warning = {code: 'DNS_WIDE_BRANCH', severity: 'warning' as const, message: 'x'}
  const interrupted = {code: 'INTERRUPTED', severity: 'error' as const, message: 'x'}

  it('0 without errors (warnings allowed), 3 with an error', () => {
    expect(resolveExitCode({problems: []})).toBe(ExitCode.ok)
    expect(resolveExitCode({problems: [warning]})).toBe(ExitCode.ok)
    expect(resolveExitCode({problems: [warning, error]})).toBe(ExitCode.checkFailed)
  })

  it('an interrupted resolution takes the abort\'s code: 4 for a timeout, 130 for an interrupt', () => {
    const timeout = new Error('--timeout 1s reached')
    timeout.name = 'TimeoutError'
    expect(resolveExitCode({problems: [error, interrupted]}, AbortSignal.abort(timeout))).toBe(ExitCode.unreachable)
    expect(resolveExitCode({problems: [interrupted]}, AbortSignal.abort(new InterruptedError('INTERRUPTED', 'interrupted by SIGINT')))).toBe(ExitCode.interrupted)
    expect(resolveExitCode({problems: [interrupted]}, AbortSignal.abort())).toBe(ExitCode.interrupted)
    expect(resolveExitCode({problems: [interrupted]})).toBe(ExitCode.interrupted)
  })
})

describe('resolveTreeReport', () => {
  it('records the seq in the state file; a later run of an older tree is a rollback (thrown, or listed when lenient, and not recorded)', async () => {
    const state = join(dir, 'seen.json')
    const v7 = tree(7n)
    const first = await resolveTreeReport(v7.url, {resolver: new MemoryResolver(v7.txt), statePath: state})
    expect(first).toMatchObject({seq: '7', complete: true, exitCode: ExitCode.ok})
    expect(first.decoded).toBeUndefined()
    expect(JSON.parse(await readFile(state, 'utf8'))).toEqual({[v7.url]: '7'})

    const v3 = tree(3n)
    await expect(resolveTreeReport(v3.url, {resolver: new MemoryResolver(v3.txt), statePath: state})).rejects.toMatchObject({code: 'DNS_SEQ_ROLLBACK', exitCode: 3})
    const lenient = await resolveTreeReport(`  ${v3.url} `, {resolver: new MemoryResolver(v3.txt), statePath: state, lenient: true})
    expect(lenient.problems.map((p) => p.code)).toEqual(['DNS_SEQ_ROLLBACK'])
    expect(lenient.exitCode).toBe(ExitCode.checkFailed)
    expect(JSON.parse(await readFile(state, 'utf8'))).toEqual({[v7.url]: '7'})
  })

  it('the stricter of minSeq and the state file wins', async () => {
    const state = join(dir, 'seen-2.json')
    const v5 = tree(5n)
    await writeFile(state, JSON.stringify({[v5.url]: '2'}))
    await expect(resolveTreeReport(v5.url, {resolver: new MemoryResolver(v5.txt), statePath: state, minSeq: 6n})).rejects.toMatchObject({code: 'DNS_SEQ_ROLLBACK'})
    await writeFile(state, JSON.stringify({[v5.url]: '6'}))
    await expect(resolveTreeReport(v5.url, {resolver: new MemoryResolver(v5.txt), statePath: state, minSeq: 1n})).rejects.toMatchObject({code: 'DNS_SEQ_ROLLBACK'})
    await writeFile(state, JSON.stringify({[v5.url]: '4'}))
    await expect(resolveTreeReport(v5.url, {resolver: new MemoryResolver(v5.txt), statePath: state, minSeq: 5n})).resolves.toMatchObject({exitCode: 0})
    expect(JSON.parse(await readFile(state, 'utf8'))).toEqual({[v5.url]: '5'})
  })

  it('a lenient run that finds an error exits 3; decode adds every record decoded; the node set is keyed by node id', async () => {
    const v = tree(1n)
    delete v.txt[`${subdomainOf(records[2]!.text)}.${domain}`]
    const report = await resolveTreeReport(v.url, {resolver: new MemoryResolver(v.txt), lenient: true, decode: true})
    expect(report.exitCode).toBe(ExitCode.checkFailed)
    expect(report.nodes).toHaveLength(5)
    expect(report.decoded!.map((d) => d.nodeId)).toEqual(report.nodes.map((n) => n.nodeId))
    const set = resolvedNodeSet(report)
    expect(Object.keys(set)).toEqual(report.nodes.map((n) => n.nodeId))
    expect(set[report.nodes[0]!.nodeId]).toEqual({seq: report.nodes[0]!.seq, record: report.nodes[0]!.enr})
  })

  it('an abort mid-sync gives the partial tree with the interrupt\'s exit code', async () => {
    const v = tree(1n)
    const controller = new AbortController()
    const report = await resolveTreeReport(v.url, {
      resolver: new MemoryResolver(v.txt, 5),
      concurrency: 1,
      signal: controller.signal,
      onNode: () => controller.abort(new InterruptedError('INTERRUPTED', 'interrupted by SIGINT')),
    })
    expect(report.complete).toBe(false)
    expect(report.exitCode).toBe(ExitCode.interrupted)
  })
})
