// Rollback protection state (seen-seq.ts): the pure rules and the JSON file.
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseSeqText, readSeenSeq, recordSeenSeq, seenSeqIn, strictestMinSeq, withSeenSeq} from '../../../src/lib/dns/seen-seq.js'

const URL_A = 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@a.example.org'
const URL_B = 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@b.example.org'

describe('seen-seq rules', () => {
  it('parses a seq given as text, and refuses anything but decimal digits', () => {
    expect(parseSeqText('0', '--min-seq')).toBe(0n)
    expect(parseSeqText('18446744073709551615', '--min-seq')).toBe(18446744073709551615n)
    for (const bad of ['', '-1', '1.5', ' 1', '0x10', 'abc']) {
      expect(() => parseSeqText(bad, '--min-seq')).toThrow(expect.objectContaining({code: 'DNS_BAD_SEQ', exitCode: 2, message: `--min-seq ${JSON.stringify(bad)} is not a non-negative integer`}))
    }
  })

  it('reads only decimal strings from the state', () => {
    expect(seenSeqIn({[URL_A]: '42'}, URL_A)).toBe(42n)
    expect(seenSeqIn({[URL_A]: '42'}, URL_B)).toBeUndefined()
    expect(seenSeqIn({[URL_A]: 42}, URL_A)).toBeUndefined()
    expect(seenSeqIn({[URL_A]: '-4'}, URL_A)).toBeUndefined()
  })

  it('records a higher seq only, keeping the other trees and the key order', () => {
    const state = {[URL_A]: '5', [URL_B]: '1'}
    expect(withSeenSeq(state, URL_A, '5')).toBeUndefined()
    expect(withSeenSeq(state, URL_A, '4')).toBeUndefined()
    const next = withSeenSeq(state, URL_A, '6')
    expect(next).toEqual({[URL_A]: '6', [URL_B]: '1'})
    expect(Object.keys(next!)).toEqual([URL_A, URL_B])
    expect(state[URL_A]).toBe('5')
    expect(withSeenSeq({}, URL_A, '0')).toEqual({[URL_A]: '0'})
    // A value that is not a decimal string is replaced.
    expect(withSeenSeq({[URL_A]: 'junk'}, URL_A, '1')).toEqual({[URL_A]: '1'})
  })

  it('the strictest lower bound is the higher one', () => {
    expect(strictestMinSeq(undefined, undefined)).toBeUndefined()
    expect(strictestMinSeq(3n, undefined)).toBe(3n)
    expect(strictestMinSeq(undefined, 7n)).toBe(7n)
    expect(strictestMinSeq(3n, 7n)).toBe(7n)
    expect(strictestMinSeq(9n, 7n)).toBe(9n)
  })
})

describe('seen-seq file', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'waku-disc-seen-seq-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('a missing file holds nothing; recording creates it; a lower seq is not recorded', async () => {
    const path = join(dir, 'seen.json')
    expect(await readSeenSeq(path, URL_A)).toBeUndefined()
    await recordSeenSeq(path, URL_A, '5')
    expect(await readSeenSeq(path, URL_A)).toBe(5n)
    await recordSeenSeq(path, URL_A, '3')
    await recordSeenSeq(path, URL_B, '1')
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({[URL_A]: '5', [URL_B]: '1'})
  })

  it('reading a file that is not JSON is bad input; recording into it starts afresh', async () => {
    const path = join(dir, 'broken.json')
    await writeFile(path, 'not json')
    await expect(readSeenSeq(path, URL_A)).rejects.toMatchObject({code: 'DNS_STATE_FILE', exitCode: 2})
    await recordSeenSeq(path, URL_A, '2')
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({[URL_A]: '2'})
  })

  it('JSON that is not an object (null, an array, a number) is bad input, not a crash; recording replaces it', async () => {
    for (const text of ['null', '[1,2]', '7', '"x"']) {
      const path = join(dir, `scalar-${text.length}.json`)
      await writeFile(path, text)
      await expect(readSeenSeq(path, URL_A)).rejects.toMatchObject({code: 'DNS_STATE_FILE', exitCode: 2, message: expect.stringContaining('not a JSON object')})
      await recordSeenSeq(path, URL_A, '3')
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({[URL_A]: '3'})
    }
  })

  it('an unreadable path (a directory) is bad input', async () => {
    await expect(readSeenSeq(dir, URL_A)).rejects.toMatchObject({code: 'DNS_STATE_FILE', message: expect.stringContaining('EISDIR')})
  })
})
