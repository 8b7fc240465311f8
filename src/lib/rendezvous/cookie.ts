/**
 * The DISCOVER paging cookie, in nim-libp2p's layout (protobuf {offset = 1: uint64; ns = 2: string})
 * so nim clients can page through our point too: an offset into the point's registrations in
 * arrival order, and the namespace it was issued for.
 */
import {ProtoWriter, ProtobufDecodeError, readFields} from '../libp2p/protobuf.js'

export interface RendezvousCookie {
  offset: bigint
  ns?: string
}

export function encodeCookie(cookie: RendezvousCookie): Uint8Array {
  const w = new ProtoWriter().varint(1, cookie.offset)
  if (cookie.ns !== undefined) w.string(2, cookie.ns)
  return w.finish()
}

/** undefined when the bytes are not one of our (or nim-libp2p's) cookies. */
export function decodeCookie(bytes: Uint8Array): RendezvousCookie | undefined {
  try {
    let offset: bigint | undefined
    let ns: string | undefined
    for (const f of readFields(bytes)) {
      if (f.field === 1) {
        if (f.wireType !== 0) return undefined
        offset = f.value
      } else if (f.field === 2) {
        if (f.wireType !== 2) return undefined
        ns = new TextDecoder('utf-8', {fatal: true}).decode(f.bytes!)
      }
    }
    return offset === undefined ? undefined : {offset, ...(ns !== undefined ? {ns} : {})}
  } catch (err) {
    if (err instanceof ProtobufDecodeError || err instanceof TypeError) return undefined
    throw err
  }
}
