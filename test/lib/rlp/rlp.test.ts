// Byte-level tests of the strict RLP codec against go-ethereum's decode/encode cases
// (test/vectors/rlp-edge-cases.json, from rlp/decode_test.go and rlp/encode_test.go).
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {
  decodeRlp,
  decodeRlpFixedBytes,
  decodeRlpItem,
  decodeRlpUint,
  encodeRlp,
  RLP_ERRORS,
  type RlpValue,
} from '../../../src/lib/rlp/index.js'
import {loadVector} from '../../helpers/vectors.js'

const vectors = loadVector('rlp-edge-cases.json')
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Maps geth's message for a typed decode error to our error's geth name. */
function gethName(message: string): string {
  if (message.includes('non-canonical size')) return 'ErrCanonSize'
  if (message.includes('non-canonical integer')) return 'ErrCanonInt'
  if (message.includes('too long for uint')) return 'ErrUintOverflow'
  if (message.includes('expected input string or byte')) return 'ErrExpectedString'
  if (message.includes('element is larger than containing list')) return 'ErrElemTooLarge'
  if (message.startsWith('ErrValueTooLarge')) return 'ErrValueTooLarge'
  if (message.includes('too short for') || message.includes('too long for [')) return 'wrong-length'
  throw new Error(`unmapped geth error ${message}`)
}

function errorOf(fn: () => unknown): BadInputError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError)
    return error as BadInputError
  }
  throw new Error('expected an error')
}

function expectGethError(fn: () => unknown, gethMessage: string): void {
  const err = errorOf(fn)
  const want = gethName(gethMessage)
  if (want === 'wrong-length') {
    expect(err.code).toBe('RLP_WRONG_LENGTH')
    expect(err.message).toContain(gethMessage.includes('too short') ? 'too short' : 'too long')
  } else {
    expect(err.details?.rlpError).toBe(want)
    expect(err.message.startsWith(RLP_ERRORS[want as keyof typeof RLP_ERRORS])).toBe(true)
    expect(err.message).toMatch(/at byte \d+$/)
  }
}

describe('rlp: go-ethereum decode vectors', () => {
  for (const v of vectors.decode_uint32) {
    it(`uint32 ${v.input}`, () => {
      const run = () => Number(decodeRlpUint(decodeRlpItem(fromHex(v.input)), 4))
      if (v.error) expectGethError(run, v.error)
      else expect(run()).toBe(v.value)
    })
  }
  for (const v of vectors.decode_bytes) {
    it(`bytes ${v.input}`, () => {
      const run = () => {
        const item = decodeRlpItem(fromHex(v.input))
        if (item.kind !== 'string') decodeRlpUint(item) // raises ErrExpectedString like geth's []byte decoder
        return toHex(item.bytes)
      }
      if (v.error) expectGethError(run, v.error)
      else expect(run()).toBe(v.value_hex)
    })
  }
  for (const v of vectors.decode_fixed_byte_arrays) {
    it(`${v.type} ${v.input}`, () => {
      const n = Number(/\[(\d+)\]/.exec(v.type)![1])
      const run = () => toHex(decodeRlpFixedBytes(decodeRlpItem(fromHex(v.input)), n))
      if (v.error) expectGethError(run, v.error)
      else expect(run()).toBe(v.value_hex)
    })
  }
  for (const v of vectors.decode_string) {
    it(`string ${v.input}`, () => {
      const run = () => {
        const item = decodeRlpItem(fromHex(v.input))
        if (item.kind !== 'string') decodeRlpUint(item)
        return new TextDecoder().decode(item.bytes)
      }
      if (v.error) expectGethError(run, v.error)
      else expect(run()).toBe(v.value)
    })
  }
  for (const v of vectors.decode_list_uint) {
    it(`[]uint ${v.input}`, () => {
      const run = () => decodeRlpItem(fromHex(v.input)).items.map((i) => Number(decodeRlpUint(i)))
      if (v.error) expectGethError(run, v.error)
      else expect(run()).toEqual(v.value)
    })
  }
  it('fuzzer case → ErrElemTooLarge', () => {
    expectGethError(() => decodeRlpItem(fromHex(vectors.fuzzer_case.input)), vectors.fuzzer_case.error)
  })
  for (const v of vectors.stream_errors) {
    it(`stream error ${v.input}`, () => expectGethError(() => decodeRlpItem(fromHex(v.input)), v.error))
  }
})

describe('rlp: go-ethereum encode vectors', () => {
  for (const v of vectors.encode) {
    const label = JSON.stringify(v).slice(0, 60)
    it(label, () => {
      let out: Uint8Array
      if ('uint' in v) out = encodeRlp(BigInt(typeof v.uint === 'number' && v.uint > Number.MAX_SAFE_INTEGER ? '18446744073709551615' : v.uint))
      else if ('bytes_hex' in v) out = encodeRlp(fromHex(v.bytes_hex))
      else if ('string' in v) out = encodeRlp(v.string as string)
      else if ('list_uint' in v) out = encodeRlp((v.list_uint as number[]).map((n) => encodeUintValue(n)))
      else out = encodeRlp([[], [[]], [[], [[]]]])
      expect(toHex(out).toUpperCase()).toBe(v.output)
      // and it decodes back canonically
      expect(toHex(encodeRlp(decodeRlp(out)))).toBe(toHex(out))
    })
  }
})

function encodeUintValue(n: number): Uint8Array {
  return decodeRlp(encodeRlp(n)) as Uint8Array
}

describe('rlp: canonicality rules (reliability.md §1.2)', () => {
  const cases: Array<[string, string]> = [
    ['8100', 'ErrCanonSize'],
    ['8101', 'ErrCanonSize'],
    ['817f', 'ErrCanonSize'],
    ['b800', 'ErrCanonSize'],
    ['b90055' + '00'.repeat(0x55), 'ErrCanonSize'], // leading zero in the length of length
    ['f800', 'ErrCanonSize'],
    ['f803112233', 'ErrCanonSize'],
    ['b838' + '00'.repeat(10), 'ErrValueTooLarge'],
    ['c8c9010101010101010101', 'ErrElemTooLarge'],
    ['c101' + '00', 'ErrMoreThanOneValue'],
    ['0102', 'ErrMoreThanOneValue'],
    ['', 'ErrEmptyInput'],
    ['c1'.repeat(100) + 'c0', 'ErrElemTooLarge'],
  ]
  for (const [input, name] of cases) {
    it(`${input.slice(0, 24) || '(empty)'} → ${name}`, () => {
      const err = errorOf(() => decodeRlpItem(fromHex(input)))
      expect(err.details?.rlpError).toBe(name)
    })
  }
  it('reports the byte offset of the fault', () => {
    const err = errorOf(() => decodeRlpItem(fromHex('c50183aabbcc8105')))
    expect(err.details?.offset).toBeTypeOf('number')
    const err2 = errorOf(() => decodeRlpItem(fromHex('c3018105')))
    expect(err2.details).toMatchObject({rlpError: 'ErrCanonSize', offset: 2})
  })
  it('rejects deep nesting without blowing the stack', () => {
    // 1000 nested lists, well-formed lengths
    let v: RlpValue = []
    for (let i = 0; i < 1000; i++) v = [v]
    const enc = encodeRlp(v)
    const err = errorOf(() => decodeRlpItem(enc))
    expect(err.details?.rlpError).toBe('ErrTooDeep')
  })
  it('integers: 00 and leading zeros are ErrCanonInt, > 8 bytes overflows uint64', () => {
    expect(errorOf(() => decodeRlpUint(decodeRlpItem(fromHex('00')))).details?.rlpError).toBe('ErrCanonInt')
    expect(errorOf(() => decodeRlpUint(decodeRlpItem(fromHex('820002')))).details?.rlpError).toBe('ErrCanonInt')
    expect(errorOf(() => decodeRlpUint(decodeRlpItem(fromHex('89000000000000000001')))).details?.rlpError).toBe('ErrUintOverflow')
    expect(decodeRlpUint(decodeRlpItem(fromHex('88ffffffffffffffff')))).toBe(2n ** 64n - 1n)
  })
})

const rlpValue: fc.Arbitrary<RlpValue> = fc.letrec((tie) => ({
  value: fc.oneof({depthSize: 'small', withCrossShrink: true}, fc.uint8Array({maxLength: 80}), fc.array(tie('value'), {maxLength: 5})),
})).value as fc.Arbitrary<RlpValue>

describe('rlp: properties', () => {
  it('decode ∘ encode is the identity, and encode ∘ decode reproduces the input bytes', () => {
    fc.assert(
      fc.property(rlpValue, (v) => {
        const enc = encodeRlp(v)
        const dec = decodeRlp(enc)
        expect(dec).toEqual(v)
        expect(toHex(encodeRlp(dec))).toBe(toHex(enc))
      }),
      {numRuns: 500},
    )
  })
  it('any byte string either decodes to a value that re-encodes to the same bytes, or throws BadInputError', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 120}), (bytes) => {
        let value: RlpValue
        try {
          value = decodeRlp(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(BadInputError)
          return
        }
        // geth's fuzzer property: canonical decoding means re-encoding is byte-identical.
        expect(toHex(encodeRlp(value))).toBe(toHex(bytes))
      }),
      {numRuns: 3000},
    )
  })
  it('uints round-trip canonically', () => {
    fc.assert(
      fc.property(fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), (n) => {
        expect(decodeRlpUint(decodeRlpItem(encodeRlp(n)))).toBe(n)
      }),
    )
  })
})
