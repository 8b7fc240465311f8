/**
 * STUN message codec (RFC 5389/8489, RFC 5780 attributes, and the RFC 3489 "classic" form that old
 * clients such as Debian's `stun` still send). Our own codec rather than an npm STUN library: the
 * maintained ones either hide CHANGE-REQUEST/OTHER-ADDRESS (needed for RFC 5780 behaviour tests and
 * for our server) or are unmaintained, and the probe must turn every malformed answer into a typed
 * error with a precise message instead of throwing a RangeError deep inside a dependency.
 */
import {isIP} from 'node:net'
import {crc32} from 'node:zlib'

import {ProtocolError} from '../errors.js'

export const MAGIC_COOKIE = 0x2112a442
export const HEADER_LENGTH = 20
/** STUN messages larger than this are refused (RFC 5780 PADDING tests go a little past 1500). */
export const MAX_STUN_MESSAGE = 4096
const FINGERPRINT_XOR = 0x5354554e

export const StunMethod = {binding: 0x001} as const
export const StunClass = {request: 0, indication: 1, success: 2, error: 3} as const
export type StunClassName = 'request' | 'indication' | 'success' | 'error'

export const StunAttr = {
  MAPPED_ADDRESS: 0x0001,
  RESPONSE_ADDRESS: 0x0002,
  CHANGE_REQUEST: 0x0003,
  SOURCE_ADDRESS: 0x0004,
  CHANGED_ADDRESS: 0x0005,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_MAPPED_ADDRESS: 0x0020,
  PADDING: 0x0026,
  RESPONSE_PORT: 0x0027,
  XOR_MAPPED_ADDRESS_OLD: 0x8020,
  SOFTWARE: 0x8022,
  ALTERNATE_SERVER: 0x8023,
  FINGERPRINT: 0x8028,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const

export const CHANGE_IP = 0x04
export const CHANGE_PORT = 0x02

export interface TransportAddress {
  family: 4 | 6
  address: string
  port: number
}

export interface StunAttribute {
  type: number
  value: Uint8Array
}

export interface StunMessage {
  method: number
  cls: StunClassName
  /** 12 bytes (RFC 5389) or 16 bytes (RFC 3489, where the cookie field is part of the id). */
  transactionId: Uint8Array
  /** False for RFC 3489 messages (no magic cookie). */
  rfc5389: boolean
  attributes: StunAttribute[]
}

/** The attributes of a Binding response that a client cares about, decoded. */
export interface BindingResult {
  xorMapped?: TransportAddress
  mapped?: TransportAddress
  responseOrigin?: TransportAddress
  otherAddress?: TransportAddress
  changedAddress?: TransportAddress
  sourceAddress?: TransportAddress
  software?: string
  error?: {code: number; reason: string}
  /** Attribute types that appeared more than once (first occurrence wins, RFC 8489 §14). */
  duplicates: string[]
  fingerprintOk?: boolean
}

function malformed(message: string, details?: Record<string, unknown>): ProtocolError {
  return new ProtocolError('STUN_MALFORMED', message, details ? {details} : {})
}

function hex16(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0')
}

function classBits(cls: StunClassName): number {
  return StunClass[cls]
}

export function messageType(method: number, cls: StunClassName): number {
  const c = classBits(cls)
  return ((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) | ((c & 2) << 7) | ((c & 1) << 4)
}

function splitType(type: number): {method: number; cls: StunClassName} {
  const c = ((type >> 7) & 2) | ((type >> 4) & 1)
  const method = ((type >> 2) & 0xf80) | ((type >> 1) & 0x070) | (type & 0x00f)
  const cls = (['request', 'indication', 'success', 'error'] as const)[c]!
  return {method, cls}
}

/** Quick check (no throw) used to tell STUN from other UDP traffic on a shared socket. */
export function looksLikeStun(buf: Uint8Array): boolean {
  return buf.length >= HEADER_LENGTH && (buf[0]! & 0xc0) === 0 && (((buf[2]! << 8) | buf[3]!) & 3) === 0
}

/**
 * Decodes one STUN message. Throws ProtocolError(STUN_MALFORMED) with a precise message for any
 * structural fault: short header, reserved bits, length mismatch, attribute overrunning the body,
 * FINGERPRINT not last or wrong.
 */
export function decodeStunMessage(buf: Uint8Array): StunMessage {
  if (buf.length < HEADER_LENGTH) throw malformed(`STUN message is ${buf.length} bytes, shorter than the 20-byte header`)
  if (buf.length > MAX_STUN_MESSAGE) throw malformed(`STUN message is ${buf.length} bytes, more than the ${MAX_STUN_MESSAGE}-byte limit`)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const type = view.getUint16(0)
  if (type & 0xc000) throw malformed(`STUN message type ${hex16(type)} has the two most significant bits set (not STUN)`)
  const length = view.getUint16(2)
  if (length % 4 !== 0) throw malformed(`STUN message length ${length} is not a multiple of 4`)
  if (length + HEADER_LENGTH !== buf.length) {
    throw malformed(`STUN header says ${length} body bytes but the datagram has ${buf.length - HEADER_LENGTH}`)
  }
  const rfc5389 = view.getUint32(4) === MAGIC_COOKIE
  const transactionId = rfc5389 ? buf.slice(8, 20) : buf.slice(4, 20)
  const {method, cls} = splitType(type)
  const attributes: StunAttribute[] = []
  let off = HEADER_LENGTH
  while (off < buf.length) {
    if (off + 4 > buf.length) throw malformed(`truncated attribute header at byte ${off}`)
    const at = view.getUint16(off)
    const alen = view.getUint16(off + 2)
    const end = off + 4 + alen
    if (end > buf.length) {
      throw malformed(`attribute ${hex16(at)} at byte ${off} declares ${alen} bytes but only ${buf.length - off - 4} remain`)
    }
    const value = buf.slice(off + 4, end)
    if (at === StunAttr.FINGERPRINT) {
      if (alen !== 4) throw malformed(`FINGERPRINT attribute has length ${alen}, expected 4`)
      if (end !== buf.length) throw malformed('FINGERPRINT attribute is not the last attribute')
      const expected = (crc32(buf.subarray(0, off)) ^ FINGERPRINT_XOR) >>> 0
      const got = view.getUint32(off + 4)
      if (expected !== got) throw malformed(`FINGERPRINT mismatch: got 0x${got.toString(16)}, computed 0x${expected.toString(16)}`)
    }
    attributes.push({type: at, value})
    off = end + ((4 - (alen % 4)) % 4)
  }
  if (off !== buf.length) throw malformed('attribute padding runs past the end of the message')
  return {method, cls, transactionId, rfc5389, attributes}
}

export interface EncodeOptions {
  fingerprint?: boolean
}

/** Encodes a STUN message; attributes are written in order and padded to 4 bytes. */
export function encodeStunMessage(msg: StunMessage, options: EncodeOptions = {}): Uint8Array {
  const parts: Uint8Array[] = []
  let bodyLen = 0
  for (const a of msg.attributes) {
    const pad = (4 - (a.value.length % 4)) % 4
    const chunk = new Uint8Array(4 + a.value.length + pad)
    const v = new DataView(chunk.buffer)
    v.setUint16(0, a.type)
    v.setUint16(2, a.value.length)
    chunk.set(a.value, 4)
    parts.push(chunk)
    bodyLen += chunk.length
  }
  const withFp = options.fingerprint === true && msg.rfc5389
  const total = HEADER_LENGTH + bodyLen + (withFp ? 8 : 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  view.setUint16(0, messageType(msg.method, msg.cls))
  view.setUint16(2, total - HEADER_LENGTH)
  if (msg.rfc5389) {
    if (msg.transactionId.length !== 12) throw new RangeError('RFC 5389 transaction id must be 12 bytes')
    view.setUint32(4, MAGIC_COOKIE)
    out.set(msg.transactionId, 8)
  } else {
    if (msg.transactionId.length !== 16) throw new RangeError('RFC 3489 transaction id must be 16 bytes')
    out.set(msg.transactionId, 4)
  }
  let off = HEADER_LENGTH
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  if (withFp) {
    view.setUint16(off, StunAttr.FINGERPRINT)
    view.setUint16(off + 2, 4)
    view.setUint32(off + 4, (crc32(out.subarray(0, off)) ^ FINGERPRINT_XOR) >>> 0)
  }
  return out
}

function ipToBytes(address: string): {family: 4 | 6; bytes: Uint8Array} {
  const fam = isIP(address)
  if (fam === 4) return {family: 4, bytes: Uint8Array.from(address.split('.').map(Number))}
  if (fam === 6) {
    // Expand "::" and an optional embedded IPv4 tail.
    let text = address.split('%')[0]!
    let tail: number[] = []
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
    if (v4) {
      const b = v4[1]!.split('.').map(Number)
      tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!]
      text = text.slice(0, -v4[1]!.length) + '0:0'
    }
    const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined]
    const h = head ? head.split(':').filter((x) => x !== '') : []
    const r = rest !== undefined && rest !== '' ? rest.split(':') : []
    const fill = rest === undefined ? [] : new Array(8 - h.length - r.length).fill('0')
    const groups = [...h, ...fill, ...r].map((g) => parseInt(g, 16))
    if (tail.length) groups.splice(6, 2, ...tail)
    const bytes = new Uint8Array(16)
    groups.forEach((g, i) => {
      bytes[i * 2] = g >> 8
      bytes[i * 2 + 1] = g & 0xff
    })
    return {family: 6, bytes}
  }
  throw new RangeError(`not an IP address: ${address}`)
}

function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen && j - i > 1) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  if (best < 0) return groups.join(':')
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + bestLen).join(':')
}

export function encodeAddress(addr: TransportAddress, xorWith?: Uint8Array): Uint8Array {
  const {family, bytes} = ipToBytes(addr.address)
  const out = new Uint8Array(4 + bytes.length)
  const v = new DataView(out.buffer)
  v.setUint8(1, family === 4 ? 1 : 2)
  let port = addr.port
  const ip = bytes.slice()
  if (xorWith) {
    port ^= MAGIC_COOKIE >>> 16
    for (let i = 0; i < ip.length; i++) ip[i]! ^= xorWith[i]!
  }
  v.setUint16(2, port)
  out.set(ip, 4)
  return out
}

/** Decodes (XOR-)MAPPED-ADDRESS-style values; `xorWith` = cookie ‖ transaction id for XOR forms. */
export function decodeAddress(name: string, value: Uint8Array, xorWith?: Uint8Array): TransportAddress {
  if (value.length < 4) throw malformed(`${name} is ${value.length} bytes, too short for an address`)
  const famByte = value[1]!
  const family = famByte === 1 ? 4 : famByte === 2 ? 6 : undefined
  if (family === undefined) throw malformed(`${name} has unknown address family 0x${famByte.toString(16).padStart(2, '0')}`)
  const want = family === 4 ? 8 : 20
  if (value.length !== want) throw malformed(`${name} is ${value.length} bytes, expected ${want} for IPv${family}`)
  let port = (value[2]! << 8) | value[3]!
  const ip = value.slice(4)
  if (xorWith) {
    port ^= MAGIC_COOKIE >>> 16
    for (let i = 0; i < ip.length; i++) ip[i]! ^= xorWith[i]!
  }
  return {family, address: bytesToIp(ip), port}
}

export function xorKey(transactionId: Uint8Array): Uint8Array {
  const key = new Uint8Array(16)
  new DataView(key.buffer).setUint32(0, MAGIC_COOKIE)
  key.set(transactionId.subarray(0, 12), 4)
  return key
}

const ATTR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(StunAttr).map(([k, v]) => [v, k.replaceAll('_', '-')]))
export function attributeName(type: number): string {
  return ATTR_NAMES[type] ?? hex16(type)
}

/** Decodes the address attributes of a Binding response; first occurrence wins, duplicates are listed. */
export function readBindingResult(msg: StunMessage): BindingResult {
  const result: BindingResult = {duplicates: []}
  const seen = new Set<number>()
  const key = xorKey(msg.transactionId)
  for (const a of msg.attributes) {
    if (seen.has(a.type)) {
      if (!result.duplicates.includes(attributeName(a.type))) result.duplicates.push(attributeName(a.type))
      continue
    }
    seen.add(a.type)
    switch (a.type) {
      case StunAttr.XOR_MAPPED_ADDRESS:
      case StunAttr.XOR_MAPPED_ADDRESS_OLD:
        if (!result.xorMapped) result.xorMapped = decodeAddress('XOR-MAPPED-ADDRESS', a.value, key)
        break
      case StunAttr.MAPPED_ADDRESS:
        result.mapped = decodeAddress('MAPPED-ADDRESS', a.value)
        break
      case StunAttr.RESPONSE_ORIGIN:
        result.responseOrigin = decodeAddress('RESPONSE-ORIGIN', a.value)
        break
      case StunAttr.OTHER_ADDRESS:
        result.otherAddress = decodeAddress('OTHER-ADDRESS', a.value)
        break
      case StunAttr.CHANGED_ADDRESS:
        result.changedAddress = decodeAddress('CHANGED-ADDRESS', a.value)
        break
      case StunAttr.SOURCE_ADDRESS:
        result.sourceAddress = decodeAddress('SOURCE-ADDRESS', a.value)
        break
      case StunAttr.SOFTWARE:
        result.software = new TextDecoder('utf-8', {fatal: false}).decode(a.value).slice(0, 128)
        break
      case StunAttr.ERROR_CODE: {
        if (a.value.length < 4) throw malformed(`ERROR-CODE is ${a.value.length} bytes, too short`)
        const code = (a.value[2]! & 0x7) * 100 + a.value[3]!
        result.error = {code, reason: new TextDecoder('utf-8', {fatal: false}).decode(a.value.subarray(4)).slice(0, 128)}
        break
      }
      case StunAttr.FINGERPRINT:
        result.fingerprintOk = true
        break
      default:
        break
    }
  }
  return result
}

export function changeRequestValue(flags: number): Uint8Array {
  const v = new Uint8Array(4)
  v[3] = flags & 0x06
  return v
}

export function errorCodeValue(code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason)
  const v = new Uint8Array(4 + text.length)
  v[2] = Math.floor(code / 100)
  v[3] = code % 100
  v.set(text, 4)
  return v
}

export function formatAddress(a: TransportAddress): string {
  return a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}
