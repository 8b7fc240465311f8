/**
 * Verified-record cache for @chainsafe/enr. The discv5 library decodes (and signature-checks, about
 * 1.8 ms each in pure JS) every ENR of every NODES reply; an exhaustive crawl receives each record
 * ~100 times (its in-degree). Without a cache the event loop stalls long enough to time out live
 * nodes (research/crawlers.md §0.3). The cache is keyed on the full (public key, message,
 * signature) triple, so a reused signature on a different record is still checked.
 */
import {defaultCrypto, getV4Crypto, setV4Crypto} from '@chainsafe/enr'

const MAX_ENTRIES = 200_000

interface CacheStats {
  verifyHits: number
  verifyMisses: number
  nodeIdHits: number
  nodeIdMisses: number
}

const stats: CacheStats = {verifyHits: 0, verifyMisses: 0, nodeIdHits: 0, nodeIdMisses: 0}
let installed = false

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Installs the caching crypto into @chainsafe/enr (process-wide, idempotent). */
export function installEnrVerifyCache(): void {
  if (installed) return
  installed = true
  const base = getV4Crypto() ?? defaultCrypto
  // Keyed by the signature; the entry keeps the message and key it was checked against, compared
  // byte for byte on a hit (cheaper than building a long string key per lookup).
  const verified = new Map<string, {pubKey: Uint8Array; msg: Uint8Array; ok: boolean}>()
  const nodeIds = new Map<string, string>()
  setV4Crypto({
    ...base,
    verify(pubKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
      const key = hex(sig)
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
      const key = hex(pubKey)
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

/** Hit/miss counters of the cache (for benchmarks). */
export function enrCacheStats(): Readonly<CacheStats> {
  return {...stats}
}

interface Discv5Crypto {
  secp256k1: {
    publicKeyVerify(pk: Uint8Array): boolean
    publicKeyConvert(pk: Uint8Array, compress: boolean): Uint8Array
    verify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean
    deriveSecret(privKey: Uint8Array, pubKey: Uint8Array): Uint8Array
    [k: string]: unknown
  }
  [k: string]: unknown
}

let discv5CryptoInstalled: Promise<boolean> | undefined

/**
 * Swaps the discv5 library's session crypto onto @noble/curves (about 1.5–2× faster ECDH and
 * ECDSA verify than its bundled @noble/secp256k1 2.x) and caches public-key conversions (the
 * library decompresses the remote's key on every request). Uses the library's own
 * `setDiscv5Crypto` hook, which 11.0.0 does not export from its package entry: it is imported
 * from the same module file the library uses. Falls back silently (returns false) if that file
 * cannot be found. Results are byte-identical (checked by test/lib/discv5/crypto.test.ts).
 */
export function installDiscv5Crypto(): Promise<boolean> {
  discv5CryptoInstalled ??= (async () => {
    try {
      const entry = import.meta.resolve('@chainsafe/discv5')
      const mod = (await import(new URL('./util/crypto.js', entry).href)) as {
        getDiscv5Crypto(): Discv5Crypto
        setDiscv5Crypto(c: Discv5Crypto): void
      }
      const {secp256k1} = await import('@noble/curves/secp256k1.js')
      const base = mod.getDiscv5Crypto()
      const converted = new Map<string, Uint8Array>()
      const valid = new Map<string, boolean>()
      mod.setDiscv5Crypto({
        ...base,
        secp256k1: {
          ...base.secp256k1,
          // Fresh ephemeral keys: the curve's precomputed base multiplication is ~10× faster.
          publicKeyCreate: (sk: Uint8Array) => secp256k1.getPublicKey(sk, true),
          publicKeyConvert(pk, compress) {
            // Compressed → compressed is the identity; the point is validated where it is used
            // (ECDH and signature checks reject invalid points).
            if (compress && pk.length === 33 && (pk[0] === 2 || pk[0] === 3)) return Uint8Array.from(pk)
            const key = (compress ? 'c' : 'u') + hex(pk)
            let out = converted.get(key)
            if (!out) {
              out = base.secp256k1.publicKeyConvert(pk, compress)
              if (converted.size >= MAX_ENTRIES) converted.clear()
              converted.set(key, out)
            }
            return out
          },
          publicKeyVerify(pk) {
            const key = hex(pk)
            let ok = valid.get(key)
            if (ok === undefined) {
              ok = base.secp256k1.publicKeyVerify(pk)
              if (valid.size >= MAX_ENTRIES) valid.clear()
              valid.set(key, ok)
            }
            return ok
          },
          verify: (pk, msg, sig) => {
            try {
              return secp256k1.verify(sig, msg, pk, {prehash: false, lowS: false})
            } catch {
              return false
            }
          },
          deriveSecret: (privKey, pubKey) => secp256k1.getSharedSecret(privKey, pubKey, true),
        },
      })
      return true
    } catch {
      return false
    }
  })()
  return discv5CryptoInstalled
}
