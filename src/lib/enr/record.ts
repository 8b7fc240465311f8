/**
 * EIP-778 Ethereum Node Records, parsed with go-ethereum's strictness (sorted unique keys compared
 * bytewise, canonical RLP and integers, ≤ 300 bytes, "v4" identity with a 33-byte key and a 64-byte
 * low-s signature) and reporting every problem as a typed error with a stable code.
 * This file is the record itself; parse.ts builds one (parseEnr, inspectEnr) and
 * record-analysis.ts decodes its known keys, so neither is imported here.
 */
import {keccak256, peerIdOf, verifyDigest} from '../keys/index.js'
import {bytesToHex} from '../keys/hex.js'
import {encodeRlpList, type RlpItem} from '../rlp/index.js'
import {encodeBase64url} from './text.js'

/** EIP-778: "The maximum encoded size of a node record is 300 bytes." */
export const ENR_SIZE_LIMIT = 300

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

/** One key/value of a record, in the record's (sorted) order. */
export interface RecordEntry {
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
  readonly #entries: RecordEntry[]
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
  constructor(raw: Uint8Array, signature: Uint8Array, seq: bigint, entries: RecordEntry[], content: Uint8Array[], publicKey: Uint8Array, uncompressedXY: Uint8Array) {
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

  #find(key: string): RecordEntry | undefined {
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
