/**
 * 66/WAKU2-METADATA (`/vac/waku/metadata/1.0.0`) request and response:
 *   { cluster_id = 1: optional uint32; shards = 2: repeated uint32 (deprecated); shards = 3: packed uint32 }
 * nwaku (waku/waku_metadata/rpc.nim) writes field 2 unpacked AND field 3 packed, and reads packed 3,
 * then packed 2, then unpacked 2; the spec's proto3 form packs field 2; go-waku has 3 packed and 2
 * as `shards_deprecated`; js-waku answers with the cluster id only.
 */
import {ProtocolError} from '../errors.js'
import {ProtoWriter, ProtobufDecodeError, readFields, readPackedVarints} from '../libp2p/protobuf.js'

export interface WakuMetadata {
  clusterId?: number
  shards: number[]
  /** Where the shards came from: nwaku's field 3, the older field 2, or nowhere. */
  shardsField: 'field3' | 'field2' | 'none'
  /** Set when fields 2 and 3 were both present and disagree. */
  fieldMismatch?: {field2: number[]; field3: number[]}
}

/** 'nwaku': field 2 unpacked plus field 3 packed (always written); 'spec': field 2 packed. */
export type MetadataStyle = 'nwaku' | 'spec'

export function encodeMetadata(clusterId: number | undefined, shards: readonly number[], style: MetadataStyle = 'nwaku'): Uint8Array {
  const w = new ProtoWriter()
  if (clusterId !== undefined) w.varint(1, clusterId)
  if (style === 'nwaku') {
    for (const s of shards) w.varint(2, s)
    w.packedVarints(3, shards)
  } else if (shards.length > 0) {
    w.packedVarints(2, shards)
  }
  return w.finish()
}

/** Largest shard index a relay-sharded network can use (rs/rsv hold 1024 shards). */
export const MAX_SHARD = 1023

export function decodeMetadata(bytes: Uint8Array, what = 'metadata response'): WakuMetadata {
  let clusterId: number | undefined
  let field2: bigint[] | undefined
  let field3: bigint[] | undefined
  try {
    for (const f of readFields(bytes)) {
      if (f.field === 1) {
        if (f.wireType !== 0) throw new ProtobufDecodeError('cluster_id must be a varint', f.offset)
        if (f.value! > 0xffff_ffffn) throw new ProtobufDecodeError('cluster_id exceeds uint32', f.offset)
        clusterId = Number(f.value)
      } else if (f.field === 2 || f.field === 3) {
        const values = f.wireType === 2 ? readPackedVarints(f.bytes!) : f.wireType === 0 ? [f.value!] : undefined
        if (!values) throw new ProtobufDecodeError(`shards (field ${f.field}) must be varints`, f.offset)
        if (f.field === 2) field2 = [...(field2 ?? []), ...values]
        else field3 = [...(field3 ?? []), ...values]
      }
    }
  } catch (err) {
    const detail = err instanceof ProtobufDecodeError ? err.message : String(err)
    throw new ProtocolError('BAD_PROTOBUF', `${what}: malformed protobuf: ${detail}`, {cause: err})
  }
  // Like nwaku: packed field 3 first, then field 2 (an empty field 3 defers to a non-empty field 2).
  const use3 = field3 !== undefined && (field3.length > 0 || field2 === undefined || field2.length === 0)
  const chosen = use3 ? field3 : field2
  const shards: number[] = []
  for (const v of chosen ?? []) {
    if (v > BigInt(MAX_SHARD)) {
      throw new ProtocolError('BAD_SHARD', `${what}: shard ${v} is outside 0..${MAX_SHARD}`, {details: {shard: v.toString()}})
    }
    shards.push(Number(v))
  }
  const result: WakuMetadata = {shards, shardsField: use3 ? 'field3' : field2 !== undefined ? 'field2' : 'none'}
  if (clusterId !== undefined) result.clusterId = clusterId
  if (field2 !== undefined && field3 !== undefined && field2.join(',') !== field3.join(',')) {
    result.fieldMismatch = {field2: field2.map(Number), field3: field3.map(Number)}
  }
  return result
}
