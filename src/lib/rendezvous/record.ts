/**
 * Waku's `WakuPeerRecord` and the libp2p signed envelope (RFC 0002) that carries it in rendezvous
 * registrations, as nwaku writes them (waku/waku_rendezvous/waku_peer_record.nim):
 *
 *   WakuPeerRecord { peerId = 1: bytes (the peer id's multihash, nim-libp2p's PeerId encoding);
 *                    seqNo = 2: uint64 (Unix seconds); addresses = 3: repeated bytes (binary
 *                    multiaddrs); mixKey = 4: string (hex Curve25519 key) }
 *
 * Envelope domain "libp2p-custom-peer-record" (the name of nim-libp2p's private multicodec
 * 0x300000), payload type the three raw bytes 30 00 00 (not the varint of 0x300000, as the spec
 * text suggests). The Waku rendezvous spec
 * (https://github.com/waku-org/specs/blob/master/standards/core/rendezvous.md) describes peer_id
 * and multiaddrs as strings and the mix key as bytes, so the decoder also accepts those forms; the
 * encoder always writes nwaku's.
 */
import {publicKeyToProtobuf} from '@libp2p/crypto/keys'
import type {PeerId, PrivateKey, Record} from '@libp2p/interface'
import {peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString} from '@libp2p/peer-id'
import {RecordEnvelope} from '@libp2p/peer-record'
import {multiaddr} from '@multiformats/multiaddr'
import {base58, hex} from '@scure/base'

import {BadInputError, CheckFailedError, ProtocolError, isWakuDiscError} from '../errors.js'
import {ProtoWriter, ProtobufDecodeError, readFields} from '../libp2p/protobuf.js'

export const WAKU_PEER_RECORD_DOMAIN = 'libp2p-custom-peer-record'
/** nwaku's payload type since the mix-key record (0x300000 as three big-endian bytes). */
export const WAKU_PEER_RECORD_PAYLOAD_TYPE = Uint8Array.of(0x30, 0x00, 0x00)
/** The payload type of the first nwaku WakuPeerRecord (copied from a nim-libp2p test record); current nwaku refuses it. */
export const LEGACY_WAKU_PEER_RECORD_PAYLOAD_TYPE = Uint8Array.of(0x05, 0x05)
/** A signed record is ~200 bytes; nwaku reads a whole REGISTER in 4 KiB. */
export const MAX_SIGNED_PEER_RECORD_BYTES = 4096

export interface WakuPeerRecord {
  peerId: string
  /** Unix seconds when the record was made (nwaku's default). */
  seqNo: bigint
  /** Multiaddr text. */
  addresses: string[]
  /** Lower-case hex; absent for nodes without mix. */
  mixKey?: string
}

export interface WakuPeerRecordInit {
  /** Default (when sealing): the signing key's peer id. */
  peerId?: string
  /** Default: now, in Unix seconds. */
  seqNo?: bigint | number
  addresses: readonly string[]
  mixKey?: string
}

export interface DecodedWakuPeerRecord extends WakuPeerRecord {
  /** How field 1 was written: nwaku's raw multihash bytes, or the spec's peer-id text. */
  peerIdEncoding: 'bytes' | 'string'
  /** How field 4 was written: nwaku's hex text, or raw key bytes (the spec's `bytes`). */
  mixKeyEncoding?: 'hex-string' | 'bytes'
  /** Addresses written as multiaddr text rather than nwaku's binary form. */
  textAddresses: number
}

export interface OpenedWakuPeerRecord extends DecodedWakuPeerRecord {
  /** The envelope's signing key. */
  publicKey: {type: string; protobufHex: string}
  /** Hex of the envelope's payload type. */
  payloadType: string
  /** True when the payload type is nwaku's first one (05 05). */
  legacyPayloadType: boolean
}

/** The record with seqNo as a decimal string, for JSON output. */
export type WakuPeerRecordJson<T extends WakuPeerRecord = WakuPeerRecord> = Omit<T, 'seqNo'> & {seqNo: string}

export function wakuPeerRecordToJson<T extends WakuPeerRecord>(record: T): WakuPeerRecordJson<T> {
  return {...record, seqNo: record.seqNo.toString()}
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

function parsePeerIdText(text: string, what: string): PeerId {
  try {
    return peerIdFromString(text)
  } catch (err) {
    throw new BadInputError('BAD_PEER_ID', `${what}: invalid peer id ${text.slice(0, 80)}`, {cause: err})
  }
}

function mixKeyHex(mixKey: string): string {
  const k = mixKey.toLowerCase()
  if (!/^(?:[0-9a-f]{2})+$/.test(k)) throw new BadInputError('BAD_MIX_KEY', `mix key must be non-empty hex with an even number of digits, got ${JSON.stringify(mixKey.slice(0, 80))}`)
  return k
}

/** Encodes a record the way nwaku does (field 1 as raw multihash bytes, addresses binary). */
export function encodeWakuPeerRecord(record: WakuPeerRecordInit & {peerId: string}): Uint8Array {
  const peerId = parsePeerIdText(record.peerId, 'WakuPeerRecord')
  const given = record.seqNo ?? Math.floor(Date.now() / 1000)
  if (typeof given === 'number' && !Number.isSafeInteger(given)) throw new BadInputError('BAD_SEQ_NO', `seqNo must be an integer, got ${given}`)
  const seqNo = BigInt(given)
  if (seqNo < 0n || seqNo > 0xffff_ffff_ffff_ffffn) throw new BadInputError('BAD_SEQ_NO', `seqNo must fit in uint64, got ${seqNo}`)
  if (record.addresses.length === 0) throw new BadInputError('NO_ADDRESSES', 'a WakuPeerRecord needs at least one address (nwaku refuses records without)')
  const w = new ProtoWriter().bytes(1, peerId.toMultihash().bytes).varint(2, seqNo)
  for (const a of record.addresses) {
    let bytes: Uint8Array
    try {
      bytes = multiaddr(a).bytes
    } catch (err) {
      throw new BadInputError('BAD_MULTIADDR', `not a valid multiaddr: ${a} (${(err as Error).message})`, {cause: err})
    }
    w.bytes(3, bytes)
  }
  if (record.mixKey !== undefined) w.string(4, mixKeyHex(record.mixKey))
  return w.finish()
}

function decodePeerIdField(bytes: Uint8Array, offset: number): {peerId: string; encoding: 'bytes' | 'string'} {
  // Raw multihash first: a peer id's text never parses as one (its first bytes are ASCII digits/letters).
  try {
    const id = peerIdFromString(base58.encode(bytes))
    if (equalBytes(id.toMultihash().bytes, bytes)) return {peerId: id.toString(), encoding: 'bytes'}
  } catch {
    // not a multihash; try text below
  }
  let text: string | undefined
  try {
    text = utf8.decode(bytes)
  } catch {
    text = undefined
  }
  if (text !== undefined && text.length > 0) {
    try {
      return {peerId: peerIdFromString(text).toString(), encoding: 'string'}
    } catch {
      // fall through
    }
  }
  throw new ProtobufDecodeError(`peerId (field 1) is neither peer-id multihash bytes nor peer-id text (${bytes.length} bytes)`, offset)
}

function decodeAddress(bytes: Uint8Array, offset: number, index: number): {text: string; textForm: boolean} {
  // '/' (0x2f) is not a multicodec protocol code, so a leading slash means multiaddr text.
  if (bytes[0] === 0x2f) {
    try {
      return {text: multiaddr(utf8.decode(bytes)).toString(), textForm: true}
    } catch {
      // try binary below
    }
  }
  try {
    const ma = multiaddr(bytes)
    // multiaddr() can accept trailing junk silently; the re-encoding must be the same bytes.
    if (equalBytes(ma.bytes, bytes)) return {text: ma.toString(), textForm: false}
  } catch {
    // fall through
  }
  throw new ProtobufDecodeError(`address ${index} (field 3) is not a valid multiaddr`, offset)
}

/**
 * Decodes a WakuPeerRecord payload. ProtocolError('BAD_PEER_RECORD') with the byte offset on
 * malformed protobuf, an unreadable peer id or address, or a record without a peer id or addresses
 * (nwaku requires both). seqNo defaults to 0 and the mix key is optional, as in nwaku's proto3 codec.
 */
export function decodeWakuPeerRecord(bytes: Uint8Array, what = 'WakuPeerRecord'): DecodedWakuPeerRecord {
  try {
    let peer: {peerId: string; encoding: 'bytes' | 'string'} | undefined
    let seqNo = 0n
    const addresses: string[] = []
    let textAddresses = 0
    let mix: {key: string; encoding: 'hex-string' | 'bytes'} | undefined
    for (const f of readFields(bytes)) {
      if (f.field === 1) {
        if (f.wireType !== 2) throw new ProtobufDecodeError('peerId (field 1) must be length-delimited', f.offset)
        peer = decodePeerIdField(f.bytes!, f.offset)
      } else if (f.field === 2) {
        if (f.wireType !== 0) throw new ProtobufDecodeError('seqNo (field 2) must be a varint', f.offset)
        seqNo = f.value!
      } else if (f.field === 3) {
        if (f.wireType !== 2) throw new ProtobufDecodeError('addresses (field 3) must be length-delimited', f.offset)
        const a = decodeAddress(f.bytes!, f.offset, addresses.length)
        addresses.push(a.text)
        if (a.textForm) textAddresses++
      } else if (f.field === 4) {
        if (f.wireType !== 2) throw new ProtobufDecodeError('mixKey (field 4) must be length-delimited', f.offset)
        mix = decodeMixKey(f.bytes!)
      }
    }
    if (!peer) throw new ProtocolError('BAD_PEER_RECORD', `${what}: no peerId (field 1)`)
    if (addresses.length === 0) throw new ProtocolError('BAD_PEER_RECORD', `${what}: no addresses (field 3); nwaku refuses such records`)
    return {
      peerId: peer.peerId,
      seqNo,
      addresses,
      ...(mix ? {mixKey: mix.key, mixKeyEncoding: mix.encoding} : {}),
      peerIdEncoding: peer.encoding,
      textAddresses,
    }
  } catch (err) {
    if (isWakuDiscError(err)) throw err
    const detail = err instanceof ProtobufDecodeError ? err.message : String(err)
    throw new ProtocolError('BAD_PEER_RECORD', `${what}: ${detail}`, {
      cause: err,
      ...(err instanceof ProtobufDecodeError ? {details: {offset: err.offset}} : {}),
    })
  }
}

/** nwaku writes the key as hex text; the spec calls it bytes. Empty = no key (nwaku's client skips such peers). */
function decodeMixKey(bytes: Uint8Array): {key: string; encoding: 'hex-string' | 'bytes'} | undefined {
  if (bytes.length === 0) return undefined
  let text: string | undefined
  try {
    text = utf8.decode(bytes)
  } catch {
    text = undefined
  }
  if (text !== undefined && /^(?:[0-9a-fA-F]{2})+$/.test(text)) return {key: text.toLowerCase(), encoding: 'hex-string'}
  return {key: hex.encode(bytes), encoding: 'bytes'}
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The libp2p Record object RecordEnvelope seals: an already-encoded WakuPeerRecord payload. */
export function wakuPeerRecordEnvelopeRecord(payload: Uint8Array, payloadType: Uint8Array = WAKU_PEER_RECORD_PAYLOAD_TYPE): Record {
  return {
    domain: WAKU_PEER_RECORD_DOMAIN,
    codec: payloadType,
    marshal: () => payload,
    equals: (other: Record) => other.domain === WAKU_PEER_RECORD_DOMAIN && equalBytes(other.codec, payloadType) && equalBytes(other.marshal(), payload),
  }
}

/** Signs a record with `privateKey` and returns the marshalled envelope (what REGISTER carries). */
export async function sealWakuPeerRecord(record: WakuPeerRecordInit, privateKey: PrivateKey): Promise<Uint8Array> {
  const signer = peerIdFromPrivateKey(privateKey).toString()
  const peerId = record.peerId ?? signer
  if (parsePeerIdText(peerId, 'WakuPeerRecord').toString() !== signer) {
    throw new BadInputError('PEER_ID_NOT_SIGNER', `record peer id ${peerId} is not the signing key's peer id ${signer}`, {
      hint: 'a record can only be signed by the peer it describes',
    })
  }
  const payload = encodeWakuPeerRecord({...record, peerId})
  const envelope = await RecordEnvelope.seal(wakuPeerRecordEnvelopeRecord(payload), privateKey)
  return envelope.marshal()
}

export interface OpenWakuPeerRecordOptions {
  /** Also accept the first nwaku payload type (05 05). Default false: current nwaku refuses it. */
  acceptLegacyPayloadType?: boolean
  what?: string
}

/**
 * Verifies a signed envelope and decodes the WakuPeerRecord inside. Typed errors:
 * ProtocolError BAD_ENVELOPE (unreadable), WRONG_PAYLOAD_TYPE, BAD_PEER_RECORD (payload);
 * CheckFailedError BAD_RECORD_SIGNATURE, RECORD_KEY_MISMATCH (the signer is not the record's
 * peer; nwaku does not check this, a relaying rendezvous point could otherwise vouch for anyone).
 */
export async function openWakuPeerRecord(bytes: Uint8Array, options: OpenWakuPeerRecordOptions = {}): Promise<OpenedWakuPeerRecord> {
  const what = options.what ?? 'signed peer record'
  if (bytes.length === 0) throw new ProtocolError('BAD_ENVELOPE', `${what}: empty`)
  if (bytes.length > MAX_SIGNED_PEER_RECORD_BYTES) {
    throw new ProtocolError('BAD_ENVELOPE', `${what}: ${bytes.length} bytes, more than the ${MAX_SIGNED_PEER_RECORD_BYTES}-byte limit`)
  }
  let envelope: RecordEnvelope
  try {
    envelope = RecordEnvelope.createFromProtobuf(bytes)
  } catch (err) {
    throw new ProtocolError('BAD_ENVELOPE', `${what}: not a libp2p signed envelope (${(err as Error)?.message ?? String(err)})`, {cause: err})
  }
  const current = equalBytes(envelope.payloadType, WAKU_PEER_RECORD_PAYLOAD_TYPE)
  const legacy = equalBytes(envelope.payloadType, LEGACY_WAKU_PEER_RECORD_PAYLOAD_TYPE)
  if (!current && !(legacy && options.acceptLegacyPayloadType)) {
    throw new ProtocolError('WRONG_PAYLOAD_TYPE', `${what}: payload type ${hex.encode(envelope.payloadType) || '(empty)'} is not a WakuPeerRecord (300000)`, {
      details: {payloadType: hex.encode(envelope.payloadType)},
      ...(legacy ? {hint: '0505 is the payload type of the first nwaku WakuPeerRecord; current nwaku refuses it'} : {}),
    })
  }
  let valid: boolean
  try {
    valid = await envelope.validate(WAKU_PEER_RECORD_DOMAIN)
  } catch {
    // A malformed signature (bad DER, wrong length) throws in some key types instead of returning false.
    valid = false
  }
  if (!valid) throw new CheckFailedError('BAD_RECORD_SIGNATURE', `${what}: the envelope signature does not verify for domain ${WAKU_PEER_RECORD_DOMAIN}`)
  const record = decodeWakuPeerRecord(envelope.payload, what)
  let signer: string
  try {
    signer = peerIdFromPublicKey(envelope.publicKey).toString()
  } catch (err) {
    throw new ProtocolError('BAD_ENVELOPE', `${what}: unsupported signing key type ${envelope.publicKey.type}`, {cause: err})
  }
  if (signer !== record.peerId) {
    throw new CheckFailedError('RECORD_KEY_MISMATCH', `${what}: record for ${record.peerId} is signed by ${signer}`, {
      details: {recordPeerId: record.peerId, signer},
    })
  }
  return {
    ...record,
    publicKey: {type: envelope.publicKey.type, protobufHex: hex.encode(publicKeyToProtobuf(envelope.publicKey))},
    payloadType: hex.encode(envelope.payloadType),
    legacyPayloadType: legacy,
  }
}
