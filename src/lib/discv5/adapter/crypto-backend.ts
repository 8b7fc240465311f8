/**
 * Faster crypto backends for @chainsafe/enr and @chainsafe/discv5, both swapped in through the
 * libraries' own hooks: @chainsafe/enr's `setV4Crypto` (public) and @chainsafe/discv5's
 * `setDiscv5Crypto` (defined by 11.0.0 but exported from its entry only by the patch, see
 * index.ts).
 *
 * Record checks: the discv5 library decodes (and signature-checks, about 1.8 ms each in pure JS)
 * every ENR of every NODES reply, and an exhaustive crawl receives each record about as many times
 * as other nodes list it (~100 on a large network). Without a cache the event loop stalls long
 * enough for live nodes' replies to time out. The cache is keyed on the full (public key, message,
 * signature) triple, so a reused signature on a different record is still checked.
 */
import {createRequire} from 'node:module'

import {defaultCrypto, getV4Crypto, setV4Crypto, type V4Crypto} from '@chainsafe/enr'
import {secp256k1 as noble} from '@noble/curves/secp256k1.js'

import * as discv5Entry from '@chainsafe/discv5'

import {keccak256, publicKeyOf, secp256k1Backend, verifyDigest} from '../../keys/index.js'
import {decompressPublicKey, signCompact} from '../../keys/secp256k1.js'
import {bytesToHex} from '../../keys/hex.js'
import {assertDiscv5Adapter} from './check.js'

const MAX_ENTRIES = 200_000

interface CacheStats {
  verifyHits: number
  verifyMisses: number
  nodeIdHits: number
  nodeIdMisses: number
}

const stats: CacheStats = {verifyHits: 0, verifyMisses: 0, nodeIdHits: 0, nodeIdMisses: 0}
let installed = false

/** Installs the caching crypto into @chainsafe/enr (process-wide, idempotent). */
export function installEnrVerifyCache(): void {
  if (installed) return
  installed = true
  const base = nativeV4Crypto(getV4Crypto() ?? defaultCrypto)
  // Keyed by the signature; the entry keeps the message and key it was checked against, compared
  // byte for byte on a hit (cheaper than building a long string key per lookup).
  const verified = new Map<string, {pubKey: Uint8Array; msg: Uint8Array; ok: boolean}>()
  const nodeIds = new Map<string, string>()
  setV4Crypto({
    ...base,
    verify(pubKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
      const key = bytesToHex(sig)
      const hit = verified.get(key)
      if (hit !== undefined && Buffer.compare(hit.msg, msg) === 0 && Buffer.compare(hit.pubKey, pubKey) === 0) {
        stats.verifyHits++
        return hit.ok
      }
      stats.verifyMisses++
      const ok = base.verify(pubKey, msg, sig)
      if (verified.size >= MAX_ENTRIES) verified.clear()
      verified.set(key, {pubKey: Uint8Array.from(pubKey), msg: Uint8Array.from(msg), ok})
      return ok
    },
    nodeId(pubKey: Uint8Array): string {
      const key = bytesToHex(pubKey)
      const hit = nodeIds.get(key)
      if (hit !== undefined) {
        stats.nodeIdHits++
        return hit
      }
      stats.nodeIdMisses++
      const id = base.nodeId(pubKey)
      if (nodeIds.size >= MAX_ENTRIES) nodeIds.clear()
      nodeIds.set(key, id)
      return id
    },
  })
}

/**
 * @chainsafe/enr's record crypto on the keys module's secp256k1 (libsecp256k1 when its addon loads,
 * ~10–25× faster than the bundled pure-JS curve): signature check over keccak256(content) and the
 * node id (keccak256 of the uncompressed key). Same verdicts as the default: a 64-byte r‖s, low-s
 * only, a canonical key; anything else that is not a compressed point goes to the default.
 */
function nativeV4Crypto(base: V4Crypto): V4Crypto {
  return {
    ...base,
    verify(pubKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
      if (sig.length !== 64) return base.verify(pubKey, msg, sig)
      return verifyDigest(sig, keccak256(msg), pubKey)
    },
    nodeId(pubKey: Uint8Array): string {
      const full = decompressPublicKey(pubKey)
      if (full === undefined) return base.nodeId(pubKey)
      return bytesToHex(keccak256(full.subarray(1)))
    },
  }
}

/** Hit/miss counters of the cache (for benchmarks). */
export function enrCacheStats(): Readonly<CacheStats> {
  return {...stats}
}

let discv5CryptoInstalled: Promise<boolean> | undefined

interface NativeEcdh {
  ecdh(pubkey: Uint8Array, seckey: Uint8Array, options: {hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array}, output: Uint8Array): Uint8Array
}

/** A canonical compressed or uncompressed SEC1 key (the addon would also parse hybrid 06/07 keys). */
function canonicalKey(pk: Uint8Array): boolean {
  return (pk.length === 33 && (pk[0] === 2 || pk[0] === 3)) || (pk.length === 65 && pk[0] === 4)
}

/**
 * ECDH as discv5 defines it (the compressed shared point, 33 bytes) on libsecp256k1 when the keys
 * module uses it, checked once against @noble/curves; @noble/curves otherwise.
 */
function sharedSecretFn(): {deriveSecret: (sk: Uint8Array, pk: Uint8Array) => Uint8Array; native: boolean} {
  const viaNoble = (sk: Uint8Array, pk: Uint8Array) => noble.getSharedSecret(sk, pk, true)
  if (secp256k1Backend().backend !== 'libsecp256k1') return {deriveSecret: viaNoble, native: false}
  try {
    const lib = createRequire(import.meta.url)('secp256k1/bindings.js') as NativeEcdh
    // The raw point instead of the addon's default sha256 of it.
    const hashfn = (x: Uint8Array, y: Uint8Array) => {
      const out = new Uint8Array(33)
      out[0] = 2 | (y[31]! & 1)
      out.set(x, 1)
      return out
    }
    const viaAddon = (sk: Uint8Array, pk: Uint8Array) => (canonicalKey(pk) ? lib.ecdh(pk, sk, {hashfn}, new Uint8Array(33)) : viaNoble(sk, pk))
    const a = keccak256(new TextEncoder().encode('waku-disc ecdh self-test a'))
    const b = keccak256(new TextEncoder().encode('waku-disc ecdh self-test b'))
    const B = publicKeyOf(b)
    if (Buffer.compare(viaAddon(a, B), viaNoble(a, B)) !== 0) return {deriveSecret: viaNoble, native: false}
    return {deriveSecret: viaAddon, native: true}
  } catch {
    return {deriveSecret: viaNoble, native: false}
  }
}

let sessionBackend: 'libsecp256k1' | 'noble' | 'library-default' = 'library-default'

/** Which backend the discv5 session crypto runs on ('library-default' until installed). */
export function discv5CryptoBackend(): 'libsecp256k1' | 'noble' | 'library-default' {
  return sessionBackend
}

/**
 * Swaps the discv5 library's session crypto (ephemeral keys, ECDH, id-signature sign and verify,
 * key conversion) onto the keys module's secp256k1 — libsecp256k1 through the `secp256k1`
 * package's addon when it loads, @noble/curves otherwise — and caches public-key conversions and
 * checks (the library decompresses the remote's key on every request). Goes through the library's
 * own `setDiscv5Crypto` hook; throws ConfigError DISCV5_ADAPTER_MISMATCH when the installed library
 * is not the patched 11.0.0 (check.ts). Resolves to true once installed. Results are
 * byte-identical to the library's (test/lib/discv5/crypto.test.ts).
 */
export function installDiscv5Crypto(): Promise<boolean> {
  discv5CryptoInstalled ??= (async () => {
    assertDiscv5Adapter()
    const base = discv5Entry.getDiscv5Crypto()
    const converted = new Map<string, Uint8Array>()
    const valid = new Map<string, boolean>()
    const {deriveSecret, native} = sharedSecretFn()
    discv5Entry.setDiscv5Crypto({
      ...base,
      secp256k1: {
        ...base.secp256k1,
        // Fresh ephemeral keys (compressed, like the library's default).
        publicKeyCreate: (sk: Uint8Array) => publicKeyOf(sk),
        publicKeyConvert(pk, compress) {
          // Compressed → compressed is the identity; the point is validated where it is used
          // (ECDH and signature checks reject invalid points).
          if (compress && pk.length === 33 && (pk[0] === 2 || pk[0] === 3)) return Uint8Array.from(pk)
          const key = (compress ? 'c' : 'u') + bytesToHex(pk)
          let out = converted.get(key)
          if (!out) {
            const full = !compress && pk.length === 33 ? decompressPublicKey(pk) : undefined
            out = full ?? base.secp256k1.publicKeyConvert(pk, compress)
            if (converted.size >= MAX_ENTRIES) converted.clear()
            converted.set(key, out)
          }
          return out
        },
        publicKeyVerify(pk) {
          const key = bytesToHex(pk)
          let ok = valid.get(key)
          if (ok === undefined) {
            ok = pk.length === 33 ? decompressPublicKey(pk) !== undefined : base.secp256k1.publicKeyVerify(pk)
            if (valid.size >= MAX_ENTRIES) valid.clear()
            valid.set(key, ok)
          }
          return ok
        },
        // RFC 6979, low-s, same bytes as the library's @noble/secp256k1 (r‖s).
        sign: (msg: Uint8Array, sk: Uint8Array) => (msg.length === 32 ? signCompact(msg, sk).signature : base.secp256k1.sign(msg, sk)),
        // Low-s only, like the library's default; false on malformed input.
        verify: (pk, msg, sig) => (sig.length === 64 && msg.length === 32 ? verifyDigest(sig, msg, pk) : false),
        deriveSecret,
      },
    })
    sessionBackend = native ? 'libsecp256k1' : 'noble'
    return true
  })()
  return discv5CryptoInstalled
}
