// Batch decoding/linting of input lines (what `enr decode` and `enr lint` fold): every line gives one
// entry, nothing is dropped, and the exit code rule is 2 > 3 > 0.
import {describe, expect, it} from 'vitest'

import {batchExitCode, decodeEnrLines, isUnparseable, lintEnrLines} from '../../../src/lib/enr/index.js'
import {InterruptedError} from '../../../src/lib/errors.js'
import {buildRecord, bytes, toText, u16} from '../../fixtures/enr/build.js'

const valid = toText(buildRecord([['ip', bytes(8, 8, 8, 8)], ['udp', u16(9000)], ['tcp', u16(30303)], ['waku2', bytes(1)]]))
const badSig = toText(buildRecord([['udp', u16(9000)]], undefined, {signature: new Uint8Array(64).fill(3)}))
const lines = [valid, 'enr:%%', badSig, 'enr:-IS4QHCY'].map((text, i) => ({source: 'test', line: i + 1, text}))

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('decodeEnrLines / lintEnrLines', () => {
  it('one entry per line with its status', async () => {
    const results = await collect(decodeEnrLines(lines))
    expect(results.map((r) => r.status)).toEqual(['valid', 'unparseable', 'invalid', 'unparseable'])
    expect(isUnparseable(results[1]!.entry)).toBe(true)
    expect(results[1]!.entry).toMatchObject({input: 'enr:%%', source: 'test', line: 2, error: {code: 'ENR_BASE64_ALPHABET', aliases: ['enr.base64-alphabet'], exitCode: 2}})
    expect(isUnparseable(results[2]!.entry)).toBe(false)
    expect(results[2]!.entry).toMatchObject({udp: 9000, signatureValid: false, error: {code: 'SIGNATURE_INVALID', aliases: ['signature.invalid'], exitCode: 3}})
    expect(batchExitCode(results.map((r) => r.status))).toBe(2)
    expect(batchExitCode(['valid', 'invalid'])).toBe(3)
    expect(batchExitCode(['valid'])).toBe(0)
  })

  it('an argument that looks like a file name but is neither a file nor a record says so (the base64 error stays in the hint)', async () => {
    const args = ['nodes.txt', './list', 'enr:bad.txt', 'abc%%'].map((text, i) => ({source: `argument ${i + 1}`, line: 1, text}))
    const decoded = (await collect(decodeEnrLines(args))).map((r) => r.entry)
    expect(decoded[0]).toMatchObject({error: {code: 'ENR_BASE64_ALPHABET', exitCode: 2, message: 'nodes.txt: no such file, and not a record', hint: expect.stringMatching(/^no file named nodes.txt exists; read as a record: ENR base64 has invalid character '\.'/)}})
    expect(decoded[1]).toMatchObject({error: {message: './list: no such file, and not a record'}})
    // An `enr:` text or something without a path shape keeps the plain record error.
    expect((decoded[2] as {error: {message: string}}).error.message).not.toMatch(/no such file/)
    expect((decoded[3] as {error: {message: string; hint?: string}}).error).not.toHaveProperty('hint')
    const fromFile = (await collect(decodeEnrLines([{source: 'list.txt', line: 3, text: 'nodes.txt'}])))[0]!.entry
    expect((fromFile as {error: {message: string}}).error.message).not.toMatch(/no such file/)
    const linted = (await collect(lintEnrLines(args.slice(0, 1))))[0]!.entry
    expect(linted.findings[0]).toMatchObject({severity: 'error', message: 'nodes.txt: no such file, and not a record'})
  })

  it('lint entries carry the worst severity; --public changes it', async () => {
    const results = await collect(lintEnrLines(lines))
    expect(results.map((r) => r.entry.worst)).toEqual(['ok', 'error', 'error', 'error'])
    // Finding codes stay dotted and field-named, also for an input that does not parse (the error's alias).
    expect(results[1]!.entry.error).toMatchObject({code: 'ENR_BASE64_ALPHABET', aliases: ['enr.base64-alphabet']})
    expect(results[1]!.entry.findings).toEqual([{code: 'enr.base64-alphabet', field: 'enr', severity: 'error', message: results[1]!.entry.error!.message}])
    expect(results[2]!.entry.findings.map((f) => [f.code, f.field])).toContainEqual(['signature.invalid', 'signature'])
    const priv = toText(buildRecord([['ip', bytes(10, 0, 0, 1)], ['udp', u16(9000)], ['tcp', u16(30303)], ['waku2', bytes(1)]]))
    const one = [{source: 'x', line: 1, text: priv}]
    expect((await collect(lintEnrLines(one)))[0]!.entry.worst).toBe('ok')
    expect((await collect(lintEnrLines(one, {publicList: true})))[0]!.entry.findings.map((f) => f.code)).toEqual(['ip.private'])
  })

  it('stops with InterruptedError when the signal fires', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(collect(decodeEnrLines(lines, {signal: ac.signal}))).rejects.toBeInstanceOf(InterruptedError)
  })
})
