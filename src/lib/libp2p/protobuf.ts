/**
 * A minimal protobuf wire reader/writer for the three tiny Waku messages we speak (peer exchange,
 * metadata). Hand-written rather than generated with protons because we must reproduce nwaku's
 * exact layout (sub-messages and scalars always written, shards both unpacked in field 2 and packed
 * in field 3) and we want every malformed byte reported with its offset, never a generic throw.
 */

export type WireType = 0 | 1 | 2 | 5

/** Raised by the reader; callers wrap it in their own typed error with context. */
export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError'
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`)
  }
}

export interface ProtoField {
  field: number
  wireType: WireType
  /** varint / fixed value for wire types 0, 1, 5. */
  value?: bigint
  /** payload for wire type 2 */
  bytes?: Uint8Array
  offset: number
}

/** Reads one unsigned varint (≤ 10 bytes, ≤ 2^64-1). */
export function readVarint(buf: Uint8Array, start: number): {value: bigint; next: number} {
  let value = 0n
  let shift = 0n
  for (let i = start; i < buf.length && i < start + 10; i++) {
    const b = buf[i]!
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      if (value > 0xffff_ffff_ffff_ffffn) throw new ProtobufDecodeError('varint overflows 64 bits', start)
      return {value, next: i + 1}
    }
    shift += 7n
  }
  if (buf.length - start >= 10) throw new ProtobufDecodeError('varint longer than 10 bytes', start)
  throw new ProtobufDecodeError('truncated varint', start)
}

export function encodeVarint(value: number | bigint): Uint8Array {
  let v = BigInt(value)
  if (v < 0n) throw new RangeError('varint must be non-negative')
  const out: number[] = []
  do {
    let b = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) b |= 0x80
    out.push(b)
  } while (v > 0n)
  return Uint8Array.from(out)
}

/** Splits a message into its fields (one level), validating wire types and lengths. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = []
  let pos = 0
  while (pos < buf.length) {
    const offset = pos
    const tag = readVarint(buf, pos)
    pos = tag.next
    const field = Number(tag.value >> 3n)
    const wireType = Number(tag.value & 7n)
    if (field === 0 || tag.value >> 3n > 0x1fff_ffffn) throw new ProtobufDecodeError(`invalid field number ${tag.value >> 3n}`, offset)
    switch (wireType) {
      case 0: {
        const v = readVarint(buf, pos)
        fields.push({field, wireType: 0, value: v.value, offset})
        pos = v.next
        break
      }
      case 1:
      case 5: {
        const size = wireType === 1 ? 8 : 4
        if (pos + size > buf.length) throw new ProtobufDecodeError(`truncated fixed${size * 8} field ${field}`, offset)
        let value = 0n
        for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(buf[pos + i]!)
        fields.push({field, wireType, value, offset})
        pos += size
        break
      }
      case 2: {
        const len = readVarint(buf, pos)
        pos = len.next
        if (len.value > BigInt(buf.length - pos)) {
          throw new ProtobufDecodeError(`field ${field} claims ${len.value} bytes but only ${buf.length - pos} remain`, offset)
        }
        const n = Number(len.value)
        fields.push({field, wireType: 2, bytes: buf.subarray(pos, pos + n), offset})
        pos += n
        break
      }
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType} for field ${field}`, offset)
    }
  }
  return fields
}

/** Builds a message from (field, value) parts in the order given. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = []

  varint(field: number, value: number | bigint): this {
    this.parts.push(encodeVarint((field << 3) | 0), encodeVarint(value))
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.parts.push(encodeVarint((field << 3) | 2), encodeVarint(value.length), value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  packedVarints(field: number, values: readonly number[]): this {
    return this.bytes(field, concatBytes(values.map((v) => encodeVarint(v))))
  }

  finish(): Uint8Array {
    return concatBytes(this.parts)
  }
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}

/** Prefixes a message with its unsigned-varint length (libp2p's length-prefixed framing). */
export function lengthPrefixed(message: Uint8Array): Uint8Array {
  return concatBytes([encodeVarint(message.length), message])
}

/** Decodes a packed run of varints (wire type 2 payload). */
export function readPackedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = []
  let pos = 0
  while (pos < bytes.length) {
    const v = readVarint(bytes, pos)
    out.push(v.value)
    pos = v.next
  }
  return out
}
