/**
 * Parsing an ENR into an EnrRecord (record.ts) with go-ethereum's strictness: structure, identity
 * and key order throw; size, signature and malformed known fields (record-analysis.ts) come back
 * as failures. Kept apart from record.ts so the record class does not import its own analysis.
 */
import {BadInputError, CheckFailedError, WakuDiscError} from '../errors.js'
import {parsePublicKey} from '../keys/index.js'
import {decodeRlpItem, decodeRlpUint, type RlpItem} from '../rlp/index.js'
import {findingErrorCode, type LintFinding} from './finding.js'
import {ENR_SIZE_LIMIT, EnrRecord, compareBytes, keyName, type RecordEntry} from './record.js'
import {fieldFailures} from './record-analysis.js'
import {enrInputToBytes} from './text.js'

/** Inputs larger than this are not even decoded (records between 301 bytes and this are, to show why they fail). */
const MAX_PARSE_BYTES = 4096

export interface ParseEnrOptions {
  /** Verify the signature now (default true); when false, `signatureValid` is computed on first use. */
  verifySignature?: boolean
  /**
   * Do not throw for malformed values of known keys (ip, ports, Waku keys); they are reported by
   * decodeEnr/lintEnr instead. Size and signature are still checked.
   */
  lenientFields?: boolean
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
    throw new CheckFailedError('SIZE_OVER_LIMIT', `record is ${bytes.length} bytes, over EIP-778's 300-byte limit; geth and sigp-based peers reject it`)
  }
  let top: RlpItem
  try {
    top = decodeRlpItem(bytes)
  } catch (error) {
    if (error instanceof WakuDiscError) throw structural(error.code, `ENR is not valid RLP: ${error.message}`, {cause: error, details: error.details})
    throw error
  }
  if (top.kind !== 'list') throw structural('ENR_NOT_A_LIST', 'ENR RLP is a byte string, not a list [signature, seq, k, v, …]')
  const items = top.items
  if (items.length < 2) throw structural('ENR_TOO_SHORT', `ENR list has ${items.length} item${items.length === 1 ? '' : 's'}; it needs at least a signature and a seq`)
  if (items.length % 2 !== 0) throw structural('ENR_INCOMPLETE_PAIR', `ENR has ${items.length - 2} key/value items, an odd number (a key without a value)`)
  const sigItem = items[0]!
  if (sigItem.kind !== 'string') throw structural('SIGNATURE_NOT_BYTES', 'ENR signature is a list, not a byte string')
  let seq: bigint
  try {
    seq = decodeRlpUint(items[1]!, 8, 'seq')
  } catch (error) {
    if (error instanceof WakuDiscError) {
      const why = error.code === 'RLP_UINT_OVERFLOW' ? 'seq is longer than 8 bytes (not a uint64)' : error.code === 'RLP_EXPECTED_STRING' ? 'seq is a list, not an integer' : `seq is not a canonical integer (leading zero byte at byte ${items[1]!.offset})`
      throw structural(`SEQ_${error.code.replace(/^RLP_/, '')}`, why, {cause: error, details: error.details})
    }
    throw error
  }
  const entries: RecordEntry[] = []
  for (let i = 2; i < items.length; i += 2) {
    const k = items[i]!
    if (k.kind !== 'string') throw structural('ENR_KEY_NOT_STRING', `ENR key at byte ${k.offset} is a list, not a byte string`)
    const name = keyName(k.bytes)
    const prev = entries.at(-1)
    if (prev !== undefined) {
      const c = compareBytes(prev.key, k.bytes)
      if (c === 0) throw structural('ENR_DUPLICATE_KEY', `ENR key "${name}" appears twice (at byte ${k.offset})`)
      if (c > 0) throw structural('ENR_KEYS_UNSORTED', `ENR keys are not sorted: "${name}" (at byte ${k.offset}) comes after "${prev.name}"`)
    }
    entries.push({key: k.bytes, name, item: items[i + 1]!})
  }
  const find = (key: string) => entries.find((e) => e.name === key)
  const id = find('id')
  if (id === undefined) throw new CheckFailedError('ID_MISSING', 'ENR has no "id" key (identity scheme); only "v4" is defined')
  if (id.item.kind !== 'string' || keyName(id.item.bytes) !== 'v4') {
    const shown = id.item.kind === 'string' ? JSON.stringify(safeText(id.item.bytes)) : 'a list'
    throw new CheckFailedError('ID_UNKNOWN_SCHEME', `ENR identity scheme is ${shown}; only "v4" is supported`)
  }
  const pk = find('secp256k1')
  if (pk === undefined) throw new CheckFailedError('SECP256K1_MISSING', 'ENR has no "secp256k1" key, which the v4 identity scheme requires')
  if (pk.item.kind !== 'string') throw new CheckFailedError('SECP256K1_BAD_LENGTH', 'ENR "secp256k1" is a list, not a 33-byte compressed public key')
  if (pk.item.bytes.length !== 33) {
    throw new CheckFailedError('SECP256K1_BAD_LENGTH', `ENR "secp256k1" is ${pk.item.bytes.length} bytes; v4 needs a 33-byte compressed key`)
  }
  let xy: Uint8Array
  try {
    xy = parsePublicKey(pk.item.bytes).toBytes(false).subarray(1)
  } catch {
    throw new CheckFailedError('SECP256K1_INVALID_POINT', 'ENR "secp256k1" is not a valid compressed point on secp256k1')
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
    throw new CheckFailedError(findingErrorCode(first.code), first.message + more, {details: {failures, nodeId: record.nodeId, seq: record.seq.toString()}})
  }
  return record
}
