import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ndjsonLine} from '../../src/ui/ndjson.js'

describe('ndjsonLine', () => {
  it('puts type first, ends with one newline, and round-trips through JSON.parse', () => {
    const line = ndjsonLine('node', {id: 'ab', seq: 3, nested: {a: [1, 2]}})
    expect(line).toBe('{"type":"node","id":"ab","seq":3,"nested":{"a":[1,2]}}\n')
  })

  it('refuses a value that already has a type field instead of hiding it', () => {
    expect(() => ndjsonLine('record', {type: 'x'})).toThrow(/own "type" field/)
  })

  it('never emits a newline inside a line, for any JSON value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string().filter((k) => k !== 'type' && k !== '__proto__'), fc.jsonValue()), (value) => {
        const line = ndjsonLine('summary', value)
        expect(line.indexOf('\n')).toBe(line.length - 1)
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify({type: 'summary', ...value})))
      }),
    )
  })
})
