// The secp256k1 backend (libsecp256k1 addon, @noble/curves fallback) against @noble/curves called
// directly as the reference: same verdict on valid, high-s, tampered, out-of-range, off-curve and
// random inputs; byte-identical RFC 6979 signatures and public keys; same decompressed points.
import {secp256k1 as noble} from '@noble/curves/secp256k1.js'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {afterEach, describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {parsePublicKey, publicKeyOf, secp256k1Backend, setSecp256k1Backend, signDigest, verifyDigest, type Secp256k1Backend} from '../../../src/lib/keys/index.js'
import {highSTwin} from '../../../src/lib/keys/secp256k1.js'

const N = noble.Point.CURVE().n
const P = noble.Point.CURVE().p
const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const be32 = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'))
const int = (b: Uint8Array) => BigInt('0x' + toHex(b))

/** @noble/curves' verdict with the rules verifyDigest documents (low-s, compact r‖s, digest as given). */
function reference(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return noble.verify(signature.subarray(0, 64), digest, publicKey, {prehash: false, lowS: true, format: 'compact'})
  } catch {
    return false
  }
}

function referenceSign(digest: Uint8Array, key: Uint8Array): string {
  const rec = noble.sign(digest, key, {prehash: false, lowS: true, format: 'recovered'})
  return toHex(rec.subarray(1)) + toHex(rec.subarray(0, 1))
}

const secretKey = fc.uint8Array({minLength: 32, maxLength: 32}).filter((k) => noble.utils.isValidSecretKey(k))
const bytes32 = fc.uint8Array({minLength: 32, maxLength: 32})
const NATIVE_EXPECTED = process.platform === 'linux' && process.arch === 'x64'
const BACKENDS: Secp256k1Backend[] = ['libsecp256k1', 'noble']
const runs = (n: number) => ({numRuns: n, seed: 0x5ec9, endOnFailure: true})

afterEach(() => {
  setSecp256k1Backend('libsecp256k1')
})

describe('backend selection', () => {
  it.skipIf(!NATIVE_EXPECTED)('loads the libsecp256k1 addon shipped in the secp256k1 package (linux-x64) and passes its self-test', () => {
    expect(secp256k1Backend()).toEqual({backend: 'libsecp256k1'})
  })
  it('can be forced to @noble/curves and back', () => {
    expect(setSecp256k1Backend('noble')).toBe('noble')
    expect(secp256k1Backend()).toEqual({backend: 'noble', reason: 'forced'})
    expect(setSecp256k1Backend('libsecp256k1')).toBe(secp256k1Backend().backend)
    if (NATIVE_EXPECTED) expect(secp256k1Backend().backend).toBe('libsecp256k1')
  })
})

describe('when the addon cannot load', () => {
  it('falls back to @noble/curves, says why, and signs the same bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'waku-disc-secp-'))
    try {
      // A module hook that makes resolving the addon fail, as on a platform without a prebuild.
      writeFileSync(
        join(dir, 'block.mjs'),
        `import {registerHooks} from 'node:module'
registerHooks({resolve(specifier, context, next) {
  if (specifier.startsWith('secp256k1/')) throw new Error('no addon for this platform')
  return next(specifier, context)
}})
`,
      )
      const keys = new URL('../../../src/lib/keys/index.ts', import.meta.url).href
      writeFileSync(
        join(dir, 'probe.mts'),
        `import {secp256k1Backend, signDigest, verifyDigest, publicKeyOf} from ${JSON.stringify(keys)}
const key = new Uint8Array(32).fill(7)
const digest = new Uint8Array(32).fill(9)
const sig = signDigest(digest, key)
process.stdout.write(JSON.stringify({...secp256k1Backend(), sig: Buffer.from(sig).toString('hex'), ok: verifyDigest(sig, digest, publicKeyOf(key))}))
`,
      )
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--import', join(dir, 'block.mjs'), join(dir, 'probe.mts')], {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        encoding: 'utf8',
      })
      const r = JSON.parse(out) as {backend: string; reason: string; sig: string; ok: boolean}
      expect(r.backend).toBe('noble')
      expect(r.reason).toMatch(/^the libsecp256k1 addon did not load: .*no addon for this platform/)
      expect(r.ok).toBe(true)
      const key = new Uint8Array(32).fill(7)
      const digest = new Uint8Array(32).fill(9)
      expect(r.sig).toBe(toHex(signDigest(digest, key)))
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe.each(BACKENDS)('%s backend agrees with @noble/curves', (backend) => {
  // Where the addon does not load, the 'libsecp256k1' row runs the fallback again.
  const use = () => setSecp256k1Backend(backend)
  // The noble side is slow (~1-2 ms per verification on this machine), hence modest run counts.
  const n = backend === 'noble' ? 25 : 60

  it('signs byte-identically (RFC 6979, low-s, same recovery id) and derives the same public keys', () => {
    use()
    fc.assert(
      fc.property(secretKey, bytes32, (key, digest) => {
        const sig = signDigest(digest, key)
        expect(toHex(sig)).toBe(referenceSign(digest, key))
        expect(toHex(publicKeyOf(key))).toBe(toHex(noble.getPublicKey(key, true)))
      }),
      runs(n),
    )
  })

  it('accepts valid signatures (64 and 65 bytes, compressed and uncompressed keys, offset views) and rejects their high-s twins', () => {
    use()
    fc.assert(
      fc.property(secretKey, bytes32, fc.nat(7), (key, digest, pad) => {
        const sig = signDigest(digest, key)
        const compressed = noble.getPublicKey(key, true)
        const uncompressed = noble.getPublicKey(key, false)
        expect(reference(sig, digest, compressed)).toBe(true)
        expect(verifyDigest(sig, digest, compressed)).toBe(true)
        expect(verifyDigest(sig.subarray(0, 64), digest, uncompressed)).toBe(true)
        // Views with a non-zero byteOffset, and Buffers, must read the right bytes.
        const buf = new Uint8Array(pad + 64 + 32 + 33)
        buf.set(sig.subarray(0, 64), pad)
        buf.set(digest, pad + 64)
        buf.set(compressed, pad + 96)
        expect(verifyDigest(buf.subarray(pad, pad + 64), buf.subarray(pad + 64, pad + 96), buf.subarray(pad + 96))).toBe(true)
        expect(verifyDigest(Buffer.from(sig), Buffer.from(digest), Buffer.from(compressed))).toBe(true)

        const twin = highSTwin(sig)
        // The twin is a valid signature under plain ECDSA: only the low-s rule rejects it.
        expect(noble.verify(twin, digest, compressed, {prehash: false, lowS: false, format: 'compact'})).toBe(true)
        expect(reference(twin, digest, compressed)).toBe(false)
        expect(verifyDigest(twin, digest, compressed)).toBe(false)
        expect(verifyDigest(twin, digest, uncompressed)).toBe(false)
      }),
      runs(n),
    )
  })

  it('rejects tampered digests, signatures and keys exactly as noble does', () => {
    use()
    fc.assert(
      fc.property(secretKey, bytes32, fc.nat(32 + 64 - 1), fc.integer({min: 1, max: 255}), (key, digest, at, mask) => {
        const sig = signDigest(digest, key).subarray(0, 64)
        const pub = noble.getPublicKey(key, true)
        const d = Uint8Array.from(digest)
        const s = Uint8Array.from(sig)
        if (at < 32) d[at]! ^= mask
        else s[at - 32]! ^= mask
        expect(verifyDigest(s, d, pub)).toBe(reference(s, d, pub))
        expect(verifyDigest(s, d, pub)).toBe(false)
        const k = Uint8Array.from(pub)
        k[1 + (at % 32)]! ^= mask
        expect(verifyDigest(sig, digest, k)).toBe(reference(sig, digest, k))
      }),
      runs(n),
    )
  })

  it('agrees on off-curve, hybrid (06/07) and malformed public keys', () => {
    use()
    const key = noble.utils.randomSecretKey()
    const digest = noble.utils.randomSecretKey()
    const sig = signDigest(digest, key)
    const uncompressed = noble.getPublicKey(key, false)
    const odd = uncompressed[64]! & 1
    const hybrid = Uint8Array.from(uncompressed)
    hybrid[0] = 6 + odd // a well-formed hybrid key: libsecp256k1 parses it, noble (and we) do not
    expect(verifyDigest(sig, digest, hybrid)).toBe(false)
    expect(reference(sig, digest, hybrid)).toBe(false)
    const xOnly = uncompressed.subarray(1, 33)
    for (const bad of [new Uint8Array(33), new Uint8Array(65), xOnly, uncompressed.subarray(1), Uint8Array.of(2, ...be32(P)), Uint8Array.of(4, ...be32(P), ...uncompressed.subarray(33))]) {
      expect(verifyDigest(sig, digest, bad)).toBe(reference(sig, digest, bad))
      expect(verifyDigest(sig, digest, bad)).toBe(false)
    }
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4, 6, 7), fc.uint8Array({minLength: 64, maxLength: 64}), fc.boolean(), (prefix, body, short) => {
        const k = Uint8Array.of(prefix, ...(short || prefix < 4 ? body.subarray(0, 32) : body))
        expect(verifyDigest(sig, digest, k)).toBe(reference(sig, digest, k))
        // The parse path (ENR decoding uses it) agrees too: same point or a BadInputError.
        let ours: string | Error
        let theirs: string | Error
        try {
          ours = toHex(parsePublicKey(k).toBytes(false))
        } catch (error) {
          ours = error as Error
        }
        try {
          theirs = toHex(noble.Point.fromBytes(k).toBytes(false))
        } catch (error) {
          theirs = error as Error
        }
        if (typeof theirs === 'string') expect(ours).toBe(theirs)
        else expect(ours).toBeInstanceOf(BadInputError)
      }),
      runs(3 * n),
    )
  })

  it('rejects r or s of 0, n or above, and agrees on the low-s boundary', () => {
    use()
    const key = noble.utils.randomSecretKey()
    const digest = noble.utils.randomSecretKey()
    const pub = publicKeyOf(key)
    const sig = signDigest(digest, key)
    const r = sig.subarray(0, 32)
    const s = sig.subarray(32, 64)
    const halfN = N >> 1n
    const cases = [
      [0n, int(s)],
      [int(r), 0n],
      [N, int(s)],
      [int(r), N],
      [int(r) + N < 2n ** 256n ? int(r) + N : 2n ** 256n - 1n, int(s)],
      [int(r), 2n ** 256n - 1n],
      [int(r), halfN],
      [int(r), halfN + 1n],
      [1n, 1n],
      [N - 1n, halfN],
    ] as const
    for (const [rr, ss] of cases) {
      const bad = Uint8Array.of(...be32(rr), ...be32(ss))
      expect(verifyDigest(bad, digest, pub), `r=${rr} s=${ss}`).toBe(reference(bad, digest, pub))
      expect(verifyDigest(bad, digest, pub)).toBe(false)
    }
  })

  it('signs and verifies digests at and above n (RFC 6979 reduces them mod n; libsecp256k1 would not) identically', () => {
    use()
    const key = noble.utils.randomSecretKey()
    const pub = publicKeyOf(key)
    for (const digest of [new Uint8Array(32).fill(0xff), be32(N), be32(N + 1n), be32(N - 1n), new Uint8Array(32)]) {
      const sig = signDigest(digest, key)
      expect(toHex(sig)).toBe(referenceSign(digest, key))
      expect(verifyDigest(sig, digest, pub)).toBe(true)
      expect(reference(sig, digest, pub)).toBe(true)
    }
  })

  it('agrees on random bytes of any length', () => {
    use()
    const pub = noble.getPublicKey(noble.utils.randomSecretKey(), true)
    fc.assert(
      fc.property(
        fc.uint8Array({minLength: 60, maxLength: 66}),
        fc.uint8Array({minLength: 31, maxLength: 33}),
        fc.oneof(fc.constant(pub), fc.uint8Array({minLength: 32, maxLength: 66})),
        (sig, digest, key) => {
          const expected = sig.length === 64 || sig.length === 65 ? digest.length === 32 && reference(sig, digest, key) : false
          expect(verifyDigest(sig, digest, key)).toBe(expected)
        },
      ),
      runs(3 * n),
    )
  })
})
