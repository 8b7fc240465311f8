import {hex} from '@scure/base'

/** Lowercase hex without prefix (through a Buffer view: no copy; it is on the crawler's hot path). */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Decodes hex (optional 0x, either case); throws a plain Error on bad input, callers wrap it. */
export function hexToBytes(text: string): Uint8Array {
  const t = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text
  return hex.decode(t.toLowerCase())
}
