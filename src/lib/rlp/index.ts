/**
 * Strict RLP (Ethereum Yellow Paper, appendix B) decoder and encoder.
 *
 * Written here rather than taken from npm on purpose: ENR and discv5 validation needs go-ethereum's
 * exact canonicality rules and error classes (ErrCanonSize, ErrCanonInt, ErrElemTooLarge,
 * ErrValueTooLarge, ErrMoreThanOneValue) together with the byte offset of the fault, and no npm RLP
 * library reports them (@ethereumjs/rlp has ad-hoc messages and no offsets and cannot tell integers
 * from strings; ethers' decoder accepts non-canonical headers).
 */
import {BadInputError} from '../errors.js'

/** A decoded RLP value: a byte string or a list of values. */
export type RlpValue = Uint8Array | RlpValue[]

/** go-ethereum's error names, kept so messages and tests can be compared with geth's. */
export const RLP_ERRORS = {
  ErrCanonInt: 'rlp: non-canonical integer format',
  ErrCanonSize: 'rlp: non-canonical size information',
  ErrElemTooLarge: 'rlp: element is larger than containing list',
  ErrValueTooLarge: 'rlp: value size exceeds available input length',
  ErrMoreThanOneValue: 'rlp: input contains more than one value',
  ErrExpectedString: 'rlp: expected input string or byte',
  ErrExpectedList: 'rlp: expected input list',
  ErrUintOverflow: 'rlp: uint overflow',
  ErrTooDeep: 'rlp: nesting too deep',
  ErrEmptyInput: 'rlp: empty input',
} as const
export type RlpErrorName = keyof typeof RLP_ERRORS

const CODE: Record<RlpErrorName, string> = {
  ErrCanonInt: 'RLP_CANON_INT',
  ErrCanonSize: 'RLP_CANON_SIZE',
  ErrElemTooLarge: 'RLP_ELEM_TOO_LARGE',
  ErrValueTooLarge: 'RLP_VALUE_TOO_LARGE',
  ErrMoreThanOneValue: 'RLP_MORE_THAN_ONE_VALUE',
  ErrExpectedString: 'RLP_EXPECTED_STRING',
  ErrExpectedList: 'RLP_EXPECTED_LIST',
  ErrUintOverflow: 'RLP_UINT_OVERFLOW',
  ErrTooDeep: 'RLP_TOO_DEEP',
  ErrEmptyInput: 'RLP_EMPTY_INPUT',
}

/** A BadInputError whose details carry geth's error name and the byte offset of the fault. */
export function rlpError(name: RlpErrorName, offset: number, context?: string): BadInputError {
  const where = context === undefined ? `at byte ${offset}` : `in ${context} at byte ${offset}`
  return new BadInputError(CODE[name], `${RLP_ERRORS[name]} ${where}`, {details: {rlpError: name, offset}})
}

/** Position-annotated RLP item, produced by {@link decodeRlpItem}. */
export interface RlpItem {
  kind: 'string' | 'list'
  /** Offset of the item's first header byte in the input. */
  offset: number
  /** Offset of the first content byte. */
  contentOffset: number
  /** Offset just past the item. */
  end: number
  /** Content bytes for strings (a view into the input, not a copy). */
  bytes: Uint8Array
  /** Children for lists. */
  items: RlpItem[]
  /** The whole encoded item (header and content; a view into the input). */
  raw: Uint8Array
}

const MAX_DEPTH = 64

interface Header {
  kind: 'string' | 'list'
  contentOffset: number
  length: number
  /** True for the single-byte form (0x00-0x7f), where the content is the header byte itself. */
  single: boolean
}

type Overrun = 'ErrElemTooLarge' | 'ErrValueTooLarge'

// Reading past `end` is ErrElemTooLarge inside a list and ErrValueTooLarge at top level (geth's
// Stream.willRead makes the same distinction).
function readHeader(buf: Uint8Array, pos: number, end: number, overrun: Overrun): Header {
  if (pos >= end) throw rlpError(overrun, pos)
  const b = buf[pos]!
  if (b < 0x80) return {kind: 'string', contentOffset: pos, length: 1, single: true}
  if (b < 0xb8) {
    const length = b - 0x80
    if (length === 1) {
      if (pos + 1 >= end) throw rlpError(overrun, pos)
      // A single byte below 0x80 must be encoded as itself.
      if (buf[pos + 1]! < 0x80) throw rlpError('ErrCanonSize', pos)
    }
    return {kind: 'string', contentOffset: pos + 1, length, single: false}
  }
  if (b < 0xc0) return longHeader('string', buf, pos, end, b - 0xb7, overrun)
  if (b < 0xf8) return {kind: 'list', contentOffset: pos + 1, length: b - 0xc0, single: false}
  return longHeader('list', buf, pos, end, b - 0xf7, overrun)
}

function longHeader(kind: 'string' | 'list', buf: Uint8Array, pos: number, end: number, lenOfLen: number, overrun: Overrun): Header {
  if (pos + 1 + lenOfLen > end) throw rlpError(overrun, pos)
  // Leading zero in the length-of-length: non-canonical.
  if (buf[pos + 1] === 0) throw rlpError('ErrCanonSize', pos)
  let length = 0
  for (let i = 0; i < lenOfLen; i++) {
    length = length * 256 + buf[pos + 1 + i]!
    // Any length beyond 2^53 is far past any input we could hold.
    if (length > Number.MAX_SAFE_INTEGER / 256) throw rlpError(overrun, pos)
  }
  // The long form is only allowed for content longer than 55 bytes.
  if (length <= 55) throw rlpError('ErrCanonSize', pos)
  return {kind, contentOffset: pos + 1 + lenOfLen, length, single: false}
}

function decodeAt(buf: Uint8Array, pos: number, limit: number, depth: number, inList: boolean): RlpItem {
  if (depth > MAX_DEPTH) throw rlpError('ErrTooDeep', pos)
  const overrun: Overrun = inList ? 'ErrElemTooLarge' : 'ErrValueTooLarge'
  const h = readHeader(buf, pos, limit, overrun)
  const end = h.single ? pos + 1 : h.contentOffset + h.length
  if (end > limit) throw rlpError(overrun, pos)
  const raw = buf.subarray(pos, end)
  if (h.kind === 'string') {
    return {kind: 'string', offset: pos, contentOffset: h.contentOffset, end, bytes: buf.subarray(h.contentOffset, end), items: [], raw}
  }
  const items: RlpItem[] = []
  let p = h.contentOffset
  while (p < end) {
    const child = decodeAt(buf, p, end, depth + 1, true)
    items.push(child)
    p = child.end
  }
  return {kind: 'list', offset: pos, contentOffset: h.contentOffset, end, bytes: new Uint8Array(0), items, raw}
}

/**
 * Decodes exactly one RLP item spanning the whole input (geth's `rlp.DecodeBytes` rules):
 * canonical sizes only, elements must fit their lists, no trailing bytes.
 */
export function decodeRlpItem(input: Uint8Array): RlpItem {
  if (input.length === 0) throw rlpError('ErrEmptyInput', 0)
  const item = decodeAt(input, 0, input.length, 0, false)
  if (item.end !== input.length) throw rlpError('ErrMoreThanOneValue', item.end)
  return item
}

/** Decodes exactly one RLP item into plain values (byte strings are copies). */
export function decodeRlp(input: Uint8Array): RlpValue {
  return toValue(decodeRlpItem(input))
}

function toValue(item: RlpItem): RlpValue {
  return item.kind === 'string' ? Uint8Array.from(item.bytes) : item.items.map(toValue)
}

/**
 * Reads a canonical unsigned integer from a string item's content: no leading zero bytes (so zero
 * is the empty string), at most `maxBytes` bytes (8 for uint64).
 */
export function decodeRlpUint(item: RlpItem, maxBytes = 8, context?: string): bigint {
  if (item.kind !== 'string') throw rlpError('ErrExpectedString', item.offset, context)
  return uintFromBytes(item.bytes, maxBytes, item.offset, context)
}

/** Content of a string item that must be exactly `length` bytes (geth's [N]byte). */
export function decodeRlpFixedBytes(item: RlpItem, length: number, context?: string): Uint8Array {
  if (item.kind !== 'string') throw rlpError('ErrExpectedString', item.offset, context)
  if (item.bytes.length !== length) {
    const what = item.bytes.length < length ? 'too short' : 'too long'
    throw new BadInputError('RLP_WRONG_LENGTH', `rlp: input string ${what} for [${length}]byte${context ? ` in ${context}` : ''} at byte ${item.offset}`, {
      details: {offset: item.offset, length: item.bytes.length, expected: length},
    })
  }
  return item.bytes
}

/** Canonical big-endian unsigned integer from raw bytes (the content of an RLP string). */
export function uintFromBytes(bytes: Uint8Array, maxBytes = 8, offset = 0, context?: string): bigint {
  if (bytes.length > maxBytes) throw rlpError('ErrUintOverflow', offset, context)
  if (bytes.length > 0 && bytes[0] === 0) throw rlpError('ErrCanonInt', offset, context)
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** Big-endian minimal bytes of a non-negative integer (empty for zero). */
export function uintToBytes(value: bigint | number): Uint8Array {
  let v = BigInt(value)
  if (v < 0n) throw new RangeError('RLP integers are unsigned')
  const out: number[] = []
  while (v > 0n) {
    out.unshift(Number(v & 0xffn))
    v >>= 8n
  }
  return Uint8Array.from(out)
}

function lengthPrefix(length: number, short: number, long: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(short + length)
  const lb = uintToBytes(length)
  const out = new Uint8Array(1 + lb.length)
  out[0] = long + lb.length
  out.set(lb, 1)
  return out
}

/** Encodes a value canonically. Integers (bigint or number) are encoded as minimal big-endian strings. */
export function encodeRlp(value: RlpValue | bigint | number | string): Uint8Array {
  if (typeof value === 'bigint' || typeof value === 'number') return encodeRlp(uintToBytes(value))
  if (typeof value === 'string') return encodeRlp(new TextEncoder().encode(value))
  if (value instanceof Uint8Array) {
    if (value.length === 1 && value[0]! < 0x80) return Uint8Array.from(value)
    return concatBytes(lengthPrefix(value.length, 0x80, 0xb7), value)
  }
  const parts = value.map((v) => encodeRlp(v))
  const body = concatBytes(...parts)
  return concatBytes(lengthPrefix(body.length, 0xc0, 0xf7), body)
}

/** Wraps already-encoded items into a list. */
export function encodeRlpList(encodedItems: Uint8Array[]): Uint8Array {
  const body = concatBytes(...encodedItems)
  return concatBytes(lengthPrefix(body.length, 0xc0, 0xf7), body)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}
