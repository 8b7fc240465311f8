// The malformed-record corpus (test/fixtures/enr/malformed.ts): every case gives our typed error
// with the expected code and exit status, never anything else. The CLI leg runs the binary ONCE on
// the whole corpus file.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {parseEnr} from '../../../src/lib/enr/index.js'
import {BadInputError, CheckFailedError, hasCode, upperSnakeCode} from '../../../src/lib/errors.js'
import {malformedCorpus, validBaseRecords} from '../../fixtures/enr/malformed.js'
import {runCli} from '../../helpers/cli.js'

const corpus = malformedCorpus()
const dir = mkdtempSync(join(tmpdir(), 'waku-disc-enr-corpus-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('malformed ENR corpus', () => {
  it('has at least 200 distinct cases covering every fault class', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200)
    expect(new Set(corpus.map((c) => c.input)).size).toBe(corpus.length)
    const codes = new Set(corpus.map((c) => c.code))
    for (const code of [
      'ENR_BASE64_ALPHABET', 'ENR_BASE64_PADDING', 'ENR_BASE64_TRAILING_BITS', 'RLP_CANON_SIZE', 'SEQ_CANON_INT',
      'RLP_MORE_THAN_ONE_VALUE', 'ENR_KEYS_UNSORTED', 'ENR_DUPLICATE_KEY', 'ID_UNKNOWN_SCHEME', 'SIGNATURE_INVALID',
      'IP_BAD_LENGTH', 'TCP_BAD_LENGTH', 'UDP_NON_CANONICAL', 'SECP256K1_BAD_LENGTH', 'MULTIADDRS_MALFORMED',
      'RS_BAD_LENGTH', 'RSV_BAD_LENGTH', 'SIZE_OVER_LIMIT',
    ]) {
      expect(codes, code).toContain(code)
    }
  })

  it('the base records are valid (so each case isolates its one fault)', () => {
    for (const r of validBaseRecords()) expect(parseEnr(r).signatureValid).toBe(true)
  })

  it.each(corpus.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let caught: unknown
    try {
      parseEnr(c.input)
    } catch (error) {
      caught = error
    }
    expect(caught, 'must be rejected').toBeDefined()
    expect(caught).toBeInstanceOf(c.exit === 2 ? BadInputError : CheckFailedError)
    const err = caught as BadInputError
    expect(err.code).toBe(c.code)
    // every one of these codes was dotted before; the old name is kept as an alias
    const aliases = err.toJSON().aliases ?? []
    expect(aliases).toHaveLength(1)
    expect(upperSnakeCode(aliases[0]!)).toBe(c.code)
    expect(hasCode(err, aliases[0]!)).toBe(true)
    // one clear line
    expect(err.message).not.toContain('\n')
    expect(err.message.length).toBeGreaterThan(10)
    expect(err.message.length).toBeLessThan(300)
  })

  it('the CLI reports every case with its code and exits 2 (run once on the corpus file)', async () => {
    // Lines are tokens: cases with whitespace or a leading '#' cannot be represented in a file.
    const usable = corpus.filter((c) => !/\s/.test(c.input) && !c.input.startsWith('#') && !c.input.startsWith('//') && c.input !== '')
    expect(usable.length).toBeGreaterThanOrEqual(200)
    const file = join(dir, 'corpus.txt')
    writeFileSync(file, usable.map((c) => c.input).join('\n') + '\n')
    const r = await runCli(['enr', 'decode', '--json', file])
    expect(r.stderr).not.toMatch(/Internal error|TypeError|RangeError/)
    expect(r.code).toBe(2)
    expect(Array.isArray(r.json)).toBe(true)
    expect(r.json).toHaveLength(usable.length)
    usable.forEach((c, i) => {
      const entry = r.json[i]
      expect(entry.error?.code, c.name).toBe(c.code)
      expect(entry.error?.aliases?.map(upperSnakeCode), c.name).toEqual([c.code])
      expect(entry.error?.exitCode, c.name).toBe(c.exit)
    })
  }, 120_000)

  it('parsed-but-invalid records alone exit 3, and lint flags them as errors', async () => {
    const invalid = corpus.filter((c) => c.exit === 3 && !/\s/.test(c.input)).slice(0, 40)
    const file = join(dir, 'invalid.txt')
    writeFileSync(file, invalid.map((c) => c.input).join('\n') + '\n')
    const r = await runCli(['enr', 'decode', '--ndjson', file])
    expect(r.code).toBe(3)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'record')
    expect(lines.map((l) => l.error.code)).toEqual(invalid.map((c) => c.code))
    const lint = await runCli(['enr', 'lint', '--json', file])
    expect(lint.code).toBe(3)
    expect(lint.json.every((e: any) => e.worst === 'error')).toBe(true)
  }, 120_000)
})
