/**
 * ENR text forms: `enr:` + unpadded base64url (EIP-778), bare base64url, or hex RLP.
 * Base64 is validated strictly (alphabet, no padding, no non-zero trailing bits) because Node's
 * Buffer base64 decoder accepts all of those silently.
 */
import {base64urlnopad, hex} from '@scure/base'

import {BadInputError} from '../errors.js'

const B64URL = /^[A-Za-z0-9_-]*$/
const HEX = /^[0-9a-fA-F]*$/

function describeChar(c: string): string {
  const code = c.codePointAt(0)!
  return code >= 0x21 && code <= 0x7e ? `'${c}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Strict unpadded base64url decoding with a precise error for each way text can be wrong. */
export function decodeBase64url(text: string, what = 'ENR'): Uint8Array {
  if (!B64URL.test(text)) {
    const pad = text.indexOf('=')
    if (pad !== -1 && /^[A-Za-z0-9_-]*=+$/.test(text)) {
      throw new BadInputError('ENR_BASE64_PADDING', `${what} base64 has '=' padding at character ${pad}; EIP-778 text omits padding`)
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!
      if (!/[A-Za-z0-9_-]/.test(c)) {
        const hint = c === '+' || c === '/' ? " (standard base64; ENR text uses the URL-safe alphabet '-' and '_')" : ''
        throw new BadInputError('ENR_BASE64_ALPHABET', `${what} base64 has invalid character ${describeChar(c)} at position ${i}${hint}`)
      }
    }
  }
  if (text.length % 4 === 1) {
    throw new BadInputError('ENR_BASE64_LENGTH', `${what} base64 is ${text.length} characters long; a length of 4k+1 cannot encode whole bytes (truncated?)`)
  }
  try {
    return base64urlnopad.decode(text)
  } catch {
    // Only non-zero trailing bits remain possible at this point.
    throw new BadInputError('ENR_BASE64_TRAILING_BITS', `${what} base64 has non-zero trailing bits in its last character '${text.at(-1)}' (not the canonical encoding)`)
  }
}

export function encodeBase64url(bytes: Uint8Array): string {
  return base64urlnopad.encode(bytes)
}

/**
 * Turns any accepted ENR input into RLP bytes: `enr:` text (prefix case-insensitive), bare
 * base64url, hex RLP (optional 0x), or bytes. Leading/trailing whitespace of the whole token is
 * trimmed; nothing else is forgiven.
 */
export function enrInputToBytes(input: string | Uint8Array): {bytes: Uint8Array; form: 'text' | 'base64' | 'hex' | 'bytes'} {
  if (input instanceof Uint8Array) return {bytes: input, form: 'bytes'}
  if (typeof input !== 'string') throw new BadInputError('ENR_INPUT_TYPE', 'ENR input must be a string or bytes')
  const t = input.trim()
  if (t.length === 0) throw new BadInputError('ENR_EMPTY', 'ENR input is empty')
  if (/^enr:/i.test(t)) {
    const body = t.slice(4)
    if (body.length === 0) throw new BadInputError('ENR_EMPTY', "ENR text has nothing after 'enr:'")
    return {bytes: decodeBase64url(body), form: 'text'}
  }
  if (/^enode:/i.test(t)) throw new BadInputError('ENR_ENODE_URL', 'this is an enode:// URL, not an ENR (an enode URL carries no signature or Waku fields)')
  if (/^0x/i.test(t)) {
    const h = t.slice(2)
    if (!HEX.test(h)) throw new BadInputError('ENR_HEX', `ENR hex has a non-hex character at position ${2 + h.search(/[^0-9a-fA-F]/)}`)
    if (h.length % 2 !== 0) throw new BadInputError('ENR_HEX', `ENR hex has an odd number of digits (${h.length})`)
    return {bytes: hex.decode(h.toLowerCase()), form: 'hex'}
  }
  // Bare hex RLP of a record starts with a list header (c0-ff); the base64url text of any RLP list
  // starts with one of w-z, 0-9, '-' or '_' (never a-f), so an all-hex token starting c-f is hex.
  if (HEX.test(t) && /^[c-fC-F]/.test(t)) {
    if (t.length % 2 !== 0) throw new BadInputError('ENR_HEX', `ENR hex has an odd number of digits (${t.length})`)
    return {bytes: hex.decode(t.toLowerCase()), form: 'hex'}
  }
  return {bytes: decodeBase64url(t), form: 'base64'}
}
