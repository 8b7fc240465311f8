/**
 * Decoding of every known key of a parsed record, done once per record and cached. Used by
 * inspectEnr (malformed known fields are validation failures), decodeEnr and lintEnr.
 */
import {bytesToHex} from '../keys/hex.js'
import type {RlpItem} from '../rlp/index.js'
import {
  decodeBitvector,
  decodeEth2,
  decodeIPv4,
  decodeIPv6,
  decodeMultiaddrs,
  decodePort,
  decodeRs,
  decodeRsv,
  decodeWaku2,
  type Eth2Value,
  type Field,
  type MultiaddrsValue,
  type ShardsValue,
  type Waku2Value,
} from './fields.js'
import type {LintFinding} from './finding.js'
import type {EnrRecord} from './record.js'

export const PORT_KEYS = ['tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6'] as const
export type PortKey = (typeof PORT_KEYS)[number]

/** Keys whose malformed values make a record invalid (they break endpoints or Waku routing). */
const STRICT_KEYS = new Set(['ip', 'ip6', ...PORT_KEYS, 'multiaddrs', 'rs', 'rsv'])

/** Keys this module interprets; anything else is shown as hex. */
export const KNOWN_KEYS = new Set(['id', 'secp256k1', 'ip', 'ip6', ...PORT_KEYS, 'waku2', 'multiaddrs', 'rs', 'rsv', 'eth2', 'attnets', 'syncnets', 'client'])

export interface RecordAnalysis {
  ip?: string
  ip6?: string
  ports: Partial<Record<PortKey, number>>
  waku2?: Waku2Value
  /** Raw length of `waku2` (nwaku only reads exactly one byte). */
  waku2Length?: number
  multiaddrs?: MultiaddrsValue
  rs?: ShardsValue
  rsv?: ShardsValue
  /** js-waku's MSB-first reading of the same `rsv` bytes. */
  rsvJsWaku?: ShardsValue
  /** The spec prose's whole-vector big-endian reading of the same `rsv` bytes. */
  rsvSpec?: ShardsValue
  eth2?: Eth2Value
  attnets?: number[]
  syncnets?: number[]
  client?: string[]
  otherKeys: Record<string, string>
  /** Malformed known fields: errors for STRICT_KEYS, warnings for the others. */
  problems: LintFinding[]
}

const cache = new WeakMap<EnrRecord, RecordAnalysis>()

function stringValue(item: RlpItem, key: string, problems: LintFinding[], severity: 'error' | 'warning'): Uint8Array | undefined {
  if (item.kind === 'string') return item.bytes
  problems.push({code: `${key}.not-bytes`, field: key, severity, message: `${key} is an RLP list where a byte string is expected, so its value is unusable`})
  return undefined
}

function take<T>(field: Field<T>, key: string, problems: LintFinding[], severity: 'error' | 'warning'): T | undefined {
  if (field.ok) return field.value
  problems.push({code: field.code, field: key, severity, message: field.message})
  return undefined
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

export function analyzeRecord(record: EnrRecord): RecordAnalysis {
  const cached = cache.get(record)
  if (cached !== undefined) return cached
  const problems: LintFinding[] = []
  const a: RecordAnalysis = {ports: {}, otherKeys: {}, problems}
  for (const key of record.keys()) {
    const item = record.getItem(key)!
    const severity = STRICT_KEYS.has(key) ? 'error' : 'warning'
    if (!KNOWN_KEYS.has(key)) {
      a.otherKeys[key] = bytesToHex(item.kind === 'string' ? item.bytes : item.raw)
      continue
    }
    if (key === 'id' || key === 'secp256k1') continue
    if (key === 'client') {
      a.client = decodeClient(item, problems)
      continue
    }
    const bytes = stringValue(item, key, problems, severity)
    if (bytes === undefined) continue
    switch (key) {
      case 'ip':
        a.ip = take(decodeIPv4(bytes), key, problems, severity)
        break
      case 'ip6':
        a.ip6 = take(decodeIPv6(bytes), key, problems, severity)
        break
      case 'waku2':
        a.waku2 = decodeWaku2(bytes)
        a.waku2Length = bytes.length
        break
      case 'multiaddrs':
        a.multiaddrs = take(decodeMultiaddrs(bytes), key, problems, severity)
        break
      case 'rs':
        a.rs = take(decodeRs(bytes), key, problems, severity)
        break
      case 'rsv':
        a.rsv = take(decodeRsv(bytes, 'lsb-first'), key, problems, severity)
        if (a.rsv !== undefined) {
          a.rsvJsWaku = (decodeRsv(bytes, 'msb-first') as {value: ShardsValue}).value
          a.rsvSpec = (decodeRsv(bytes, 'spec-big-endian') as {value: ShardsValue}).value
        }
        break
      case 'eth2':
        a.eth2 = take(decodeEth2(bytes), key, problems, severity)
        break
      case 'attnets':
        a.attnets = take(decodeBitvector(bytes, 'attnets', 8, 64), key, problems, severity)
        break
      case 'syncnets':
        a.syncnets = take(decodeBitvector(bytes, 'syncnets', 1, 4), key, problems, severity)
        break
      default: {
        const port = take(decodePort(bytes, key), key, problems, severity)
        if (port !== undefined) a.ports[key as PortKey] = port
      }
    }
  }
  cache.set(record, a)
  return a
}

/** EIP-7636 `client`: an RLP list [name, version, (build)] of UTF-8 strings. */
function decodeClient(item: RlpItem, problems: LintFinding[]): string[] | undefined {
  const fail = (why: string) => {
    problems.push({code: 'client.malformed', field: 'client', severity: 'warning', message: `client ${why} (EIP-7636 wants a list [name, version, build?] of strings)`})
    return undefined
  }
  if (item.kind !== 'list') return fail('is a byte string, not a list')
  const out: string[] = []
  for (const child of item.items) {
    if (child.kind !== 'string') return fail('holds a nested list')
    try {
      out.push(utf8.decode(child.bytes))
    } catch {
      return fail('holds a string that is not UTF-8')
    }
  }
  return out
}

/** Error-level problems of STRICT_KEYS; these make parseEnr throw unless lenientFields is set. */
export function fieldFailures(record: EnrRecord): LintFinding[] {
  return analyzeRecord(record).problems.filter((p) => p.severity === 'error')
}
