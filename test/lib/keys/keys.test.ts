// Keys: identities against published vectors, RFC 6979 low-s signing, hex key files (geth format,
// 0600, atomic, no overwrite) and keystore v3 (Web3 Secret Storage vectors, KDF bounds, MAC).
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {ConfigError} from '../../../src/lib/errors.js'
import {
  decryptKeystore,
  encryptKeystore,
  generatePrivateKey,
  keccak256,
  keyIdentity,
  loadPrivateKey,
  peerIdOf,
  publicKeyOf,
  recoverPublicKey,
  showKeyFile,
  signDigest,
  verifyDigest,
  writeHexKeyFile,
  writeKeystoreFile,
} from '../../../src/lib/keys/index.js'
import {loadVector} from '../../helpers/vectors.js'

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const dir = mkdtempSync(join(tmpdir(), 'waku-disc-keys-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
let n = 0
const path = (name = 'k') => join(dir, `${name}-${n++}`)

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

// Web3 Secret Storage Definition test vectors (password "testpassword").
const WEB3_KEY = '7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'
const WEB3_PBKDF2 = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: {iv: '6087dab2f9fdbbfaddc31a909735c1e6'},
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd'},
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}
const WEB3_SCRYPT = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: {iv: '83dbcc02d8ccb40e466191a123791e0e'},
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: {dklen: 32, n: 262144, p: 8, r: 1, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19'},
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

describe('identities', () => {
  it('EIP-778 key: public key, node id, peer id', () => {
    const v = loadVector('enr-eip778.json')
    const id = keyIdentity(publicKeyOf(hex(v.private_key_hex)))
    expect(id.publicKey).toBe(v.expected_fields.secp256k1)
    expect(id.publicKeyUncompressed).toBe('04' + v.derived_verified.uncompressed_pubkey_xy_hex)
    expect(id.nodeId).toBe(v.node_id_hex)
    expect(id.peerId).toBe('16Uiu2HAmSH2XVgZqYHWucap5kuPzLnt2TsNQkoppVxB5eJGvaXwm')
  })
  it('enrtree key form matches go-ethereum\'s example tree URL', () => {
    const v = loadVector('dnsdisc-example-tree.json')
    const id = keyIdentity(publicKeyOf(hex(v.signing_key_hex)))
    expect(`enrtree://${id.enrtreeKey}@${v.domain}`).toBe(v.tree_url)
  })
  it('the direct peer id construction equals @libp2p/peer-id\'s', () => {
    for (let i = 0; i < 50; i++) {
      const pub = publicKeyOf(generatePrivateKey())
      expect(peerIdOf(pub, {validated: true})).toBe(peerIdOf(pub))
    }
  })
  it('accepts compressed, uncompressed and 64-byte x‖y public keys alike', () => {
    const k = generatePrivateKey()
    const a = keyIdentity(publicKeyOf(k))
    const full = hex(a.publicKeyUncompressed)
    expect(keyIdentity(full)).toEqual(a)
    expect(keyIdentity(full.subarray(1))).toEqual(a)
  })
})

describe('signDigest / verifyDigest', () => {
  const key = hex(WEB3_KEY)
  const digest = keccak256(new TextEncoder().encode('waku-disc'))
  it('is deterministic (RFC 6979), low-s, and recoverable', () => {
    const a = signDigest(digest, key)
    expect(a).toHaveLength(65)
    expect(toHex(signDigest(digest, key))).toBe(toHex(a))
    const s = BigInt('0x' + toHex(a.subarray(32, 64)))
    expect(s <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n).toBe(true)
    expect(verifyDigest(a, digest, publicKeyOf(key))).toBe(true)
    expect(verifyDigest(a.subarray(0, 64), digest, publicKeyOf(key))).toBe(true)
    expect(toHex(recoverPublicKey(a, digest)!)).toBe(toHex(publicKeyOf(key)))
  })
  it('rejects tampered, high-s and malformed signatures without throwing', () => {
    const sig = signDigest(digest, key)
    const bad = Uint8Array.from(sig)
    bad[5]! ^= 1
    expect(verifyDigest(bad, digest, publicKeyOf(key))).toBe(false)
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const hs = (N - BigInt('0x' + toHex(sig.subarray(32, 64)))).toString(16).padStart(64, '0')
    expect(verifyDigest(Uint8Array.from([...sig.subarray(0, 32), ...hex(hs)]), digest, publicKeyOf(key))).toBe(false)
    expect(verifyDigest(sig.subarray(0, 63), digest, publicKeyOf(key))).toBe(false)
    expect(verifyDigest(sig, digest.subarray(1), publicKeyOf(key))).toBe(false)
    expect(verifyDigest(sig, digest, new Uint8Array(33))).toBe(false)
  })
})

describe('hex key files (geth format)', () => {
  it('writes 64 hex characters with mode 0600 and reads them back', async () => {
    const p = path('hex')
    const k = generatePrivateKey()
    await writeHexKeyFile(p, k)
    expect(statSync(p).mode & 0o777).toBe(0o600)
    expect(readFileSync(p, 'utf8')).toMatch(/^[0-9a-f]{64}$/)
    expect(toHex(await loadPrivateKey(p))).toBe(toHex(k))
  })
  it('refuses to overwrite, and leaves no temporary file behind', async () => {
    const p = path('hex')
    await writeHexKeyFile(p, generatePrivateKey())
    const before = readFileSync(p, 'utf8')
    expect((await configError(writeHexKeyFile(p, generatePrivateKey()))).code).toBe('KEY_FILE_EXISTS')
    expect(readFileSync(p, 'utf8')).toBe(before)
    const {readdirSync} = await import('node:fs')
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
  it('accepts a trailing newline (geth devp2p key files) and rejects bad files with ConfigError', async () => {
    const p = path('hex')
    writeFileSync(p, WEB3_KEY + '\n', {mode: 0o600})
    expect(toHex(await loadPrivateKey(p))).toBe(WEB3_KEY)
    const cases: Array<[string, string]> = [
      [WEB3_KEY.slice(1), 'KEY_FILE_FORMAT'],
      ['zz' + WEB3_KEY.slice(2), 'KEY_FILE_FORMAT'],
      ['00'.repeat(32), 'KEY_INVALID'],
      ['ff'.repeat(32), 'KEY_INVALID'],
      ['{not json', 'KEY_FILE_FORMAT'],
    ]
    for (const [content, code] of cases) {
      const q = path('bad')
      writeFileSync(q, content, {mode: 0o600})
      expect((await configError(loadPrivateKey(q))).code, content).toBe(code)
    }
    expect((await configError(loadPrivateKey(join(dir, 'missing')))).code).toBe('KEY_FILE_UNREADABLE')
    expect((await configError(loadPrivateKey(dir))).code).toBe('KEY_FILE_UNREADABLE')
  })
})

describe('file permissions (ssh-style)', () => {
  it('refuses a hex key file or password file readable by group/others unless told otherwise', async () => {
    const p = path('open')
    writeFileSync(p, WEB3_KEY, {mode: 0o644})
    const {chmodSync} = await import('node:fs')
    chmodSync(p, 0o644)
    const err = await configError(loadPrivateKey(p))
    expect(err.code).toBe('KEY_FILE_PERMISSIONS')
    expect(err.message).toContain('mode 0644')
    expect(err.hint).toContain('chmod 600')
    expect(toHex(await loadPrivateKey(p, {insecurePermissions: true}))).toBe(WEB3_KEY)
    const ks = path('ks')
    await writeKeystoreFile(ks, hex(WEB3_KEY), 'pw', {scryptN: 1024})
    const pw = path('pw')
    writeFileSync(pw, 'pw\n')
    chmodSync(pw, 0o640)
    expect((await configError(loadPrivateKey(ks, {passwordFile: pw}))).code).toBe('KEY_FILE_PERMISSIONS')
    // keystores are encrypted: their own mode is not checked
    chmodSync(ks, 0o644)
    expect(toHex(await loadPrivateKey(ks, {password: 'pw'}))).toBe(WEB3_KEY)
  })
})

describe('keystore v3', () => {
  it('decrypts the Web3 Secret Storage pbkdf2 vector', async () => {
    expect(toHex(await decryptKeystore(WEB3_PBKDF2, 'testpassword'))).toBe(WEB3_KEY)
  })
  it('decrypts the Web3 Secret Storage scrypt vector (r=1, p=8)', async () => {
    expect(toHex(await decryptKeystore(WEB3_SCRYPT, 'testpassword'))).toBe(WEB3_KEY)
  }, 30_000)
  it('reports a wrong password as such', async () => {
    expect((await configError(decryptKeystore(WEB3_PBKDF2, 'wrong'))).code).toBe('KEY_KEYSTORE_PASSWORD')
  })
  it('writes geth-shaped keystores (0600) that decrypt back, with the password from a file or the environment', async () => {
    const k = generatePrivateKey()
    const p = path('ks')
    await writeKeystoreFile(p, k, 'pässword', {scryptN: 4096})
    expect(statSync(p).mode & 0o777).toBe(0o600)
    const json = JSON.parse(readFileSync(p, 'utf8'))
    expect(json).toMatchObject({version: 3, crypto: {cipher: 'aes-128-ctr', kdf: 'scrypt', kdfparams: {n: 4096, r: 8, p: 1, dklen: 32}}})
    expect(json.address).toMatch(/^[0-9a-f]{40}$/)
    expect(readFileSync(p, 'utf8')).not.toContain(toHex(k))
    const pw = path('pw')
    writeFileSync(pw, 'pässword\nsecond line ignored\n', {mode: 0o600})
    expect(toHex(await loadPrivateKey(p, {passwordFile: pw}))).toBe(toHex(k))
    expect(toHex(await loadPrivateKey(p, {env: {WAKU_DISC_KEY_PASSWORD: 'pässword'}}))).toBe(toHex(k))
    const info = await showKeyFile(p, {password: 'pässword'})
    expect(info).toMatchObject({format: 'keystore', ...keyIdentity(publicKeyOf(k)), address: json.address})
    expect(JSON.stringify(info)).not.toContain(toHex(k))
    expect((await configError(loadPrivateKey(p, {env: {}}))).code).toBe('KEY_PASSWORD_MISSING')
  })
  it('reads old "Crypto" capitalisation (Go JSON is case-insensitive)', async () => {
    const {crypto, ...rest} = WEB3_PBKDF2
    expect(toHex(await decryptKeystore({...rest, Crypto: crypto}, 'testpassword'))).toBe(WEB3_KEY)
  })
  it('bounds KDF parameters before doing any work on an untrusted keystore', async () => {
    const base = await encryptKeystore(generatePrivateKey(), 'x', {scryptN: 1024})
    const withParams = (p: Record<string, unknown>) => ({...base, crypto: {...base.crypto, kdfparams: {...base.crypto.kdfparams, ...p}}})
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{n: 2 ** 21}, /n=2097152 is out of bounds/],
      [{n: 1000}, /power of two/],
      [{r: 16}, /r=16 is out of bounds/],
      [{p: 17}, /p=17 is out of bounds/],
      [{n: 2 ** 20, r: 8, p: 16}, /out of bounds/],
      [{dklen: 64}, /dklen must be 32/],
      [{dklen: 16}, /dklen must be 32/],
    ]
    for (const [params, message] of cases) {
      const started = performance.now()
      const err = await configError(decryptKeystore(withParams(params), 'x'))
      expect(err.code).toBe('KEY_KEYSTORE_KDF')
      expect(err.message).toMatch(message)
      // Rejected without running the KDF (n=2^21, r=8 would take seconds and 2 GiB).
      expect(performance.now() - started).toBeLessThan(2000)
    }
    const pb = {...WEB3_PBKDF2, crypto: {...WEB3_PBKDF2.crypto, kdfparams: {...WEB3_PBKDF2.crypto.kdfparams, c: 100_000_000}}}
    expect((await configError(decryptKeystore(pb, 'x'))).code).toBe('KEY_KEYSTORE_KDF')
  })
  it('rejects malformed keystores with precise messages', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /file is missing or not an object/],
      [{version: 1}, /unsupported keystore version 1/],
      [{version: 3}, /"crypto" is missing/],
      [{...WEB3_PBKDF2, crypto: {...WEB3_PBKDF2.crypto, cipher: 'aes-128-cbc'}}, /unsupported keystore cipher/],
      [{...WEB3_PBKDF2, crypto: {...WEB3_PBKDF2.crypto, kdf: 'argon2'}}, /unsupported keystore kdf/],
      [{...WEB3_PBKDF2, crypto: {...WEB3_PBKDF2.crypto, mac: 'zz'}}, /mac must be a hex string/],
      [{...WEB3_PBKDF2, crypto: {...WEB3_PBKDF2.crypto, cipherparams: {iv: '00'}}}, /iv must be 16 bytes/],
    ]
    for (const [json, message] of cases) expect((await configError(decryptKeystore(json, 'x'))).message).toMatch(message)
  })
})
