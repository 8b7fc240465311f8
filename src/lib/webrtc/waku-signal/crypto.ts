/**
 * The cryptography of WebRTC signalling over Waku relay (see messages.ts for the protocol).
 *
 * ECIES to the listener's static secp256k1 key: the dialer makes an ephemeral key per run, both
 * sides compute ECDH(ephemeral, static) (the x coordinate, OpenSSL through node:crypto), and
 * HKDF-SHA256 over it, with both public keys in the salt and the info, gives one key per
 * direction (dialer → listener: invitation and "applied"; listener → dialer: answer). Each message
 * is sealed with ChaCha20-Poly1305 under a fresh random 96-bit nonce, its clear header as the
 * associated data.
 *
 * Why not Noise XK (the seed's question)? XK is the right pattern (the initiator knows the
 * responder's static key, and the responder learns nothing about the initiator until the third
 * message), but no well-kept Noise library available here runs XK over discrete messages:
 * @chainsafe/libp2p-noise implements only XX, and only over a libp2p stream. A hand-rolled XK
 * state machine would be more new code to get wrong than ECIES, whose one-shot shape also fits a
 * pubsub network where each side publishes one message and may never hear back. What we give up:
 * the dialer stays anonymous to the listener (it has no static key at all), and there is no
 * forward secrecy for the invitation if the listener's static key later leaks (the answer is
 * protected by the same derived keys, so it shares that property). Runs are short and the keys
 * are ephemeral unless `--key` is given.
 */
import {createCipheriv, createDecipheriv, createECDH, createHash, hkdfSync, randomBytes} from 'node:crypto'

export const NONCE_BYTES = 12
export const TAG_BYTES = 16
export const PUBLIC_KEY_BYTES = 33
export const KEY_HINT_BYTES = 8
const PROTOCOL_LABEL = 'waku-disc/webrtc-signal/1'

/** ECDH on secp256k1: the 32-byte x coordinate of priv·pub; undefined when `publicKey` is not a valid point. */
export function ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  if (publicKey.length !== PUBLIC_KEY_BYTES && publicKey.length !== 65) return undefined
  try {
    const e = createECDH('secp256k1')
    e.setPrivateKey(privateKey)
    return new Uint8Array(e.computeSecret(publicKey))
  } catch {
    return undefined
  }
}

export interface SessionKeys {
  /** Seals what the dialer sends: the invitation and the "applied" notice. */
  toListener: Uint8Array
  /** Seals what the listener sends: the answer. */
  toDialer: Uint8Array
}

/** HKDF-SHA256 over the ECDH secret; salt and info carry both public keys (ephemeral first), so a key is bound to this pair. */
export function sessionKeys(shared: Uint8Array, ephemeralPublic: Uint8Array, staticPublic: Uint8Array): SessionKeys {
  const keys = Buffer.concat([ephemeralPublic, staticPublic])
  const salt = createHash('sha256').update(PROTOCOL_LABEL).update(keys).digest()
  const derive = (direction: string) => new Uint8Array(hkdfSync('sha256', shared, salt, Buffer.concat([Buffer.from(`${PROTOCOL_LABEL} ${direction}`), keys]), 32))
  return {toListener: derive('dialer->listener'), toDialer: derive('listener->dialer')}
}

/** 8 bytes naming the recipient's static key in an invitation header (the content topic names it anyway), so a wrong-key invitation is refused before any ECDH. */
export function keyHint(staticPublic: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`${PROTOCOL_LABEL} key-hint`).update(staticPublic).digest().subarray(0, KEY_HINT_BYTES))
}

/** ChaCha20-Poly1305 with a random nonce: returns the nonce and ciphertext ‖ tag. */
export function seal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): {nonce: Uint8Array; sealed: Uint8Array} {
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES))
  const c = createCipheriv('chacha20-poly1305', key, nonce, {authTagLength: TAG_BYTES})
  c.setAAD(aad, {plaintextLength: plaintext.length})
  const body = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()])
  return {nonce, sealed: new Uint8Array(body)}
}

/** Opens `sealed` (ciphertext ‖ tag); undefined when the tag does not verify (wrong key, or any byte of nonce, header or body changed). */
export function open(key: Uint8Array, aad: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) return undefined
  try {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, {authTagLength: TAG_BYTES})
    d.setAAD(aad, {plaintextLength: sealed.length - TAG_BYTES})
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]))
  } catch {
    return undefined
  }
}

/** A fresh ephemeral secp256k1 key pair (the compressed public key). */
export function ephemeralKeyPair(): {privateKey: Uint8Array; publicKey: Uint8Array} {
  const e = createECDH('secp256k1')
  e.generateKeys()
  const raw = e.getPrivateKey()
  const privateKey = new Uint8Array(32)
  privateKey.set(raw, 32 - raw.length) // OpenSSL drops leading zero bytes
  return {privateKey, publicKey: new Uint8Array(e.getPublicKey(undefined, 'compressed'))}
}
