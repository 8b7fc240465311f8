/**
 * libp2p rendezvous messages (https://github.com/libp2p/specs/blob/master/rendezvous/README.md), as
 * nim-libp2p writes them (libp2p/protocols/rendezvous/protobuf.nim, which nwaku's Waku rendezvous
 * uses):
 *
 *   Message          { type = 1: MessageType; register = 2; registerResponse = 3; unregister = 4;
 *                      discover = 5; discoverResponse = 6 }
 *   Register         { ns = 1: string; signedPeerRecord = 2: bytes; ttl = 3: uint64 }
 *   RegisterResponse { status = 1: ResponseStatus; statusText = 2: string; ttl = 3: uint64 }
 *   Unregister       { ns = 1: string }            (id = 2 is deprecated and ignored)
 *   Discover         { ns = 1: string; limit = 2: uint64; cookie = 3: bytes }
 *   DiscoverResponse { registrations = 1: repeated Register; cookie = 2: bytes;
 *                      status = 3: ResponseStatus; statusText = 4: string }
 *
 * nim-libp2p declares the message type, the statuses, Register.ns/signedPeerRecord and
 * Unregister.ns `required`, so the encoder always writes them; the decoder reads them as proto3
 * would (absent = 0 / empty) so that js and go encoders, which leave zero values out, decode too.
 * Error offsets count from the start of the outermost message.
 */
import {ProtocolError} from '../errors.js'
import {ProtoWriter, ProtobufDecodeError, readFields, type ProtoField} from '../libp2p/protobuf.js'
import {codeName} from '../code-names.js'

export const RENDEZVOUS_MESSAGE_TYPE = {
  REGISTER: 0,
  REGISTER_RESPONSE: 1,
  UNREGISTER: 2,
  DISCOVER: 3,
  DISCOVER_RESPONSE: 4,
} as const
export type RendezvousMessageTypeName = keyof typeof RENDEZVOUS_MESSAGE_TYPE

export const RENDEZVOUS_STATUS = {
  OK: 0,
  E_INVALID_NAMESPACE: 100,
  E_INVALID_SIGNED_PEER_RECORD: 101,
  E_INVALID_TTL: 102,
  E_INVALID_COOKIE: 103,
  E_NOT_AUTHORIZED: 200,
  E_INTERNAL_ERROR: 300,
  E_UNAVAILABLE: 400,
} as const
export type RendezvousStatusName = keyof typeof RENDEZVOUS_STATUS

/** The spec name of a status code, undefined for codes the spec does not define. */
export function rendezvousStatusName(code: number): RendezvousStatusName | undefined {
  return codeName(RENDEZVOUS_STATUS, code)
}

/** The spec name of a message type, undefined for unknown values. */
export function rendezvousMessageTypeName(code: number): RendezvousMessageTypeName | undefined {
  return codeName(RENDEZVOUS_MESSAGE_TYPE, code)
}

export interface RendezvousRegister {
  ns: string
  signedPeerRecord: Uint8Array
  /** Seconds. */
  ttl?: bigint
}

export interface RendezvousRegisterResponse {
  status: number
  statusText?: string
  /** Seconds granted. */
  ttl?: bigint
}

export interface RendezvousUnregister {
  ns: string
}

export interface RendezvousDiscover {
  /** Absent = every namespace. */
  ns?: string
  limit?: bigint
  cookie?: Uint8Array
}

export interface RendezvousDiscoverResponse {
  registrations: RendezvousRegister[]
  cookie?: Uint8Array
  status: number
  statusText?: string
}

export interface RendezvousMessage {
  /** A MessageType value (kept as a number so an unknown value can be reported). */
  type: number
  register?: RendezvousRegister
  registerResponse?: RendezvousRegisterResponse
  unregister?: RendezvousUnregister
  discover?: RendezvousDiscover
  discoverResponse?: RendezvousDiscoverResponse
}

// ---------------------------------------------------------------------------------------------
// Encoding

function registerBody(r: RendezvousRegister): Uint8Array {
  const w = new ProtoWriter().string(1, r.ns).bytes(2, r.signedPeerRecord)
  if (r.ttl !== undefined) w.varint(3, r.ttl)
  return w.finish()
}

function registerResponseBody(r: RendezvousRegisterResponse): Uint8Array {
  const w = new ProtoWriter().varint(1, r.status)
  if (r.statusText !== undefined) w.string(2, r.statusText)
  if (r.ttl !== undefined) w.varint(3, r.ttl)
  return w.finish()
}

function discoverBody(d: RendezvousDiscover): Uint8Array {
  const w = new ProtoWriter()
  if (d.ns !== undefined) w.string(1, d.ns)
  if (d.limit !== undefined) w.varint(2, d.limit)
  if (d.cookie !== undefined) w.bytes(3, d.cookie)
  return w.finish()
}

function discoverResponseBody(d: RendezvousDiscoverResponse): Uint8Array {
  const w = new ProtoWriter()
  for (const r of d.registrations) w.bytes(1, registerBody(r))
  if (d.cookie !== undefined) w.bytes(2, d.cookie)
  w.varint(3, d.status)
  if (d.statusText !== undefined) w.string(4, d.statusText)
  return w.finish()
}

/** Encodes a Message with whatever bodies are set (normally exactly the one its type names). */
export function encodeRendezvousMessage(message: RendezvousMessage): Uint8Array {
  const w = new ProtoWriter().varint(1, message.type)
  if (message.register) w.bytes(2, registerBody(message.register))
  if (message.registerResponse) w.bytes(3, registerResponseBody(message.registerResponse))
  if (message.unregister) w.bytes(4, new ProtoWriter().string(1, message.unregister.ns).finish())
  if (message.discover) w.bytes(5, discoverBody(message.discover))
  if (message.discoverResponse) w.bytes(6, discoverResponseBody(message.discoverResponse))
  return w.finish()
}

export const encodeRegister = (register: RendezvousRegister): Uint8Array =>
  encodeRendezvousMessage({type: RENDEZVOUS_MESSAGE_TYPE.REGISTER, register})
export const encodeRegisterResponse = (registerResponse: RendezvousRegisterResponse): Uint8Array =>
  encodeRendezvousMessage({type: RENDEZVOUS_MESSAGE_TYPE.REGISTER_RESPONSE, registerResponse})
export const encodeUnregister = (unregister: RendezvousUnregister): Uint8Array =>
  encodeRendezvousMessage({type: RENDEZVOUS_MESSAGE_TYPE.UNREGISTER, unregister})
export const encodeDiscover = (discover: RendezvousDiscover): Uint8Array =>
  encodeRendezvousMessage({type: RENDEZVOUS_MESSAGE_TYPE.DISCOVER, discover})
export const encodeDiscoverResponse = (discoverResponse: RendezvousDiscoverResponse): Uint8Array =>
  encodeRendezvousMessage({type: RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE, discoverResponse})

// ---------------------------------------------------------------------------------------------
// Decoding

/** The fields of `bytes` (a sub-message of `root`), with offsets counted from the start of `root`. */
function fieldsOf(bytes: Uint8Array, root: Uint8Array): ProtoField[] {
  const base = bytes.byteOffset - root.byteOffset
  try {
    return readFields(bytes).map((f) => ({...f, offset: f.offset + base}))
  } catch (err) {
    if (err instanceof ProtobufDecodeError && base > 0) {
      throw new ProtobufDecodeError(err.message.replace(/ at byte \d+$/, ''), err.offset + base)
    }
    throw err
  }
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

function expectWire(f: ProtoField, wireType: 0 | 2, what: string): void {
  if (f.wireType !== wireType) throw new ProtobufDecodeError(`${what} must be ${wireType === 0 ? 'a varint' : 'length-delimited'}`, f.offset)
}

function text(f: ProtoField, what: string): string {
  expectWire(f, 2, what)
  try {
    return utf8.decode(f.bytes!)
  } catch {
    throw new ProtobufDecodeError(`${what} is not valid UTF-8`, f.offset)
  }
}

function uint64(f: ProtoField, what: string): bigint {
  expectWire(f, 0, what)
  return f.value!
}

/** Enums are int32 on the wire; a negative one would be a 10-byte varint, which no peer should send. */
function enumValue(f: ProtoField, what: string): number {
  expectWire(f, 0, what)
  if (f.value! > 0x7fff_ffffn) throw new ProtobufDecodeError(`${what} ${f.value} is outside the int32 enum range`, f.offset)
  return Number(f.value)
}

function message(f: ProtoField, what: string): Uint8Array {
  expectWire(f, 2, what)
  return f.bytes!
}

function decodeRegisterBody(bytes: Uint8Array, root: Uint8Array): RendezvousRegister {
  const r: RendezvousRegister = {ns: '', signedPeerRecord: new Uint8Array(0)}
  for (const f of fieldsOf(bytes, root)) {
    if (f.field === 1) r.ns = text(f, 'Register.ns (field 1)')
    else if (f.field === 2) r.signedPeerRecord = message(f, 'Register.signedPeerRecord (field 2)')
    else if (f.field === 3) r.ttl = uint64(f, 'Register.ttl (field 3)')
  }
  return r
}

function decodeRegisterResponseBody(bytes: Uint8Array, root: Uint8Array): RendezvousRegisterResponse {
  const r: RendezvousRegisterResponse = {status: 0}
  for (const f of fieldsOf(bytes, root)) {
    if (f.field === 1) r.status = enumValue(f, 'RegisterResponse.status (field 1)')
    else if (f.field === 2) r.statusText = text(f, 'RegisterResponse.statusText (field 2)')
    else if (f.field === 3) r.ttl = uint64(f, 'RegisterResponse.ttl (field 3)')
  }
  return r
}

function decodeUnregisterBody(bytes: Uint8Array, root: Uint8Array): RendezvousUnregister {
  const u: RendezvousUnregister = {ns: ''}
  for (const f of fieldsOf(bytes, root)) {
    if (f.field === 1) u.ns = text(f, 'Unregister.ns (field 1)')
  }
  return u
}

function decodeDiscoverBody(bytes: Uint8Array, root: Uint8Array): RendezvousDiscover {
  const d: RendezvousDiscover = {}
  for (const f of fieldsOf(bytes, root)) {
    if (f.field === 1) d.ns = text(f, 'Discover.ns (field 1)')
    else if (f.field === 2) d.limit = uint64(f, 'Discover.limit (field 2)')
    else if (f.field === 3) d.cookie = message(f, 'Discover.cookie (field 3)')
  }
  return d
}

function decodeDiscoverResponseBody(bytes: Uint8Array, root: Uint8Array): RendezvousDiscoverResponse {
  const d: RendezvousDiscoverResponse = {registrations: [], status: 0}
  for (const f of fieldsOf(bytes, root)) {
    if (f.field === 1) d.registrations.push(decodeRegisterBody(message(f, 'DiscoverResponse.registrations (field 1)'), root))
    else if (f.field === 2) d.cookie = message(f, 'DiscoverResponse.cookie (field 2)')
    else if (f.field === 3) d.status = enumValue(f, 'DiscoverResponse.status (field 3)')
    else if (f.field === 4) d.statusText = text(f, 'DiscoverResponse.statusText (field 4)')
  }
  return d
}

/**
 * Decodes a rendezvous Message. Unknown fields are skipped; wrong wire types, bad UTF-8 and
 * truncation are ProtocolError('BAD_PROTOBUF') naming the byte offset. A repeated body field
 * replaces the earlier one (bodies are never legitimately repeated).
 */
export function decodeRendezvousMessage(bytes: Uint8Array, what = 'rendezvous message'): RendezvousMessage {
  const m: RendezvousMessage = {type: 0}
  try {
    for (const f of fieldsOf(bytes, bytes)) {
      switch (f.field) {
        case 1:
          m.type = enumValue(f, 'type (field 1)')
          break
        case 2:
          m.register = decodeRegisterBody(message(f, 'register (field 2)'), bytes)
          break
        case 3:
          m.registerResponse = decodeRegisterResponseBody(message(f, 'registerResponse (field 3)'), bytes)
          break
        case 4:
          m.unregister = decodeUnregisterBody(message(f, 'unregister (field 4)'), bytes)
          break
        case 5:
          m.discover = decodeDiscoverBody(message(f, 'discover (field 5)'), bytes)
          break
        case 6:
          m.discoverResponse = decodeDiscoverResponseBody(message(f, 'discoverResponse (field 6)'), bytes)
          break
      }
    }
  } catch (err) {
    const detail = err instanceof ProtobufDecodeError ? err.message : String(err)
    throw new ProtocolError('BAD_PROTOBUF', `${what}: malformed protobuf: ${detail}`, {
      cause: err,
      ...(err instanceof ProtobufDecodeError ? {details: {offset: err.offset}} : {}),
    })
  }
  return m
}
