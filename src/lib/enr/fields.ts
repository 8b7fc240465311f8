/**
 * Codecs for the values of known ENR keys. Decoders never throw: they return either a value or a
 * problem (a stable code and one sentence), because every byte here comes from the network.
 */
import {multiaddr} from '@multiformats/multiaddr'
import ipaddr from 'ipaddr.js'

import {bytesToHex} from '../keys/hex.js'
import {concatBytes} from '../rlp/index.js'

export type Field<T> = {ok: true; value: T} | {ok: false; code: string; message: string}

const ok = <T>(value: T): Field<T> => ({ok: true, value})
const bad = <T>(code: string, message: string): Field<T> => ({ok: false, code, message})

export type WakuCapability = 'relay' | 'store' | 'filter' | 'lightpush' | 'sync' | 'mix'
/** Bit i of the `waku2` byte (bit 0 = least significant). Bit 5 (mix) is nwaku's, not in the spec. */
export const WAKU2_BITS: readonly WakuCapability[] = ['relay', 'store', 'filter', 'lightpush', 'sync', 'mix']

/** Largest shard index nwaku accepts (MaxShardIndex). */
export const MAX_SHARD = 1023

export function decodeIPv4(bytes: Uint8Array, key = 'ip'): Field<string> {
  if (bytes.length !== 4) return bad(`${key}.bad-length`, `${key} must be 4 bytes, got ${bytes.length}`)
  return ok(Array.from(bytes).join('.'))
}

export function decodeIPv6(bytes: Uint8Array, key = 'ip6'): Field<string> {
  if (bytes.length !== 16) return bad(`${key}.bad-length`, `${key} must be 16 bytes, got ${bytes.length}`)
  return ok(ipaddr.fromByteArray(Array.from(bytes)).toString())
}

/** Canonical RLP uint16: 0-2 bytes, no leading zero byte. */
export function decodePort(bytes: Uint8Array, key: string): Field<number> {
  if (bytes.length > 2) return bad(`${key}.bad-length`, `${key} must be a uint16 (at most 2 bytes), got ${bytes.length} bytes`)
  if (bytes.length > 0 && bytes[0] === 0) {
    return bad(`${key}.non-canonical`, `${key} has a leading zero byte (0x${bytesToHex(bytes)}); geth and sigp reject non-canonical integers`)
  }
  return ok(bytes.length === 0 ? 0 : bytes.length === 1 ? bytes[0]! : (bytes[0]! << 8) | bytes[1]!)
}

export function encodeIPv4(ip: string): Uint8Array {
  return Uint8Array.from(ipaddr.IPv4.parse(ip).toByteArray())
}

export function encodeIPv6(ip: string): Uint8Array {
  return Uint8Array.from(ipaddr.IPv6.parse(ip).toByteArray())
}

export interface Waku2Value {
  raw: string
  capabilities: WakuCapability[]
  unknownBits: number[]
}

/**
 * Decodes `waku2` like nwaku for 1-byte values; for other lengths (which nwaku ignores) the bits
 * of every byte are still shown (byte 0 = bits 0-7, as js-waku reads raw[0]).
 */
export function decodeWaku2(bytes: Uint8Array): Waku2Value {
  const capabilities: WakuCapability[] = []
  const unknownBits: number[] = []
  for (let i = 0; i < bytes.length * 8; i++) {
    if ((bytes[i >> 3]! >> (i & 7)) & 1) {
      const name = i < WAKU2_BITS.length ? WAKU2_BITS[i] : undefined
      if (name !== undefined) capabilities.push(name)
      else unknownBits.push(i)
    }
  }
  return {raw: bytesToHex(bytes), capabilities, unknownBits}
}

export function encodeWaku2(capabilities: WakuCapability[]): Uint8Array {
  let b = 0
  for (const c of capabilities) {
    const i = WAKU2_BITS.indexOf(c)
    if (i < 0) throw new RangeError(`unknown Waku capability ${c}`)
    b |= 1 << i
  }
  return Uint8Array.of(b)
}

export interface MultiaddrsValue {
  /** Entries as stored (circuit entries with /p2p-circuit re-appended). */
  addresses: string[]
  /** Entries that did not parse as multiaddrs (nwaku skips them; js-waku fails the whole field). */
  unparseable: Array<{index: number; hex: string; reason: string}>
  /** Indices of entries holding a /p2p component (circuit-relay entries). */
  withP2p: number[]
}

/**
 * Decodes `multiaddrs` (repeated uint16 BE length ‖ binary multiaddr) with nwaku's rules: a zero
 * length or a length/body running past the end makes the whole field malformed; an entry that
 * does not parse is skipped. Entries holding /p2p are circuit-relay addresses stored without
 * /p2p-circuit, which is re-appended here.
 */
export function decodeMultiaddrs(bytes: Uint8Array): Field<MultiaddrsValue> {
  const value: MultiaddrsValue = {addresses: [], unparseable: [], withP2p: []}
  let offset = 0
  let index = 0
  // An empty value is an empty list (nwaku's own discv5 test record carries one).
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) {
      return bad('multiaddrs.malformed', `multiaddrs entry ${index} at byte ${offset}: truncated length (1 byte left, need 2)`)
    }
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!
    if (length === 0) return bad('multiaddrs.malformed', `multiaddrs entry ${index} at byte ${offset}: zero length (nwaku: invalid length)`)
    const start = offset + 2
    if (start + length > bytes.length) {
      return bad('multiaddrs.malformed', `multiaddrs entry ${index} at byte ${offset}: declares ${length} bytes but only ${bytes.length - start} remain`)
    }
    const body = bytes.subarray(start, start + length)
    try {
      const ma = multiaddr(Uint8Array.from(body))
      const text = ma.toString()
      const components = ma.getComponents()
      // The text must encode back to the same bytes, else the entry is not a canonical multiaddr
      // and what we show is not what another decoder would read.
      const again = multiaddr(text).bytes
      if (again.length !== body.length || again.some((b, i) => b !== body[i])) throw new Error('does not re-encode to the same bytes')
      if (components.some((c) => c.name === 'p2p')) {
        value.withP2p.push(index)
        value.addresses.push(components.at(-1)?.name === 'p2p-circuit' ? text : `${text}/p2p-circuit`)
      } else {
        value.addresses.push(text)
      }
    } catch (error) {
      value.unparseable.push({index, hex: bytesToHex(body), reason: error instanceof Error ? error.message.split('\n')[0]! : String(error)})
    }
    offset = start + length
    index++
  }
  return ok(value)
}

/** Encodes multiaddrs for the `multiaddrs` key. Circuit addresses lose their trailing /p2p-circuit. */
export function encodeMultiaddrs(addresses: string[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const a of addresses) {
    let text = a
    if (text.endsWith('/p2p-circuit')) text = text.slice(0, -'/p2p-circuit'.length)
    const bytes = multiaddr(text).bytes
    if (bytes.length > 0xffff) throw new RangeError(`multiaddr ${a} is too long`)
    parts.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes)
  }
  return concatBytes(...parts)
}

export interface ShardsValue {
  cluster: number
  shards: number[]
}

/** `rs`: cluster u16 BE ‖ count u8 ‖ count × shard u16 BE, exact length (nwaku/go-waku rule). */
export function decodeRs(bytes: Uint8Array): Field<ShardsValue> {
  if (bytes.length < 3) return bad('rs.bad-length', `rs must be at least 3 bytes (cluster u16, count u8), got ${bytes.length}`)
  const count = bytes[2]!
  if (bytes.length !== 3 + 2 * count) {
    return bad('rs.bad-length', `rs declares ${count} shards (${3 + 2 * count} bytes) but is ${bytes.length} bytes`)
  }
  const shards: number[] = []
  for (let i = 0; i < count; i++) shards.push((bytes[3 + 2 * i]! << 8) | bytes[4 + 2 * i]!)
  return ok({cluster: (bytes[0]! << 8) | bytes[1]!, shards})
}

export function encodeRs(cluster: number, shards: number[]): Uint8Array {
  if (shards.length > 255) throw new RangeError('rs holds at most 255 shards')
  const out = new Uint8Array(3 + 2 * shards.length)
  out[0] = cluster >> 8
  out[1] = cluster & 0xff
  out[2] = shards.length
  shards.forEach((s, i) => {
    out[3 + 2 * i] = s >> 8
    out[4 + 2 * i] = s & 0xff
  })
  return out
}

export type RsvBitOrder = 'lsb-first' | 'msb-first' | 'spec-big-endian'

/**
 * `rsv`: cluster u16 BE ‖ 128-byte vector. Three readings exist:
 * - 'lsb-first' (nwaku `toBitVector`, go-waku): shard i = bit (i mod 8) from the LSB of byte i div 8;
 * - 'msb-first' (js-waku): shard i = bit 7-(i mod 8) of byte i div 8;
 * - 'spec-big-endian' (spec prose): the 1024-bit vector is one big-endian integer, shard 0 = rightmost bit.
 */
export function decodeRsv(bytes: Uint8Array, order: RsvBitOrder = 'lsb-first'): Field<ShardsValue> {
  if (bytes.length !== 130) return bad('rsv.bad-length', `rsv must be 130 bytes (cluster u16 + 128-byte bit vector), got ${bytes.length}`)
  const shards: number[] = []
  for (let byte = 0; byte < 128; byte++) {
    const v = bytes[2 + byte]!
    if (v === 0) continue
    for (let bit = 0; bit < 8; bit++) {
      if (!((v >> bit) & 1)) continue
      if (order === 'lsb-first') shards.push(byte * 8 + bit)
      else if (order === 'msb-first') shards.push(byte * 8 + 7 - bit)
      else shards.push((127 - byte) * 8 + bit)
    }
  }
  shards.sort((a, b) => a - b)
  return ok({cluster: (bytes[0]! << 8) | bytes[1]!, shards})
}

export function encodeRsv(cluster: number, shards: number[]): Uint8Array {
  const out = new Uint8Array(130)
  out[0] = cluster >> 8
  out[1] = cluster & 0xff
  for (const s of shards) out[2 + (s >> 3)]! |= 1 << (s & 7)
  return out
}

export interface Eth2Value {
  forkDigest: string
  nextForkVersion: string
  nextForkEpoch: string
}

/** `eth2`: SSZ ENRForkID = fork_digest (4) ‖ next_fork_version (4) ‖ next_fork_epoch (uint64 LE). */
export function decodeEth2(bytes: Uint8Array): Field<Eth2Value> {
  if (bytes.length !== 16) return bad('eth2.bad-length', `eth2 must be 16 bytes (SSZ ENRForkID), got ${bytes.length}`)
  let epoch = 0n
  for (let i = 15; i >= 8; i--) epoch = (epoch << 8n) | BigInt(bytes[i]!)
  return ok({forkDigest: bytesToHex(bytes.subarray(0, 4)), nextForkVersion: bytesToHex(bytes.subarray(4, 8)), nextForkEpoch: epoch.toString()})
}

/** SSZ Bitvector (attnets: 8 bytes / 64 subnets, syncnets: 1 byte / 4 subnets used): bit i of byte i div 8 from the LSB. */
export function decodeBitvector(bytes: Uint8Array, key: string, length: number, bits: number): Field<number[]> {
  if (bytes.length !== length) return bad(`${key}.bad-length`, `${key} must be ${length} byte${length === 1 ? '' : 's'} (SSZ Bitvector[${bits}]), got ${bytes.length}`)
  const out: number[] = []
  for (let i = 0; i < length * 8; i++) if ((bytes[i >> 3]! >> (i & 7)) & 1) out.push(i)
  if (out.some((i) => i >= bits)) return bad(`${key}.bad-bits`, `${key} sets bits beyond Bitvector[${bits}]`)
  return ok(out)
}
