/**
 * EIP-778 Ethereum Node Records, parsed with go-ethereum's strictness (sorted unique keys compared
 * bytewise, canonical RLP and integers, ≤ 300 bytes, "v4" identity with a 33-byte key and a 64-byte
 * low-s signature) and reporting every problem as a typed error with a stable code.
 */
import {BadInputError, CheckFailedError, WakuDiscError} from '../errors.js'
import {keccak256, parsePublicKey, peerIdOf, verifyDigest} from '../keys/index.js'
import {bytesToHex} from '../keys/hex.js'
import {decodeRlpItem, decodeRlpUint, encodeRlpList, type RlpItem} from '../rlp/index.js'
import {fieldFailures} from './analysis.js'
import {encodeBase64url, enrInputToBytes} from './text.js'

/** EIP-778: "The maximum encoded size of a node record is 300 bytes." */
export const ENR_SIZE_LIMIT = 300
/** Inputs larger than this are not even decoded (records between 301 bytes and this are, to show why they fail). */
const MAX_PARSE_BYTES = 4096

export interface LintFinding {
  code: string
  field: string
  severity: 'error' | 'warning' | 'info'
  message: string
}

const utf8 = new TextDecoder('utf-8', {fatal: true})
const utf8enc = new TextEncoder()

/** A key as text: UTF-8 when it decodes and is printable, else `0x<hex>`. */
export function keyName(key: Uint8Array): string {
  try {
    const s = utf8.decode(key)
    if (/^[\x21-\x7e]+$/.test(s)) return s
  } catch {
    // fall through
  }
  return `0x${bytesToHex(key)}`
}

/** Bytewise order of ENR keys (EIP-778 sorts keys by their bytes, not by locale). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

export interface ParseEnrOptions {
  /** Verify the signature now (default true); when false, `signatureValid` is computed on first use. */
  verifySignature?: boolean
  /**
   * Do not throw for malformed values of known keys (ip, ports, Waku keys); they are reported by
   * decodeEnr/lintEnr instead. Size and signature are still checked.
   */
  lenientFields?: boolean
}

interface Entry {
  key: Uint8Array
  name: string
  item: RlpItem
}

/** A structurally valid record: sorted unique keys, "v4" identity, a valid 33-byte public key. */
export class EnrRecord {
  readonly seq: bigint
  readonly signature: Uint8Array
  readonly raw: Uint8Array
  readonly size: number
  readonly publicKey: Uint8Array
  readonly #entries: Entry[]
  // Raw items [seq, k1, v1, …]: re-encoding them reproduces the signed list exactly because the
  // input was canonical.
  readonly #content: Uint8Array[]
  #nodeId?: string
  #peerId?: string
  #text?: string
  #signatureValid?: boolean
  /** 0x04 ‖ x ‖ y: verifying against the uncompressed key skips a second decompression. */
  readonly #uncompressed: Uint8Array

  /** @internal use parseEnr or encodeEnr. */
  constructor(raw: Uint8Array, signature: Uint8Array, seq: bigint, entries: Entry[], content: Uint8Array[], publicKey: Uint8Array, uncompressedXY: Uint8Array) {
    this.raw = raw
    this.#content = content
    this.size = raw.length
    this.signature = signature
    this.seq = seq
    this.#entries = entries
    this.publicKey = publicKey
    this.#uncompressed = new Uint8Array(65)
    this.#uncompressed[0] = 4
    this.#uncompressed.set(uncompressedXY, 1)
    this.#nodeId = bytesToHex(keccak256(uncompressedXY))
  }

  /** The 65-byte uncompressed public key 0x04 ‖ x ‖ y (a copy). */
  get publicKeyUncompressed(): Uint8Array {
    return Uint8Array.from(this.#uncompressed)
  }

  get nodeId(): string {
    return this.#nodeId!
  }

  get peerId(): string {
    this.#peerId ??= peerIdOf(this.publicKey, {validated: true})
    return this.#peerId
  }

  get text(): string {
    this.#text ??= 'enr:' + encodeBase64url(this.raw)
    return this.#text
  }

  /** Whether the 64-byte r‖s signature (low-s) verifies over keccak256(rlp([seq, k, v, …])). */
  get signatureValid(): boolean {
    this.#signatureValid ??= this.signature.length === 64 && verifyDigest(this.signature, keccak256(this.signedContent()), this.#uncompressed)
    return this.#signatureValid
  }

  /** The RLP list that is signed: [seq, k1, v1, …] (the record without its signature). */
  signedContent(): Uint8Array {
    return encodeRlpList(this.#content)
  }

  /** The value of `key`: the content bytes of a string value, or the whole RLP encoding of a list value. */
  get(key: string): Uint8Array | undefined {
    const e = this.#find(key)
    if (e === undefined) return undefined
    return e.item.kind === 'string' ? e.item.bytes : e.item.raw
  }

  /** The RLP item of a value (with its kind), for callers that must tell strings from lists. */
  getItem(key: string): RlpItem | undefined {
    return this.#find(key)?.item
  }

  has(key: string): boolean {
    return this.#find(key) !== undefined
  }

  /** Keys in record order (which is bytewise sorted); non-printable keys as `0x<hex>`. */
  keys(): string[] {
    return this.#entries.map((e) => e.name)
  }

  /** Keys as raw bytes, in record order. */
  keyBytes(): Uint8Array[] {
    return this.#entries.map((e) => e.key)
  }

  #find(key: string): Entry | undefined {
    for (const e of this.#entries) if (e.name === key) return e
    if (key.startsWith('0x')) return undefined
    const kb = utf8enc.encode(key)
    for (const e of this.#entries) if (compareBytes(e.key, kb) === 0) return e
    return undefined
  }

  toString(): string {
    return this.text
  }

  toJSON(): string {
    return this.text
  }
}

/** Structural parse result plus the (non-structural) problems found. */
export interface EnrInspection {
  record: EnrRecord
  /** Error-level problems that make the record invalid: size, signature, malformed known fields. */
  failures: LintFinding[]
}

function structural(code: string, message: string, options?: {cause?: unknown; details?: Record<string, unknown>}): BadInputError {
  return new BadInputError(code, message, options)
}

/**
 * Parses and checks a record without throwing for validity problems that still leave a usable
 * record (size, signature, malformed values of known keys): those are returned as failures.
 * Throws BadInputError when the input is not a record at all and CheckFailedError when the record
 * has no usable identity (missing/unknown id scheme, missing or invalid public key).
 */
export function inspectEnr(input: string | Uint8Array, options: ParseEnrOptions = {}): EnrInspection {
  const {bytes} = enrInputToBytes(input)
  // Far past the limit: refuse before decoding (geth checks the size first too), so a huge input
  // costs nothing beyond its base64 decoding.
  if (bytes.length > MAX_PARSE_BYTES) {
    throw new CheckFailedError('size.over-limit', `record is ${bytes.length} bytes, over EIP-778's 300-byte limit; geth and sigp-based peers reject it`)
  }
  let top: RlpItem
  try {
    top = decodeRlpItem(bytes)
  } catch (error) {
    if (error instanceof WakuDiscError) throw structural(error.code, `ENR is not valid RLP: ${error.message}`, {cause: error, details: error.details})
    throw error
  }
  if (top.kind !== 'list') throw structural('enr.not-a-list', 'ENR RLP is a byte string, not a list [signature, seq, k, v, …]')
  const items = top.items
  if (items.length < 2) throw structural('enr.too-short', `ENR list has ${items.length} item${items.length === 1 ? '' : 's'}; it needs at least a signature and a seq`)
  if (items.length % 2 !== 0) throw structural('enr.incomplete-pair', `ENR has ${items.length - 2} key/value items, an odd number (a key without a value)`)
  const sigItem = items[0]!
  if (sigItem.kind !== 'string') throw structural('signature.not-bytes', 'ENR signature is a list, not a byte string')
  let seq: bigint
  try {
    seq = decodeRlpUint(items[1]!, 8, 'seq')
  } catch (error) {
    if (error instanceof WakuDiscError) {
      const why = error.code === 'rlp.uint-overflow' ? 'seq is longer than 8 bytes (not a uint64)' : error.code === 'rlp.expected-string' ? 'seq is a list, not an integer' : `seq is not a canonical integer (leading zero byte at byte ${items[1]!.offset})`
      throw structural(`seq.${error.code.replace(/^rlp\./, '')}`, why, {cause: error, details: error.details})
    }
    throw error
  }
  const entries: Entry[] = []
  for (let i = 2; i < items.length; i += 2) {
    const k = items[i]!
    if (k.kind !== 'string') throw structural('enr.key-not-string', `ENR key at byte ${k.offset} is a list, not a byte string`)
    const name = keyName(k.bytes)
    const prev = entries.at(-1)
    if (prev !== undefined) {
      const c = compareBytes(prev.key, k.bytes)
      if (c === 0) throw structural('enr.duplicate-key', `ENR key "${name}" appears twice (at byte ${k.offset})`)
      if (c > 0) throw structural('enr.keys-unsorted', `ENR keys are not sorted: "${name}" (at byte ${k.offset}) comes after "${prev.name}"`)
    }
    entries.push({key: k.bytes, name, item: items[i + 1]!})
  }
  const find = (key: string) => entries.find((e) => e.name === key)
  const id = find('id')
  if (id === undefined) throw new CheckFailedError('id.missing', 'ENR has no "id" key (identity scheme); only "v4" is defined')
  if (id.item.kind !== 'string' || keyName(id.item.bytes) !== 'v4') {
    const shown = id.item.kind === 'string' ? JSON.stringify(safeText(id.item.bytes)) : 'a list'
    throw new CheckFailedError('id.unknown-scheme', `ENR identity scheme is ${shown}; only "v4" is supported`)
  }
  const pk = find('secp256k1')
  if (pk === undefined) throw new CheckFailedError('secp256k1.missing', 'ENR has no "secp256k1" key, which the v4 identity scheme requires')
  if (pk.item.kind !== 'string') throw new CheckFailedError('secp256k1.bad-length', 'ENR "secp256k1" is a list, not a 33-byte compressed public key')
  if (pk.item.bytes.length !== 33) {
    throw new CheckFailedError('secp256k1.bad-length', `ENR "secp256k1" is ${pk.item.bytes.length} bytes; v4 needs a 33-byte compressed key`)
  }
  let xy: Uint8Array
  try {
    xy = parsePublicKey(pk.item.bytes).toBytes(false).subarray(1)
  } catch {
    throw new CheckFailedError('secp256k1.invalid-point', 'ENR "secp256k1" is not a valid compressed point on secp256k1')
  }
  const record = new EnrRecord(bytes, sigItem.bytes, seq, entries, items.slice(1).map((i) => i.raw), pk.item.bytes, xy)
  const failures: LintFinding[] = []
  if (bytes.length > ENR_SIZE_LIMIT) {
    failures.push({code: 'size.over-limit', field: 'size', severity: 'error', message: `record is ${bytes.length} bytes, over EIP-778's 300-byte limit; geth and sigp-based peers reject it`})
  }
  if (sigItem.bytes.length !== 64) {
    failures.push({code: 'signature.bad-length', field: 'signature', severity: 'error', message: `signature is ${sigItem.bytes.length} bytes; v4 needs 64 bytes r‖s, so no client accepts the record`})
  } else if (options.verifySignature !== false && !record.signatureValid) {
    failures.push({code: 'signature.invalid', field: 'signature', severity: 'error', message: 'signature does not verify against the record content and its secp256k1 key (or has a high s); every client rejects the record'})
  }
  if (!options.lenientFields) failures.push(...fieldFailures(record))
  return {record, failures}
}

function safeText(bytes: Uint8Array): string {
  const s = new TextDecoder('utf-8', {fatal: false}).decode(bytes)
  return s.length > 40 ? s.slice(0, 40) + '…' : s
}

/**
 * Parses an ENR: `enr:…` (prefix optional, case-insensitive), bare base64url, hex RLP (optional
 * 0x), or RLP bytes. Throws BadInputError when it cannot be parsed and CheckFailedError when it
 * parses but is invalid (signature, > 300 bytes, malformed ip/port/Waku fields).
 */
export function parseEnr(input: string | Uint8Array, options: ParseEnrOptions = {}): EnrRecord {
  const {record, failures} = inspectEnr(input, options)
  const first = failures[0]
  if (first !== undefined) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more problem${failures.length > 2 ? 's' : ''})` : ''
    throw new CheckFailedError(first.code, first.message + more, {details: {failures, nodeId: record.nodeId, seq: record.seq.toString()}})
  }
  return record
}
