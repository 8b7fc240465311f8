/**
 * One varint-length-prefixed message each way over a libp2p stream, with the three guards every
 * read of a peer-controlled stream needs: a byte cap checked against the declared length before
 * buffering, a single-frame read (we never wait for more), and an absolute deadline through the
 * AbortSignal (an idle timeout would not stop a peer dripping one byte a second).
 */
import type {Stream} from '@libp2p/interface'

import {ProtocolError, UnreachableError, abortError, type WakuDiscError} from '../errors.js'
import {lengthPrefixed} from './protobuf.js'

export interface ReadFrameOptions {
  /** Largest message accepted (bytes, excluding the length prefix). */
  maxBytes: number
  signal: AbortSignal
  /** What is being read, for error messages ("peer-exchange response"). */
  what: string
}

export interface Frame {
  message: Uint8Array
  /** Bytes that arrived after the frame in the same chunk (a protocol slip, reported not fatal). */
  trailingBytes: number
}

function toBytes(chunk: Uint8Array | {subarray(): Uint8Array}): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

/** Reads exactly one length-prefixed frame, failing with a typed error on anything else. */
export async function readFrame(stream: Stream, options: ReadFrameOptions): Promise<Frame> {
  const {maxBytes, signal, what} = options
  if (signal.aborted) throw abortError(signal, what)
  let buf = new Uint8Array(0)
  let expected: number | undefined
  let headerLen = 0
  const onAbort = () => stream.abort(new Error(`${what}: deadline reached`))
  signal.addEventListener('abort', onAbort, {once: true})
  try {
    for await (const raw of stream) {
      const chunk = toBytes(raw)
      const next = new Uint8Array(buf.length + chunk.length)
      next.set(buf)
      next.set(chunk, buf.length)
      buf = next
      if (expected === undefined) {
        const header = parseLengthHeader(buf, what)
        if (header) {
          expected = header.length
          headerLen = header.headerLength
          if (expected > maxBytes) {
            throw new ProtocolError('FRAME_TOO_LARGE', `${what} declares ${expected} bytes, more than the ${maxBytes}-byte limit`, {
              details: {declared: expected, limit: maxBytes},
            })
          }
        }
      }
      if (expected !== undefined && buf.length >= headerLen + expected) {
        return {message: buf.slice(headerLen, headerLen + expected), trailingBytes: buf.length - headerLen - expected}
      }
    }
  } catch (err) {
    if (signal.aborted) throw abortError(signal, what)
    if (isOurs(err)) throw err
    throw new UnreachableError('STREAM_RESET', `${what}: stream failed: ${(err as Error).message}`, {cause: err})
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (signal.aborted) throw abortError(signal, what)
  if (buf.length === 0) throw new ProtocolError('EMPTY_RESPONSE', `${what}: the remote closed the stream without answering`)
  if (expected === undefined) throw new ProtocolError('TRUNCATED_FRAME', `${what}: stream ended inside the length prefix`)
  throw new ProtocolError('TRUNCATED_FRAME', `${what}: stream ended after ${buf.length - headerLen} of ${expected} bytes`, {
    details: {received: buf.length - headerLen, declared: expected},
  })
}

function isOurs(err: unknown): err is WakuDiscError {
  return err instanceof ProtocolError || err instanceof UnreachableError
}

/** Parses the varint length prefix (≤ 5 bytes: a frame > 4 GiB is never acceptable). */
function parseLengthHeader(buf: Uint8Array, what: string): {length: number; headerLength: number} | undefined {
  let value = 0
  for (let i = 0; i < buf.length; i++) {
    if (i >= 5) throw new ProtocolError('BAD_LENGTH_PREFIX', `${what}: length prefix longer than 5 bytes`)
    const b = buf[i]!
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return {length: value, headerLength: i + 1}
  }
  return undefined
}

/** Writes one length-prefixed message, waiting for the transport to drain if it is backed up. */
export async function writeFrame(stream: Stream, message: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(lengthPrefixed(message))) await stream.onDrain({signal})
}
