import {hex} from '@scure/base'

/** Lowercase hex without prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  return hex.encode(bytes)
}

/** Decodes hex (optional 0x, either case); throws a plain Error on bad input, callers wrap it. */
export function hexToBytes(text: string): Uint8Array {
  const t = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text
  return hex.decode(t.toLowerCase())
}
