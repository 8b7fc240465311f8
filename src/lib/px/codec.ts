/**
 * 34/WAKU2-PEER-EXCHANGE messages, as nwaku writes them (waku/waku_peer_exchange/rpc_codec.nim):
 *
 *   PeerExchangeRPC      { query = 1: PeerExchangeQuery; response = 2: PeerExchangeResponse }
 *   PeerExchangeQuery    { num_peers = 1: uint64 }
 *   PeerExchangeResponse { peer_infos = 1: repeated PeerInfo; status_code = 10: uint32; status_desc = 11: string }
 *   PeerInfo             { enr = 1: bytes }
 *
 * Fields 10 and 11 are nwaku's extension (logos-messaging/specs PR #39).
 */
import {ProtocolError} from '../errors.js'
import {ProtoWriter, ProtobufDecodeError, readFields} from '../libp2p/protobuf.js'
import {codeName} from '../code-names.js'

export const PX_STATUS = {
  UNKNOWN: 0,
  SUCCESS: 200,
  BAD_REQUEST: 400,
  BAD_RESPONSE: 401,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  DIAL_FAILURE: 599,
} as const
export type PxStatusName = keyof typeof PX_STATUS

export function pxStatusName(code: number): PxStatusName | undefined {
  return codeName(PX_STATUS, code)
}

export interface PxQuery {
  numPeers: bigint
}

export interface PxResponse {
  /** One entry per PeerInfo, in order; undefined when a PeerInfo carried no enr field. */
  enrs: Array<Uint8Array | undefined>
  statusCode?: number
  statusDesc?: string
}

export interface PxRpc {
  query?: PxQuery
  response?: PxResponse
}

/**
 * Wire layouts: 'minimal' writes only what is set (js-waku, go-waku); 'nwaku' always writes both
 * sub-messages and the status code, as nwaku's minprotobuf encoder does.
 */
export type PxStyle = 'minimal' | 'nwaku'

export function encodeQuery(numPeers: number | bigint, style: PxStyle = 'minimal'): Uint8Array {
  const w = new ProtoWriter().bytes(1, new ProtoWriter().varint(1, numPeers).finish())
  if (style === 'nwaku') w.bytes(2, new ProtoWriter().varint(10, PX_STATUS.UNKNOWN).finish())
  return w.finish()
}

export interface EncodeResponseOptions {
  enrs: readonly Uint8Array[]
  statusCode?: number
  statusDesc?: string
  style?: PxStyle
}

export function encodeResponse(options: EncodeResponseOptions): Uint8Array {
  const style = options.style ?? 'nwaku'
  const inner = new ProtoWriter()
  for (const enr of options.enrs) inner.bytes(1, new ProtoWriter().bytes(1, enr).finish())
  const status = options.statusCode ?? (style === 'nwaku' ? PX_STATUS.SUCCESS : undefined)
  if (status !== undefined) inner.varint(10, status)
  if (options.statusDesc !== undefined) inner.string(11, options.statusDesc)
  const w = new ProtoWriter()
  if (style === 'nwaku') w.bytes(1, new ProtoWriter().varint(1, 0).finish())
  return w.bytes(2, inner.finish()).finish()
}

function fail(what: string, err: unknown): never {
  const detail = err instanceof ProtobufDecodeError ? err.message : String(err)
  throw new ProtocolError('BAD_PROTOBUF', `${what}: malformed protobuf: ${detail}`, {cause: err})
}

/** Decodes a PeerExchangeRPC. Unknown fields are skipped; wrong wire types are errors. */
export function decodeRpc(bytes: Uint8Array, what = 'peer-exchange message'): PxRpc {
  const rpc: PxRpc = {}
  try {
    for (const f of readFields(bytes)) {
      if (f.field === 1) {
        if (f.wireType !== 2) throw new ProtobufDecodeError('query (field 1) must be a message', f.offset)
        let numPeers = 0n
        for (const q of readFields(f.bytes!)) {
          if (q.field === 1) {
            if (q.wireType !== 0) throw new ProtobufDecodeError('num_peers must be a varint', f.offset)
            numPeers = q.value!
          }
        }
        rpc.query = {numPeers}
      } else if (f.field === 2) {
        if (f.wireType !== 2) throw new ProtobufDecodeError('response (field 2) must be a message', f.offset)
        const response: PxResponse = rpc.response ?? {enrs: []}
        for (const r of readFields(f.bytes!)) {
          if (r.field === 1) {
            if (r.wireType !== 2) throw new ProtobufDecodeError('peer_infos (field 1) must be messages', r.offset)
            let enr: Uint8Array | undefined
            for (const p of readFields(r.bytes!)) {
              if (p.field === 1) {
                if (p.wireType !== 2) throw new ProtobufDecodeError('PeerInfo.enr must be bytes', p.offset)
                enr = p.bytes
              }
            }
            response.enrs.push(enr)
          } else if (r.field === 10) {
            if (r.wireType !== 0) throw new ProtobufDecodeError('status_code (field 10) must be a varint', r.offset)
            if (r.value! > 0xffff_ffffn) throw new ProtobufDecodeError('status_code exceeds uint32', r.offset)
            response.statusCode = Number(r.value)
          } else if (r.field === 11) {
            if (r.wireType !== 2) throw new ProtobufDecodeError('status_desc (field 11) must be a string', r.offset)
            response.statusDesc = new TextDecoder('utf-8', {fatal: true}).decode(r.bytes!)
          }
        }
        rpc.response = response
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    fail(what, err)
  }
  return rpc
}

/**
 * The status a response means, the way nwaku reads it: the code when present (nwaku maps codes it
 * does not know to UNKNOWN; we keep the number and name it), otherwise SUCCESS with peers and
 * SERVICE_UNAVAILABLE without.
 */
export function effectiveStatus(response: PxResponse): {code: number; name: string; explicit: boolean} {
  if (response.statusCode !== undefined) {
    return {code: response.statusCode, name: pxStatusName(response.statusCode) ?? 'UNRECOGNISED', explicit: true}
  }
  const code = response.enrs.length > 0 ? PX_STATUS.SUCCESS : PX_STATUS.SERVICE_UNAVAILABLE
  return {code, name: pxStatusName(code)!, explicit: false}
}
