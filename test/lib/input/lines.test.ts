import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {afterAll, describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {cleanLine, collectInputLines, isFile, readInputLines, readSourceText} from '../../../src/lib/input/lines.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-lines-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('cleanLine', () => {
  it('skips blank lines and comments, keeps the first token of an annotated line', () => {
    expect(cleanLine('')).toBeUndefined()
    expect(cleanLine('   \t')).toBeUndefined()
    expect(cleanLine('# a comment')).toBeUndefined()
    expect(cleanLine('  // another')).toBeUndefined()
    expect(cleanLine('enr:-abc node-01 (ams3)')).toBe('enr:-abc')
    expect(cleanLine('  /ip4/1.2.3.4/tcp/1\r')).toBe('/ip4/1.2.3.4/tcp/1')
  })
})

describe('readInputLines', () => {
  it('takes literals as they are, reads files line by line and `-` from the stream passed in', async () => {
    const file = join(dir, 'list.txt')
    writeFileSync(file, '# fleet\n\nenr:-one first\r\n  enr:-two\n// done\n')
    const stdin = Readable.from(['enr:-three\n# x\nenr:-fo', 'ur\n'])
    const lines = await collectInputLines(['enr:-lit  note', file, '-', '# only a comment'], {stdin})
    expect(lines).toEqual([
      {source: 'argument 1', line: 1, text: 'enr:-lit'},
      {source: file, line: 3, text: 'enr:-one'},
      {source: file, line: 4, text: 'enr:-two'},
      {source: 'stdin', line: 1, text: 'enr:-three'},
      {source: 'stdin', line: 3, text: 'enr:-four'},
    ])
  })

  it('refuses a line over the limit instead of buffering it, naming source:line', async () => {
    const stdin = Readable.from([`ok\n${'x'.repeat(50)}\n`])
    const seen: string[] = []
    const error = await (async () => {
      for await (const l of readInputLines(['-'], {stdin, maxLineLength: 40})) seen.push(l.text)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(['ok'])
    expect(error).toBeInstanceOf(BadInputError)
    expect(error).toMatchObject({code: 'INPUT_LINE_TOO_LONG', message: 'stdin:2: line is 50 characters, the limit is 40'})
  })

  it('a stream that fails is bad input naming the source', async () => {
    const stdin = new Readable({
      read() {
        this.destroy(Object.assign(new Error('boom'), {code: 'EIO'}))
      },
    })
    await expect(collectInputLines(['-'], {stdin})).rejects.toMatchObject({name: 'BadInputError', code: 'INPUT_UNREADABLE', message: 'stdin: cannot read (EIO)'})
  })
})

describe('isFile', () => {
  it('is true for a regular file only', async () => {
    const file = join(dir, 'f')
    writeFileSync(file, 'x')
    mkdirSync(join(dir, 'sub'), {recursive: true})
    expect(await isFile(file)).toBe(true)
    expect(await isFile(join(dir, 'sub'))).toBe(false)
    expect(await isFile(join(dir, 'missing'))).toBe(false)
    expect(await isFile('x'.repeat(5000))).toBe(false)
  })
})

describe('readSourceText', () => {
  it('joins chunks (a character split across two) and stops at the size limit', async () => {
    const euro = Buffer.from('€')
    const text = await readSourceText(Readable.from([Buffer.from('a'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('b')]), 's', {maxBytes: 100})
    expect(text).toBe('a€b')
    await expect(readSourceText(Readable.from(['x'.repeat(60), 'y'.repeat(60)]), 'big.txt', {maxBytes: 100})).rejects.toMatchObject({
      name: 'BadInputError',
      code: 'INPUT_TOO_LARGE',
      message: 'big.txt: more than 100 bytes, the limit for one input',
    })
  })

  it('stops waiting when the signal fires', async () => {
    const never = new Readable({read() {}})
    const controller = new AbortController()
    const reading = readSourceText(never, 'stdin', {maxBytes: 100, signal: controller.signal})
    controller.abort()
    await expect(reading).rejects.toMatchObject({name: 'InterruptedError', code: 'ABORTED'})
    await expect(readSourceText(Readable.from(['x']), 'stdin', {maxBytes: 100, signal: AbortSignal.abort()})).rejects.toMatchObject({code: 'ABORTED'})
  })
})
