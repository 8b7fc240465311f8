import {getDiscv5Crypto} from '@chainsafe/discv5'
import {ENR, SignableENR} from '@chainsafe/enr'
import {describe, expect, it} from 'vitest'

import {defaultCrypto, getV4Crypto} from '@chainsafe/enr'

import {discv5CryptoBackend, enrCacheStats, installDiscv5Crypto, installEnrVerifyCache} from '../../../src/lib/discv5/index.js'
import {secp256k1Backend} from '../../../src/lib/keys/index.js'
import {highSTwin} from '../../../src/lib/keys/secp256k1.js'
import {pristineDiscv5Dir, randomKey} from './helpers.js'

describe('verified-record cache', () => {
  it('caches good records and still rejects a reused signature on changed content', () => {
    installEnrVerifyCache()
    const enr = SignableENR.createV4(randomKey())
    enr.ip = '127.0.0.1'
    enr.udp = 30_303
    const text = enr.encodeTxt()
    const before = enrCacheStats()
    expect(ENR.decodeTxt(text).nodeId).toBe(enr.nodeId)
    expect(ENR.decodeTxt(text).nodeId).toBe(enr.nodeId)
    const after = enrCacheStats()
    expect(after.verifyHits - before.verifyHits).toBeGreaterThanOrEqual(1)
    // Same signature, different udp port: must fail every time, cached or not.
    const forged = SignableENR.decodeTxt(text, enr.privateKey)
    const signature = forged.signature
    forged.udp = 30_304
    const tampered = new ENR(forged.kvs, forged.seq, signature)
    expect(() => ENR.decode(tampered.encode())).toThrow(/verify/)
    expect(() => ENR.decode(tampered.encode())).toThrow(/verify/)
    expect(ENR.decodeTxt(text).udp).toBe(30_303)
  })
})

describe('faster discv5 session crypto', () => {
  it('is installed through the library hook and gives byte-identical results to the published library', async () => {
    expect(await installDiscv5Crypto()).toBe(true)
    const ours = getDiscv5Crypto()
    const published = (await import(`${pristineDiscv5Dir()}/lib/util/crypto.js`)).getDiscv5Crypto()
    expect(ours).not.toBe(published)
    for (let i = 0; i < 5; i++) {
      const a = randomKey()
      const b = randomKey()
      const B = published.secp256k1.publicKeyCreate(b)
      expect(Buffer.from(ours.secp256k1.publicKeyCreate(b))).toEqual(Buffer.from(B))
      expect(Buffer.from(ours.secp256k1.deriveSecret(a, B))).toEqual(Buffer.from(published.secp256k1.deriveSecret(a, B)))
      const msg = Uint8Array.from({length: 32}, (_, j) => (i * 7 + j) & 0xff)
      const sig = published.secp256k1.sign(msg, a)
      const A = published.secp256k1.publicKeyCreate(a)
      expect(ours.secp256k1.verify(A, msg, sig)).toBe(true)
      expect(ours.secp256k1.verify(B, msg, sig)).toBe(false)
      const uncompressed = published.secp256k1.publicKeyConvert(A, false)
      expect(Buffer.from(ours.secp256k1.publicKeyConvert(uncompressed, true))).toEqual(Buffer.from(A))
      expect(Buffer.from(ours.secp256k1.publicKeyConvert(A, false))).toEqual(Buffer.from(uncompressed))
    }
    expect(ours.secp256k1.verify(new Uint8Array(33), new Uint8Array(32), new Uint8Array(64))).toBe(false)
  })

  it('runs on libsecp256k1 when the keys module does, with the library\'s verdicts and bytes on many keys', async () => {
    await installDiscv5Crypto()
    expect(discv5CryptoBackend()).toBe(secp256k1Backend().backend)
    const ours = getDiscv5Crypto()
    const published = (await import(`${pristineDiscv5Dir()}/lib/util/crypto.js`)).getDiscv5Crypto()
    for (let i = 0; i < 40; i++) {
      const a = randomKey()
      const b = randomKey()
      const B = published.secp256k1.publicKeyCreate(b)
      const Bfull = published.secp256k1.publicKeyConvert(B, false)
      // ECDH with a compressed and an uncompressed remote key.
      expect(Buffer.from(ours.secp256k1.deriveSecret(a, B))).toEqual(Buffer.from(published.secp256k1.deriveSecret(a, B)))
      expect(Buffer.from(ours.secp256k1.deriveSecret(a, Bfull))).toEqual(Buffer.from(published.secp256k1.deriveSecret(a, Bfull)))
      const msg = Uint8Array.from({length: 32}, (_, j) => (i * 13 + j * 7) & 0xff)
      const sig = ours.secp256k1.sign(msg, b)
      expect(Buffer.from(sig)).toEqual(Buffer.from(published.secp256k1.sign(msg, b)))
      expect(ours.secp256k1.verify(B, msg, sig)).toBe(true)
      // The high-s twin of a valid signature: both refuse it.
      const twin = highSTwin(sig)
      expect(ours.secp256k1.verify(B, msg, twin)).toBe(published.secp256k1.verify(B, msg, twin))
      expect(ours.secp256k1.verify(B, msg, twin)).toBe(false)
      expect(ours.secp256k1.publicKeyVerify(B)).toBe(true)
    }
    // Not a point (x = 5 has no square root mod p on secp256k1): refused by both.
    const notPoint = Uint8Array.from([2, ...new Uint8Array(31), 5])
    expect(ours.secp256k1.publicKeyVerify(notPoint)).toBe(published.secp256k1.publicKeyVerify(notPoint))
  })

  it('gives record checks and node ids identical to @chainsafe/enr\'s own crypto', () => {
    installEnrVerifyCache()
    const v4 = getV4Crypto()
    for (let i = 0; i < 20; i++) {
      const key = randomKey()
      const enr = SignableENR.createV4(key)
      const content = Uint8Array.from({length: 40 + i}, (_, j) => (i * 31 + j) & 0xff)
      const sig = defaultCrypto.sign(key, content)
      expect(v4.nodeId(enr.publicKey)).toBe(defaultCrypto.nodeId(enr.publicKey))
      expect(v4.verify(enr.publicKey, content, sig)).toBe(true)
      expect(defaultCrypto.verify(enr.publicKey, content, sig)).toBe(true)
      const other = Uint8Array.from(content)
      other[0]! ^= 1
      expect(v4.verify(enr.publicKey, other, sig)).toBe(false)
      const twin = highSTwin(sig)
      expect(v4.verify(enr.publicKey, content, twin)).toBe(false)
      expect(defaultCrypto.verify(enr.publicKey, content, twin)).toBe(false)
    }
  })
})
