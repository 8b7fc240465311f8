/**
 * PCP (RFC 6887) messages: MAP requests and responses, the result codes, and the ANNOUNCE
 * opcode's header. Written here because no npm client speaks PCP; NAT-PMP (RFC 6886), its
 * predecessor on the same port 5351, is in natpmp.ts. Decoding checks every length and field the
 * RFC fixes and reports the byte offset of what is wrong.
 */
import ipaddr from 'ipaddr.js'

import {BadInputError, ProtocolError} from '../errors.js'
import {codeName} from '../code-names.js'

export const PCP_VERSION = 2
export const PCP_PORT = 5351
export const PCP_OPCODE = {ANNOUNCE: 0, MAP: 1, PEER: 2} as const

/** RFC 6887 §7.4. */
export const PCP_RESULT = {
  SUCCESS: 0,
  UNSUPP_VERSION: 1,
  NOT_AUTHORIZED: 2,
  MALFORMED_REQUEST: 3,
  UNSUPP_OPCODE: 4,
  UNSUPP_OPTION: 5,
  MALFORMED_OPTION: 6,
  NETWORK_FAILURE: 7,
  NO_RESOURCES: 8,
  UNSUPP_PROTOCOL: 9,
  USER_EX_QUOTA: 10,
  CANNOT_PROVIDE_EXTERNAL: 11,
  ADDRESS_MISMATCH: 12,
  EXCESSIVE_REMOTE_PEERS: 13,
} as const
export type PcpResultName = keyof typeof PCP_RESULT

export function pcpResultName(code: number): PcpResultName | undefined {
  return codeName(PCP_RESULT, code)
}

/** IANA protocol numbers PCP MAP uses (0 = all protocols). */
export const PCP_PROTOCOL = {tcp: 6, udp: 17} as const

export interface PcpMapRequest {
  /** Seconds; 0 deletes the mapping. */
  lifetime: number
  /** Our address as the gateway sees it (IPv4 or IPv6). */
  clientIp: string
  /** 12 bytes chosen by the client, echoed by the server. */
  nonce: Uint8Array
  protocol: number
  internalPort: number
  suggestedExternalPort?: number
  suggestedExternalIp?: string
}

export interface PcpMapResponse {
  version: number
  opcode: number
  resultCode: number
  resultName: string
  lifetime: number
  /** Seconds since the server's state began (a drop means it lost its mappings). */
  epoch: number
  nonce: Uint8Array
  protocol: number
  internalPort: number
  externalPort: number
  /** The assigned external address, verbatim (IPv4-mapped addresses unwrapped). */
  externalIp: string
}

const HEADER = 24
const MAP_BODY = 36

function malformed(message: string, offset: number): ProtocolError {
  return new ProtocolError('PCP_MALFORMED', `PCP response: ${message} at byte ${offset}`, {details: {offset}})
}

/** 16-byte address field: IPv4 as IPv4-mapped IPv6 (RFC 6887 §5). */
export function encodePcpAddress(ip: string): Uint8Array {
  let addr: ipaddr.IPv4 | ipaddr.IPv6
  try {
    addr = ipaddr.parse(ip)
  } catch {
    throw new BadInputError('BAD_IP', `not an IP address: ${JSON.stringify(ip)}`)
  }
  const v6 = addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).toIPv4MappedAddress() : (addr as ipaddr.IPv6)
  return Uint8Array.from(v6.toByteArray())
}

export function decodePcpAddress(bytes: Uint8Array): string {
  const v6 = ipaddr.IPv6.parse(ipaddr.fromByteArray([...bytes]).toString())
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString()
}

function checkPort(name: string, port: number | undefined): void {
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new BadInputError('BAD_PORT', `${name} must be 0–65535, got ${port}`)
}

export function encodePcpMapRequest(r: PcpMapRequest): Uint8Array {
  if (r.nonce.length !== 12) throw new BadInputError('BAD_NONCE', `a PCP nonce is 12 bytes, got ${r.nonce.length}`)
  if (!Number.isInteger(r.lifetime) || r.lifetime < 0 || r.lifetime > 0xffff_ffff) throw new BadInputError('BAD_LIFETIME', `lifetime must be 0–4294967295 s, got ${r.lifetime}`)
  if (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255) throw new BadInputError('BAD_PROTOCOL', `protocol must be 0–255, got ${r.protocol}`)
  checkPort('internal port', r.internalPort)
  checkPort('suggested external port', r.suggestedExternalPort)
  const out = new Uint8Array(HEADER + MAP_BODY)
  const view = new DataView(out.buffer)
  out[0] = PCP_VERSION
  out[1] = PCP_OPCODE.MAP // R bit 0: a request
  view.setUint32(4, r.lifetime)
  out.set(encodePcpAddress(r.clientIp), 8)
  out.set(r.nonce, HEADER)
  out[HEADER + 12] = r.protocol
  view.setUint16(HEADER + 16, r.internalPort)
  view.setUint16(HEADER + 18, r.suggestedExternalPort ?? 0)
  // All-zero IPv4-mapped (::ffff:0.0.0.0) or :: means "no preference"; RFC 6887 §11.1.
  out.set(encodePcpAddress(r.suggestedExternalIp ?? (r.clientIp.includes(':') ? '::' : '0.0.0.0')), HEADER + 20)
  return out
}

/** Decodes a MAP response (the server's answer to our request). */
export function decodePcpMapResponse(bytes: Uint8Array): PcpMapResponse {
  if (bytes.length < HEADER) throw malformed(`${bytes.length} bytes, shorter than the 24-byte header`, 0)
  if (bytes.length > 1100) throw malformed(`${bytes.length} bytes, more than PCP's 1100-byte limit`, 1100)
  if (bytes.length % 4 !== 0) throw malformed(`length ${bytes.length} is not a multiple of 4`, bytes.length)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = bytes[0]!
  const opcodeByte = bytes[1]!
  if ((opcodeByte & 0x80) === 0) throw malformed('the R bit is 0 (a request, not a response)', 1)
  const opcode = opcodeByte & 0x7f
  const resultCode = bytes[3]!
  const base = {
    version,
    opcode,
    resultCode,
    resultName: pcpResultName(resultCode) ?? `UNKNOWN_${resultCode}`,
    lifetime: view.getUint32(4),
    epoch: view.getUint32(8),
  }
  // An error answer may come without the opcode body (e.g. UNSUPP_VERSION from a NAT-PMP-only box).
  if (bytes.length < HEADER + MAP_BODY) {
    if (resultCode !== PCP_RESULT.SUCCESS) return {...base, nonce: new Uint8Array(12), protocol: 0, internalPort: 0, externalPort: 0, externalIp: ''}
    throw malformed(`a successful MAP response of ${bytes.length} bytes has no 36-byte MAP body`, HEADER)
  }
  if (opcode !== PCP_OPCODE.MAP) throw malformed(`opcode ${opcode}, not MAP (1)`, 1)
  return {
    ...base,
    nonce: bytes.slice(HEADER, HEADER + 12),
    protocol: bytes[HEADER + 12]!,
    internalPort: view.getUint16(HEADER + 16),
    externalPort: view.getUint16(HEADER + 18),
    externalIp: decodePcpAddress(bytes.subarray(HEADER + 20, HEADER + 36)),
  }
}

/** The response header a PCP server sends when it does not speak our version (also NAT-PMP's reply shape). */
export function isUnsupportedVersion(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && (bytes[1]! & 0x80) !== 0 && bytes[3] === PCP_RESULT.UNSUPP_VERSION
}
