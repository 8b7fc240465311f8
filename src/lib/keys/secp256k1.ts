/**
 * The secp256k1 primitives the rest of the library uses (verify, sign, public key derivation and
 * decompression), on libsecp256k1 through the `secp256k1` package's native addon when it loads
 * (its prebuilt binaries ship inside the npm package, so no install script or compiler is needed),
 * and on @noble/curves otherwise. libsecp256k1 verifies ~25× faster than @noble/curves here.
 *
 * Both backends give the same answer on every input (test/lib/keys/backend.test.ts checks it
 * differentially): verification is over a 32-byte digest as given (no hashing), rejects high-s,
 * r or s of 0 or ≥ n, and public keys that are not canonical SEC1 encodings of a curve point
 * (33 bytes 02/03 or 65 bytes 04; libsecp256k1's "hybrid" 06/07 form is never handed to it);
 * signing is RFC 6979 deterministic and low-s, so both produce the same bytes.
 *
 * The addon is loaded on first use and must pass a known-answer self-test (sign, verify, and
 * refuse the high-s twin of a valid signature) before it is used; any failure means @noble/curves.
 */
import {createRequire} from 'node:module'
import {secp256k1 as noble} from '@noble/curves/secp256k1.js'
import {bytesToHex} from './hex.js'

/** The part of the `secp256k1` package's API (lib/index.js, which validates lengths) used here. */
interface NativeSecp256k1 {
  ecdsaVerify(signature: Uint8Array, msg32: Uint8Array, publicKey: Uint8Array): boolean
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): {signature: Uint8Array; recid: number}
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array
  publicKeyConvert(publicKey: Uint8Array, compressed?: boolean): Uint8Array
}

export type Secp256k1Backend = 'libsecp256k1' | 'noble'

// Known answer computed with @noble/curves: key = keccak256("waku-disc secp256k1 self-test key"),
// digest = keccak256("waku-disc secp256k1 self-test").
const SELF_TEST = {
  key: 'fad02f9fd909bfbb6b23cde3d2777d6bd7513ec935ef6a3a2bd9852bb79a78a0',
  digest: 'eb861ef0c87e72cf80978d5af4f289fd84bd684f291b3404d0401079be76f12a',
  publicKey: '03cd1cc4229f21e45d285f424a622a948b6699b21d4c75cca0ddb7b56c44ecc690',
  signature: '43f6a989a8ae3a47212a8a36bf15e91159f8def7e7e6954266b7650f903e31a74f0208bfe5b2c4064bdf4996705ec8ca1ff1327a70a55bca518587e034c52acc',
  recid: 1,
}
const N = noble.Point.CURVE().n

const N_BYTES = Uint8Array.from(Buffer.from(N.toString(16).padStart(64, '0'), 'hex'))

/** Whether a 32-byte big-endian integer is ≥ the group order n. */
function atLeastN(digest: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    if (digest[i] !== N_BYTES[i]) return digest[i]! > N_BYTES[i]!
  }
  return true
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'))
}

/** The signature with s replaced by n - s (same validity without the low-s rule). */
export function highSTwin(signature: Uint8Array): Uint8Array {
  const s = BigInt('0x' + bytesToHex(signature.subarray(32, 64)))
  const out = Uint8Array.from(signature.subarray(0, 64))
  out.set(fromHex(((N - s) % N).toString(16).padStart(64, '0')), 32)
  return out
}

function selfTest(lib: NativeSecp256k1): boolean {
  const key = fromHex(SELF_TEST.key)
  const digest = fromHex(SELF_TEST.digest)
  const publicKey = lib.publicKeyCreate(key, true)
  if (bytesToHex(publicKey) !== SELF_TEST.publicKey) return false
  const {signature, recid} = lib.ecdsaSign(digest, key)
  if (bytesToHex(signature) !== SELF_TEST.signature || recid !== SELF_TEST.recid) return false
  if (!lib.ecdsaVerify(signature, digest, publicKey)) return false
  if (!lib.ecdsaVerify(signature, digest, lib.publicKeyConvert(publicKey, false))) return false
  if (lib.ecdsaVerify(highSTwin(signature), digest, publicKey)) return false
  const tampered = Uint8Array.from(digest)
  tampered[0]! ^= 1
  return !lib.ecdsaVerify(signature, tampered, publicKey)
}

let native: NativeSecp256k1 | undefined
let loaded = false
let forced: Secp256k1Backend | undefined
let loadError: string | undefined

function loadNative(): NativeSecp256k1 | undefined {
  if (loaded) return native
  loaded = true
  try {
    // `secp256k1/bindings.js` is the addon alone; the package's main entry would silently fall
    // back to the `elliptic` package instead of failing.
    const lib = createRequire(import.meta.url)('secp256k1/bindings.js') as NativeSecp256k1
    if (selfTest(lib)) native = lib
    else loadError = 'the libsecp256k1 addon failed its known-answer self-test'
  } catch (error) {
    loadError = `the libsecp256k1 addon did not load: ${(error as Error).message.split('\n', 1)[0]}`
  }
  return native
}

function lib(): NativeSecp256k1 | undefined {
  return forced === 'noble' ? undefined : loadNative()
}

/** Which implementation is in use, and why not libsecp256k1 when it is not. */
export function secp256k1Backend(): {backend: Secp256k1Backend; reason?: string} {
  if (lib()) return {backend: 'libsecp256k1'}
  return {backend: 'noble', reason: forced === 'noble' ? 'forced' : loadError}
}

/**
 * Forces @noble/curves ('noble') or goes back to the default ('libsecp256k1' when it loads).
 * For tests and benchmarks; returns the backend in use afterwards.
 */
export function setSecp256k1Backend(backend: Secp256k1Backend): Secp256k1Backend {
  forced = backend === 'noble' ? 'noble' : undefined
  return secp256k1Backend().backend
}

/** A canonical SEC1 encoding the addon may parse (it also takes hybrid 06/07 keys, noble does not). */
function canonicalKey(publicKey: Uint8Array): boolean {
  return (publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3)) || (publicKey.length === 65 && publicKey[0] === 4)
}

/** ECDSA verification of a 64-byte r‖s over a 32-byte digest, low-s only; false (never throws) on bad input. */
export function verifyCompact(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || digest.length !== 32) return false
  const l = lib()
  try {
    if (l && canonicalKey(publicKey)) return l.ecdsaVerify(signature, digest, publicKey)
    return noble.verify(signature, digest, publicKey, {prehash: false, lowS: true, format: 'compact'})
  } catch {
    // r or s out of range, or a key that is not a point: the addon and noble both throw for these.
    return false
  }
}

/** 65-byte 04 ‖ x ‖ y of a canonical compressed key; undefined when it is not a curve point. */
export function decompressPublicKey(publicKey: Uint8Array): Uint8Array | undefined {
  if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) return undefined
  try {
    const l = lib()
    return l ? l.publicKeyConvert(publicKey, false) : noble.Point.fromBytes(publicKey).toBytes(false)
  } catch {
    return undefined
  }
}

/**
 * The curve point of a 33- or 65-byte SEC1 public key (throws when it is not one). A compressed key
 * is decompressed by the addon (~8× faster than noble's square root) and the resulting 04 ‖ x ‖ y is
 * still parsed, and so checked to be on the curve, by noble.
 */
export function parsePoint(publicKey: Uint8Array): InstanceType<typeof noble.Point> {
  const l = lib()
  if (l && publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3)) return noble.Point.fromBytes(l.publicKeyConvert(publicKey, false))
  return noble.Point.fromBytes(publicKey)
}

/** Compressed public key of a private key already checked to be a valid scalar. */
export function derivePublicKey(privateKey: Uint8Array): Uint8Array {
  const l = lib()
  return l ? l.publicKeyCreate(privateKey, true) : noble.getPublicKey(privateKey, true)
}

/** RFC 6979 deterministic, low-s signature of a 32-byte digest with a valid private key: r‖s and the recovery id. */
export function signCompact(digest: Uint8Array, privateKey: Uint8Array): {signature: Uint8Array; recovery: number} {
  const l = lib()
  // RFC 6979 feeds bits2octets(h) = h mod n to its HMAC-DRBG; libsecp256k1 feeds the digest bytes
  // unreduced, so for a digest ≥ n (a keccak output is one with probability ~2^-128) the two pick
  // different nonces. Such digests go to noble, so the bytes never depend on the backend.
  if (l && !atLeastN(digest)) {
    const {signature, recid} = l.ecdsaSign(digest, privateKey)
    return {signature, recovery: recid}
  }
  // noble's 'recovered' format is v ‖ r ‖ s.
  const rec = noble.sign(digest, privateKey, {prehash: false, lowS: true, format: 'recovered'})
  return {signature: rec.slice(1, 65), recovery: rec[0]!}
}
