import {multiaddr} from '@multiformats/multiaddr'
import ipaddr from 'ipaddr.js'

import {BadInputError} from '../errors.js'
import {keccak256, nodeIdOf, peerIdOf, publicKeyOf, signDigest} from '../keys/index.js'
import {bytesToHex} from '../keys/hex.js'
import {encodeRlp, encodeRlpList, uintToBytes} from '../rlp/index.js'
import {encodeIPv4, encodeIPv6, encodeMultiaddrs, encodeRs, encodeRsv, encodeWaku2, MAX_SHARD, WAKU2_BITS, type WakuCapability} from './fields.js'
import {parseEnr} from './parse.js'
import {ENR_SIZE_LIMIT, EnrRecord, compareBytes} from './record.js'

export interface EncodeEnrOptions {
  privateKey: Uint8Array
  /** Start from this record's keys; seq becomes its seq + 1 unless `seq` is given. */
  from?: EnrRecord
  seq?: bigint
  ip?: string
  tcp?: number
  udp?: number
  ip6?: string
  tcp6?: number
  udp6?: number
  waku2?: WakuCapability[]
  multiaddrs?: string[]
  cluster?: number
  shards?: number[]
  /** Raw values for other keys (the value is stored as an RLP byte string). */
  extra?: Record<string, Uint8Array>
}

const MAX_SEQ = 2n ** 64n - 1n
const enc = new TextEncoder()

function badInput(code: string, message: string): never {
  throw new BadInputError(code, message)
}

function checkPort(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 65535)) badInput(`${name.toUpperCase()}_OUT_OF_RANGE`, `${name} must be an integer port 1-65535, got ${v}`)
}

/** Strips the node's own /p2p/<id> (the spec stores addresses without it); refuses a foreign /p2p unless it is a circuit address. */
function normalizeMultiaddr(text: string, selfPeerId: string): string {
  let ma
  try {
    ma = multiaddr(text)
  } catch (error) {
    badInput('MULTIADDRS_MALFORMED', `--multiaddr ${JSON.stringify(text)} is not a valid multiaddr: ${(error as Error).message.split('\n')[0]}`)
  }
  let s = ma.toString()
  const own = `/p2p/${selfPeerId}`
  if (s.endsWith(own)) s = s.slice(0, -own.length)
  const comps = multiaddr(s).getComponents()
  const p2p = comps.findIndex((c) => c.name === 'p2p')
  if (p2p !== -1) {
    const last = comps.at(-1)!
    const circuit = last.name === 'p2p-circuit' && p2p === comps.length - 2
    if (!circuit) badInput('MULTIADDRS_HOLDS_P2P', `--multiaddr ${text} holds a /p2p id that is not this node's; only circuit-relay addresses (…/p2p/<relay>/p2p-circuit) may`)
  }
  return s
}

/** Builds and signs a v4 record. Keys are sorted bytewise; integers are canonical; refuses > 300 bytes naming what to drop. */
export function encodeEnr(options: EncodeEnrOptions): EnrRecord {
  const pub = publicKeyOf(options.privateKey)
  const self = peerIdOf(pub)
  // key (utf8) → RLP-encoded value
  const values = new Map<string, Uint8Array>()
  let seq = 1n
  if (options.from !== undefined) {
    if (bytesToHex(options.from.publicKey) !== bytesToHex(pub)) {
      badInput('ENCODE_KEY_MISMATCH', `the signing key (node id ${nodeIdOf(pub).slice(0, 16)}…) is not the key of the --from record (node id ${options.from.nodeId.slice(0, 16)}…); re-signing would change the node's identity`)
    }
    for (const key of options.from.keys()) {
      if (key.startsWith('0x')) badInput('ENCODE_KEY_NAME', `--from record has a non-text key ${key}, which cannot be carried over`)
      values.set(key, options.from.getItem(key)!.raw)
    }
    if (options.from.seq >= MAX_SEQ) badInput('SEQ_OVERFLOW', 'the --from record already has seq 2^64-1 and cannot be bumped')
    seq = options.from.seq + 1n
  }
  if (options.seq !== undefined) {
    if (options.seq < 0n || options.seq > MAX_SEQ) badInput('SEQ_OUT_OF_RANGE', `seq must be 0 … 2^64-1, got ${options.seq}`)
    seq = options.seq
  }
  const set = (key: string, value: Uint8Array) => values.set(key, encodeRlp(value))
  set('id', enc.encode('v4'))
  set('secp256k1', pub)
  if (options.ip !== undefined) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(options.ip)) badInput('IP_MALFORMED', `ip must be a dotted-quad IPv4 address, got ${JSON.stringify(options.ip)}`)
    set('ip', encodeIPv4(options.ip))
  }
  if (options.ip6 !== undefined) {
    if (!ipaddr.IPv6.isValid(options.ip6)) badInput('IP6_MALFORMED', `ip6 must be an IPv6 address, got ${JSON.stringify(options.ip6)}`)
    set('ip6', encodeIPv6(options.ip6))
  }
  for (const key of ['tcp', 'udp', 'tcp6', 'udp6'] as const) {
    const v = options[key]
    checkPort(key, v)
    if (v !== undefined) set(key, uintToBytes(v))
  }
  if (options.waku2 !== undefined) {
    for (const c of options.waku2) if (!WAKU2_BITS.includes(c)) badInput('WAKU2_UNKNOWN_CAPABILITY', `unknown Waku capability ${JSON.stringify(c)} (known: ${WAKU2_BITS.join(', ')})`)
    if (options.waku2.length === 0) badInput('WAKU2_ALL_ZERO', 'waku2 needs at least one capability; Waku discv5 peers drop records whose waku2 is zero')
    set('waku2', encodeWaku2(options.waku2))
  }
  if (options.multiaddrs !== undefined) {
    if (options.multiaddrs.length === 0) values.delete('multiaddrs')
    else set('multiaddrs', encodeMultiaddrs(options.multiaddrs.map((m) => normalizeMultiaddr(m, self))))
  }
  if (options.shards !== undefined || options.cluster !== undefined) {
    if (options.cluster === undefined) badInput('RS_MISSING_CLUSTER', 'shards need a cluster (--cluster N)')
    if (!Number.isInteger(options.cluster) || options.cluster < 0 || options.cluster > 65535) badInput('RS_CLUSTER_OUT_OF_RANGE', `cluster must be 0-65535, got ${options.cluster}`)
    const shards = [...new Set(options.shards ?? [])].sort((x, y) => x - y)
    for (const s of shards) if (!Number.isInteger(s) || s < 0 || s > MAX_SHARD) badInput('RS_SHARD_OUT_OF_RANGE', `shard ${s} is outside 0-1023`)
    if (shards.length === 0) badInput('RS_NO_SHARDS', 'a cluster needs at least one shard (--shards 0,1)')
    values.delete('rs')
    values.delete('rsv')
    // The spec: rs below 64 shards, rsv (bit vector, nwaku's LSB-first order) from 64.
    if (shards.length < 64) set('rs', encodeRs(options.cluster, shards))
    else set('rsv', encodeRsv(options.cluster, shards))
  }
  for (const [key, value] of Object.entries(options.extra ?? {})) {
    if (key.length === 0) badInput('ENCODE_KEY_NAME', 'extra keys must not be empty')
    set(key, value)
  }

  const sorted = [...values.entries()].map(([k, v]) => ({key: enc.encode(k), name: k, value: v})).sort((x, y) => compareBytes(x.key, y.key))
  const content = [encodeRlp(uintToBytes(seq)), ...sorted.flatMap((e) => [encodeRlp(e.key), e.value])]
  const digest = keccak256(encodeRlpList(content))
  const signature = signDigest(digest, options.privateKey).subarray(0, 64)
  const raw = encodeRlpList([encodeRlp(signature), ...content])
  if (raw.length > ENR_SIZE_LIMIT) throw tooBig(raw.length, sorted, options)
  return parseEnr(raw)
}

/** Names the field (or multiaddr entry) whose removal brings the record under the limit. */
function tooBig(size: number, entries: Array<{key: Uint8Array; name: string; value: Uint8Array}>, options: EncodeEnrOptions): BadInputError {
  const over = size - ENR_SIZE_LIMIT
  const costs = entries
    .filter((e) => e.name !== 'id' && e.name !== 'secp256k1')
    .map((e) => ({name: e.name, bytes: encodeRlp(e.key).length + e.value.length}))
    .sort((x, y) => x.bytes - y.bytes)
  // Dropping a field also shrinks the list header by up to 1 byte; ignore that for a safe suggestion.
  let suggestion: string
  const entriesOfMultiaddrs = options.multiaddrs ?? []
  const ma = entries.find((e) => e.name === 'multiaddrs')
  const single = costs.find((c) => c.bytes >= over)
  if (ma !== undefined && entriesOfMultiaddrs.length > 1) {
    const byLen = entriesOfMultiaddrs.map((m) => {
      let len = 0
      try {
        len = multiaddr(m).bytes.length + 2
      } catch {
        // validated earlier
      }
      return {m, len}
    })
    const fit = byLen.filter((x) => x.len >= over).sort((x, y) => x.len - y.len)[0]
    if (fit !== undefined) suggestion = `drop the multiaddr ${fit.m} (${fit.len} bytes)`
    else suggestion = single ? `drop ${single.name} (${single.bytes} bytes)` : `drop ${costs.at(-1)?.name ?? 'fields'} and more`
  } else if (single !== undefined) {
    suggestion = `drop ${single.name} (${single.bytes} bytes)`
  } else {
    suggestion = `drop ${costs.map((c) => c.name).reverse().join(', ')} until it fits`
  }
  const sizes = costs.map((c) => `${c.name} ${c.bytes}`).join(', ')
  return new BadInputError('SIZE_OVER_LIMIT', `record would be ${size} bytes, ${over} over the 300-byte limit; ${suggestion}`, {
    details: {size, fieldSizes: Object.fromEntries(costs.map((c) => [c.name, c.bytes]))},
    hint: `field sizes: ${sizes}`,
  })
}
