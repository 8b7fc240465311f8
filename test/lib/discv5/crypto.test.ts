import {ENR, SignableENR} from '@chainsafe/enr'
import {describe, expect, it} from 'vitest'

import {enrCacheStats, installDiscv5Crypto, installEnrVerifyCache} from '../../../src/lib/discv5/index.js'
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
    const entry = import.meta.resolve('@chainsafe/discv5')
    const ours = (await import(new URL('./util/crypto.js', entry).href)).getDiscv5Crypto()
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
})
