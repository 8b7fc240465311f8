/**
 * secp256k1 node and signing keys: generation, identities (node id, libp2p peer id, enrtree key
 * form), signing/verification of 32-byte digests, and key files in go-ethereum's formats (64 hex
 * characters, or an encrypted keystore v3 JSON).
 */
import {secp256k1} from '@noble/curves/secp256k1.js'
import {keccak_256} from '@noble/hashes/sha3.js'
import {base32, base58} from '@scure/base'
import {publicKeyFromRaw} from '@libp2p/crypto/keys'
import {peerIdFromPublicKey} from '@libp2p/peer-id'

import {BadInputError} from '../errors.js'
import {bytesToHex, hexToBytes} from './hex.js'

import {derivePublicKey, parsePoint, signCompact, verifyCompact} from './secp256k1.js'
import {readKeyFile, resolvePassword, writeHexKeyFile, writeKeystoreFile, type KeyFileFormat, type LoadKeyOptions} from './files.js'

export {loadPrivateKey, readKeyFile, writeHexKeyFile, writeKeystoreFile, decryptKeystore, encryptKeystore, KEYSTORE_LIMITS} from './files.js'
export {secp256k1Backend, setSecp256k1Backend, type Secp256k1Backend} from './secp256k1.js'
export type {KeystoreV3, LoadKeyOptions, WriteKeyOptions, KeyFileFormat} from './files.js'

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data)
}

/** A fresh random secp256k1 private key (32 bytes) from the platform CSPRNG. */
export function generatePrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey()
}

/** True when `key` is a 32-byte scalar in [1, n-1]. */
export function isValidPrivateKey(key: Uint8Array): boolean {
  return key instanceof Uint8Array && key.length === 32 && secp256k1.utils.isValidSecretKey(key)
}

function assertPrivateKey(key: Uint8Array): void {
  if (!isValidPrivateKey(key)) throw new BadInputError('KEY_INVALID', 'private key must be 32 bytes and a valid secp256k1 scalar (1 ≤ k < n)')
}

/** The 33-byte compressed public key of a private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  assertPrivateKey(privateKey)
  return derivePublicKey(privateKey)
}

/**
 * Parses a compressed (33 bytes) or uncompressed (65 bytes, or 64 without the 0x04 prefix) public
 * key and returns the curve point; BadInputError when it is not a point on secp256k1.
 */
export function parsePublicKey(publicKey: Uint8Array): InstanceType<typeof secp256k1.Point> {
  let bytes = publicKey
  if (bytes.length === 64) {
    bytes = new Uint8Array(65)
    bytes[0] = 4
    bytes.set(publicKey, 1)
  }
  if (bytes.length !== 33 && bytes.length !== 65) {
    throw new BadInputError('KEY_PUBLIC_LENGTH', `public key must be 33 (compressed) or 65 bytes, got ${publicKey.length}`)
  }
  try {
    return parsePoint(bytes)
  } catch {
    throw new BadInputError('KEY_PUBLIC_INVALID', 'public key is not a point on secp256k1')
  }
}

/** 64 bytes x||y of a public key (the node id is keccak256 of this). */
export function uncompressedXY(publicKey: Uint8Array): Uint8Array {
  return parsePublicKey(publicKey).toBytes(false).subarray(1)
}

/** The discv5/devp2p node id: keccak256(x||y), lowercase hex. */
export function nodeIdOf(publicKey: Uint8Array): string {
  return bytesToHex(keccak256(uncompressedXY(publicKey)))
}

// libp2p PublicKey protobuf {Type: Secp256k1 (2), Data: 33 bytes} = 08 02 12 21 ‖ key, wrapped in an
// identity multihash (00 25); the peer id string is its base58btc form.
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x25, 0x08, 0x02, 0x12, 0x21)

/**
 * The libp2p peer id (`16Uiu2…`) of a secp256k1 public key (identity multihash of its protobuf
 * form). Pass `validated: true` for a compressed key already known to be on the curve: the id is
 * then built directly (5× faster than going through @libp2p/crypto, which re-validates the point;
 * tests check both give the same string).
 */
export function peerIdOf(publicKey: Uint8Array, options: {validated?: boolean} = {}): string {
  if (options.validated && publicKey.length === 33) {
    const bytes = new Uint8Array(PEER_ID_PREFIX.length + 33)
    bytes.set(PEER_ID_PREFIX)
    bytes.set(publicKey, PEER_ID_PREFIX.length)
    return base58.encode(bytes)
  }
  const compressed = publicKey.length === 33 ? publicKey : parsePublicKey(publicKey).toBytes(true)
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(compressed)).toString()
  } catch (error) {
    throw new BadInputError('KEY_PUBLIC_INVALID', 'public key is not a point on secp256k1', {cause: error})
  }
}

/** The `enrtree://` public key form: unpadded RFC 4648 base32 of the compressed key (geth format). */
export function enrtreeKeyOf(publicKey: Uint8Array): string {
  const compressed = publicKey.length === 33 ? publicKey : parsePublicKey(publicKey).toBytes(true)
  return base32.encode(compressed).replace(/=+$/, '')
}

export interface KeyIdentity {
  /** 33-byte compressed key, hex. */
  publicKey: string
  /** 65-byte uncompressed key (0x04 ‖ x ‖ y), hex. */
  publicKeyUncompressed: string
  nodeId: string
  peerId: string
  /** base32 form used in `enrtree://<key>@<domain>`. */
  enrtreeKey: string
}

export function keyIdentity(publicKey: Uint8Array): KeyIdentity {
  const point = parsePublicKey(publicKey)
  const compressed = point.toBytes(true)
  const uncompressed = point.toBytes(false)
  return {
    publicKey: bytesToHex(compressed),
    publicKeyUncompressed: bytesToHex(uncompressed),
    nodeId: bytesToHex(keccak256(uncompressed.subarray(1))),
    peerId: peerIdOf(compressed),
    enrtreeKey: enrtreeKeyOf(compressed),
  }
}

/** Ethereum address (last 20 bytes of keccak256(x||y)), lowercase hex without 0x. */
export function addressOf(publicKey: Uint8Array): string {
  return bytesToHex(keccak256(uncompressedXY(publicKey)).subarray(12))
}

/** Signs a 32-byte digest: 65 bytes r ‖ s ‖ v (v = recovery id 0/1), RFC 6979 nonces, low-s; the same bytes on either backend. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) throw new BadInputError('SIGN_DIGEST_LENGTH', 'digest to sign must be 32 bytes')
  assertPrivateKey(privateKey)
  const {signature, recovery} = signCompact(digest, privateKey)
  const out = new Uint8Array(65)
  out.set(signature, 0)
  out[64] = recovery
  return out
}

/**
 * Verifies a 64-byte r‖s (or 65-byte r‖s‖v, v ignored) signature over a 32-byte digest. Rejects
 * high-s signatures like go-ethereum, r or s of 0 or ≥ n, and keys that are not canonical SEC1
 * points. Never throws: malformed inputs verify as false. Runs on libsecp256k1 when its addon loads
 * (see secp256k1.ts), with exactly the same verdicts as the @noble/curves fallback.
 */
export function verifyDigest(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || (signature.length !== 64 && signature.length !== 65)) return false
  if (!(digest instanceof Uint8Array) || digest.length !== 32) return false
  if (!(publicKey instanceof Uint8Array)) return false
  return verifyCompact(signature.subarray(0, 64), digest, publicKey)
}

/** Recovers the compressed public key from a 65-byte r‖s‖v signature; undefined when impossible. */
export function recoverPublicKey(signature: Uint8Array, digest: Uint8Array): Uint8Array | undefined {
  if (signature.length !== 65 || digest.length !== 32) return undefined
  const v = signature[64]!
  const recovery = v >= 27 ? v - 27 : v
  if (recovery > 3) return undefined
  try {
    const rec = new Uint8Array(65)
    rec[0] = recovery
    rec.set(signature.subarray(0, 64), 1)
    return secp256k1.recoverPublicKey(rec, digest, {prehash: false})
  } catch {
    return undefined
  }
}

/** Parses a private key from hex text (64 hex characters, optional 0x); BadInputError otherwise. */
export function privateKeyFromHex(text: string): Uint8Array {
  const t = text.trim().replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new BadInputError('KEY_HEX_FORMAT', 'private key must be 64 hex characters')
  const key = hexToBytes(t)
  if (!isValidPrivateKey(key)) throw new BadInputError('KEY_INVALID', 'private key is not a valid secp256k1 scalar (zero or ≥ curve order)')
  return key
}

export interface KeyFileInfo extends KeyIdentity {
  path: string
  format: KeyFileFormat
  /** Ethereum address of the key (keystore files carry it), lowercase hex without 0x. */
  address: string
}

/** Generates a key and writes it (hex or keystore; the password comes from the options or WAKU_DISC_KEY_PASSWORD). */
export async function generateKeyFile(
  path: string,
  options: {keystore?: boolean; scryptN?: number; overwrite?: boolean} & LoadKeyOptions = {},
): Promise<KeyFileInfo> {
  const privateKey = generatePrivateKey()
  if (options.keystore) {
    const password = await resolvePassword(options, 'the new keystore')
    await writeKeystoreFile(path, privateKey, password, {scryptN: options.scryptN, overwrite: options.overwrite})
  } else {
    await writeHexKeyFile(path, privateKey, {overwrite: options.overwrite})
  }
  const pub = publicKeyOf(privateKey)
  privateKey.fill(0)
  return {path, format: options.keystore ? 'keystore' : 'hex', ...keyIdentity(pub), address: addressOf(pub)}
}

/** Reads a key file and returns its public identity (never the secret). */
export async function showKeyFile(path: string, options: LoadKeyOptions = {}): Promise<KeyFileInfo> {
  const {privateKey, format} = await readKeyFile(path, options)
  const pub = publicKeyOf(privateKey)
  privateKey.fill(0)
  return {path, format, ...keyIdentity(pub), address: addressOf(pub)}
}
