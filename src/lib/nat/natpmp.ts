/**
 * NAT-PMP (RFC 6886) messages: the external-address request and the UDP/TCP mapping requests,
 * their responses and result codes. The wire format is tiny and fixed; written here so the
 * `nat portmap` report can name every result code and offset, whatever client does the I/O.
 */
import {BadInputError, ProtocolError} from '../errors.js'
import {codeName} from '../code-names.js'

export const NATPMP_VERSION = 0
export const NATPMP_PORT = 5351
export const NATPMP_OPCODE = {externalAddress: 0, mapUdp: 1, mapTcp: 2} as const

/** RFC 6886 §3.5. */
export const NATPMP_RESULT = {
  SUCCESS: 0,
  UNSUPPORTED_VERSION: 1,
  NOT_AUTHORIZED: 2,
  NETWORK_FAILURE: 3,
  OUT_OF_RESOURCES: 4,
  UNSUPPORTED_OPCODE: 5,
} as const
export type NatPmpResultName = keyof typeof NATPMP_RESULT

export function natPmpResultName(code: number): NatPmpResultName | undefined {
  return codeName(NATPMP_RESULT, code)
}

export function encodeExternalAddressRequest(): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, NATPMP_OPCODE.externalAddress)
}

export function encodeMappingRequest(r: {protocol: 'udp' | 'tcp'; internalPort: number; suggestedExternalPort?: number; lifetime: number}): Uint8Array {
  for (const [name, port] of [
    ['internal port', r.internalPort],
    ['suggested external port', r.suggestedExternalPort ?? 0],
  ] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new BadInputError('BAD_PORT', `${name} must be 0–65535, got ${port}`)
  }
  if (!Number.isInteger(r.lifetime) || r.lifetime < 0 || r.lifetime > 0xffff_ffff) throw new BadInputError('BAD_LIFETIME', `lifetime must be 0–4294967295 s, got ${r.lifetime}`)
  const out = new Uint8Array(12)
  const view = new DataView(out.buffer)
  out[0] = NATPMP_VERSION
  out[1] = r.protocol === 'udp' ? NATPMP_OPCODE.mapUdp : NATPMP_OPCODE.mapTcp
  view.setUint16(4, r.internalPort)
  view.setUint16(6, r.suggestedExternalPort ?? 0)
  view.setUint32(8, r.lifetime)
  return out
}

export type NatPmpResponse =
  | {opcode: 0; resultCode: number; resultName: string; epoch: number; externalAddress: string}
  | {opcode: 1 | 2; resultCode: number; resultName: string; epoch: number; internalPort: number; externalPort: number; lifetime: number}

function malformed(message: string, offset: number): ProtocolError {
  return new ProtocolError('NATPMP_MALFORMED', `NAT-PMP response: ${message} at byte ${offset}`, {details: {offset}})
}

/** Decodes a response to the request with `expectedOpcode`. */
export function decodeNatPmpResponse(bytes: Uint8Array, expectedOpcode: 0 | 1 | 2): NatPmpResponse {
  if (bytes.length < 8) throw malformed(`${bytes.length} bytes, shorter than the 8-byte minimum`, 0)
  if (bytes[0] !== NATPMP_VERSION) throw malformed(`version ${bytes[0]}, not 0${bytes[0] === 2 ? ' (a PCP answer)' : ''}`, 0)
  const op = bytes[1]!
  if (op !== 128 + expectedOpcode) throw malformed(`opcode ${op}, expected ${128 + expectedOpcode}`, 1)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const resultCode = view.getUint16(2)
  const resultName = natPmpResultName(resultCode) ?? `UNKNOWN_${resultCode}`
  const epoch = view.getUint32(4)
  if (expectedOpcode === 0) {
    if (resultCode !== NATPMP_RESULT.SUCCESS) return {opcode: 0, resultCode, resultName, epoch, externalAddress: ''}
    if (bytes.length < 12) throw malformed(`an external-address response of ${bytes.length} bytes (12 expected)`, 8)
    return {opcode: 0, resultCode, resultName, epoch, externalAddress: [...bytes.subarray(8, 12)].join('.')}
  }
  if (bytes.length < 16) {
    if (resultCode !== NATPMP_RESULT.SUCCESS) return {opcode: expectedOpcode, resultCode, resultName, epoch, internalPort: 0, externalPort: 0, lifetime: 0}
    throw malformed(`a mapping response of ${bytes.length} bytes (16 expected)`, 8)
  }
  return {opcode: expectedOpcode, resultCode, resultName, epoch, internalPort: view.getUint16(8), externalPort: view.getUint16(10), lifetime: view.getUint32(12)}
}
