/**
 * Key files in go-ethereum's two formats:
 * - hex: exactly 64 hex characters (optionally followed by whitespace), what `crypto.SaveECDSA`
 *   writes and `crypto.LoadECDSA` / `devp2p key generate` use;
 * - keystore v3 JSON (geth `accounts/keystore`, `ethkey`): scrypt (or pbkdf2) + aes-128-ctr,
 *   MAC = keccak256(derivedKey[16:32] ‖ ciphertext).
 * Files are written with mode 0600, atomically (temporary file in the same directory, then rename).
 */
import {createCipheriv, createDecipheriv, pbkdf2 as pbkdf2Cb, randomBytes, randomUUID, scrypt as scryptCb, timingSafeEqual} from 'node:crypto'
import {open, readFile, rename, rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {scryptAsync as nobleScrypt} from '@noble/hashes/scrypt.js'
import {keccak_256} from '@noble/hashes/sha3.js'
import {secp256k1} from '@noble/curves/secp256k1.js'

import {ConfigError, WakuDiscError} from '../errors.js'
import {checkSecretMode, resolveSecret, type SecretFileOptions} from '../secrets.js'
import {bytesToHex, hexToBytes} from './hex.js'

/** Bounds applied before running a KDF on a keystore we did not write (an untrusted file could ask for terabytes). */
export const KEYSTORE_LIMITS = {
  maxScryptN: 2 ** 20,
  /** r is 8 in geth's files and 1 in the Web3 Secret Storage test vector; nothing else is seen. */
  maxScryptR: 8,
  maxScryptP: 16,
  /** N·r·p, the work scrypt does: 16× geth's standard (2^18·8·1). */
  maxScryptCost: 2 ** 25,
  dklen: 32,
  maxPbkdf2Iterations: 10_000_000,
  maxFileBytes: 64 * 1024,
} as const

export interface KeystoreV3 {
  version: 3
  id: string
  address: string
  crypto: {
    cipher: 'aes-128-ctr'
    ciphertext: string
    cipherparams: {iv: string}
    kdf: 'scrypt'
    kdfparams: {dklen: number; n: number; p: number; r: number; salt: string}
    mac: string
  }
}

export interface LoadKeyOptions {
  /** File whose first line is the keystore password. */
  passwordFile?: string
  password?: string
  /** Environment to read WAKU_DISC_KEY_PASSWORD from (default process.env). */
  env?: Record<string, string | undefined>
  /**
   * Accept a hex key file or password file that group or others may read (refused by default,
   * like ssh refuses an unprotected private key: the secret may already be exposed).
   */
  insecurePermissions?: boolean
}

/** The key commands' rules for hex key files and password files: lib/secrets.ts, refusing shared files unless told. */
function secretOptions(path: string, what: string, code: string, options: LoadKeyOptions): SecretFileOptions {
  return {
    what,
    code,
    permissions: options.insecurePermissions ? 'ignore' : 'refuse',
    permissionsCode: 'KEY_FILE_PERMISSIONS',
    permissionsHint: `chmod 600 ${path}, or pass --insecure-key-permissions`,
  }
}

export interface WriteKeyOptions {
  /** Replace an existing file (default: refuse, so a key is never lost by accident). */
  overwrite?: boolean
}

const PASSWORD_ENV = 'WAKU_DISC_KEY_PASSWORD'

function validKey(key: Uint8Array): boolean {
  return key.length === 32 && secp256k1.utils.isValidSecretKey(key)
}

/**
 * Reads the password from `password`, then `passwordFile` (its first line, lib/secrets.ts rules),
 * then WAKU_DISC_KEY_PASSWORD.
 */
export async function resolvePassword(options: LoadKeyOptions, what: string): Promise<string> {
  if (options.password !== undefined) return options.password
  const file = options.passwordFile
  const found = await resolveSecret({file, envVar: PASSWORD_ENV, env: options.env ?? process.env}, secretOptions(file ?? '', 'password file', 'KEY_PASSWORD_FILE', options))
  if (found) return found.value
  throw new ConfigError('KEY_PASSWORD_MISSING', `${what} is an encrypted keystore and no password was given`, {
    hint: `pass --password-file FILE or set ${PASSWORD_ENV}`,
  })
}

/**
 * Loads a private key from a hex key file or a keystore v3 JSON file. ConfigError for every problem
 * (missing file, wrong format, wrong password, KDF parameters out of bounds).
 */
export async function loadPrivateKey(path: string, options: LoadKeyOptions = {}): Promise<Uint8Array> {
  return (await readKeyFile(path, options)).privateKey
}

export type KeyFileFormat = 'hex' | 'keystore'

/** Like loadPrivateKey, and also says which format the file is in. */
export async function readKeyFile(path: string, options: LoadKeyOptions = {}): Promise<{privateKey: Uint8Array; format: KeyFileFormat}> {
  let info
  try {
    info = await stat(path)
  } catch (error) {
    throw new ConfigError('KEY_FILE_UNREADABLE', `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {cause: error})
  }
  if (!info.isFile()) throw new ConfigError('KEY_FILE_UNREADABLE', `key file ${path} is not a regular file`)
  if (info.size > KEYSTORE_LIMITS.maxFileBytes) throw new ConfigError('KEY_FILE_FORMAT', `key file ${path} is ${info.size} bytes, too large for a key or keystore`)
  const text = await readFile(path, 'utf8')
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let json: unknown
    try {
      json = JSON.parse(trimmed)
    } catch (error) {
      throw new ConfigError('KEY_FILE_FORMAT', `key file ${path} looks like JSON but does not parse: ${(error as Error).message}`)
    }
    const password = await resolvePassword(options, `key file ${path}`)
    try {
      return {privateKey: await decryptKeystore(json, password), format: 'keystore'}
    } catch (error) {
      if (error instanceof WakuDiscError) throw new ConfigError(error.code, `key file ${path}: ${error.message}`, {hint: error.hint, cause: error})
      throw error
    }
  }
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    throw new ConfigError('KEY_FILE_FORMAT', `key file ${path} is neither 64 hex characters (geth key format) nor a keystore JSON`)
  }
  // An unencrypted key readable by others is refused (keystores are encrypted, so they are not).
  checkSecretMode(path, info.mode, secretOptions(path, 'key file', 'KEY_FILE_PERMISSIONS', options))
  const key = hexToBytes(trimmed)
  if (!validKey(key)) throw new ConfigError('KEY_INVALID', `key file ${path} holds an invalid secp256k1 key (zero or ≥ curve order)`)
  return {privateKey: key, format: 'hex'}
}

/** Writes `data` to `path` with mode 0600 via a temporary file and rename (never a half-written key). */
async function writeSecretFile(path: string, data: string, options: WriteKeyOptions): Promise<void> {
  if (!options.overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    )
    if (exists) throw new ConfigError('KEY_FILE_EXISTS', `${path} already exists; refusing to overwrite a key file`, {hint: 'choose another path or delete the file first'})
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  let handle
  try {
    handle = await open(tmp, 'wx', 0o600)
  } catch (error) {
    throw new ConfigError('KEY_FILE_WRITE', `cannot create ${tmp}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {cause: error})
  }
  try {
    await handle.chmod(0o600) // the umask cannot widen 0600, but be explicit
    await handle.writeFile(data, 'utf8')
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(tmp, path)
  } catch (error) {
    await handle?.close().catch(() => {})
    await rm(tmp, {force: true})
    throw new ConfigError('KEY_FILE_WRITE', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {cause: error})
  }
}

/** Writes a geth-format hex key file (64 hex characters, no newline, like crypto.SaveECDSA), mode 0600. */
export async function writeHexKeyFile(path: string, privateKey: Uint8Array, options: WriteKeyOptions = {}): Promise<void> {
  if (!validKey(privateKey)) throw new ConfigError('KEY_INVALID', 'refusing to write an invalid secp256k1 key')
  await writeSecretFile(path, bytesToHex(privateKey), options)
}

/** Writes a keystore v3 JSON (scrypt N default 2^18 like geth's StandardScryptN, r=8, p=1), mode 0600. */
export async function writeKeystoreFile(
  path: string,
  privateKey: Uint8Array,
  password: string,
  options: {scryptN?: number} & WriteKeyOptions = {},
): Promise<void> {
  const keystore = await encryptKeystore(privateKey, password, options)
  await writeSecretFile(path, JSON.stringify(keystore, null, 2) + '\n', options)
}

async function scrypt(password: Uint8Array, salt: Uint8Array, n: number, r: number, p: number, dklen: number): Promise<Uint8Array> {
  const maxmem = 128 * r * (n + p + 2) + 1024 * 1024
  // OpenSSL enforces RFC 7914's N < 2^(16r), which Go's scrypt (and so geth) does not: the Web3
  // Secret Storage vector itself uses N=2^18 with r=1. Such files go through @noble/hashes.
  if (n >= 2 ** (16 * r)) {
    try {
      return await nobleScrypt(password, salt, {N: n, r, p, dkLen: dklen, maxmem})
    } catch (error) {
      throw new ConfigError('KEY_KEYSTORE_KDF', `scrypt failed: ${(error as Error).message}`, {cause: error})
    }
  }
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, dklen, {N: n, r, p, maxmem}, (error, key) =>
      error ? reject(new ConfigError('KEY_KEYSTORE_KDF', `scrypt failed: ${error.message}`, {cause: error})) : resolve(new Uint8Array(key)),
    )
  })
}

function pbkdf2(password: Uint8Array, salt: Uint8Array, c: number, dklen: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    pbkdf2Cb(password, salt, c, dklen, 'sha256', (error, key) =>
      error ? reject(new ConfigError('KEY_KEYSTORE_KDF', `pbkdf2 failed: ${error.message}`, {cause: error})) : resolve(new Uint8Array(key)),
    )
  })
}

export async function encryptKeystore(privateKey: Uint8Array, password: string, options: {scryptN?: number} = {}): Promise<KeystoreV3> {
  if (!validKey(privateKey)) throw new ConfigError('KEY_INVALID', 'refusing to encrypt an invalid secp256k1 key')
  const n = options.scryptN ?? 2 ** 18
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0 || n > KEYSTORE_LIMITS.maxScryptN) {
    throw new ConfigError('KEY_KEYSTORE_KDF', `scrypt N must be a power of two between 2 and ${KEYSTORE_LIMITS.maxScryptN}`)
  }
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const derived = await scrypt(new TextEncoder().encode(password), salt, n, 8, 1, 32)
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv)
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(privateKey), cipher.final()]))
  const mac = keccak_256(new Uint8Array([...derived.subarray(16, 32), ...ciphertext]))
  const pub = secp256k1.getPublicKey(privateKey, false).subarray(1)
  return {
    version: 3,
    id: randomUUID(),
    address: bytesToHex(keccak_256(pub).subarray(12)),
    crypto: {
      cipher: 'aes-128-ctr',
      ciphertext: bytesToHex(ciphertext),
      cipherparams: {iv: bytesToHex(iv)},
      kdf: 'scrypt',
      kdfparams: {dklen: 32, n, p: 1, r: 8, salt: bytesToHex(salt)},
      mac: bytesToHex(mac),
    },
  }
}

function fail(message: string, code = 'KEY_KEYSTORE_FORMAT'): never {
  throw new ConfigError(code, message)
}

function field(obj: Record<string, unknown>, name: string): unknown {
  // Go's encoding/json matches field names case-insensitively; old geth files use "Crypto".
  if (name in obj) return obj[name]
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? undefined : obj[key]
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`keystore ${what} is missing or not an object`)
  return v as Record<string, unknown>
}

function hexField(o: Record<string, unknown>, name: string, what: string, length?: number): Uint8Array {
  const v = field(o, name)
  if (typeof v !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) fail(`keystore ${what} must be a hex string`)
  const bytes = hexToBytes(v)
  if (length !== undefined && bytes.length !== length) fail(`keystore ${what} must be ${length} bytes, got ${bytes.length}`)
  return bytes
}

function intField(o: Record<string, unknown>, name: string, what: string): number {
  const v = field(o, name)
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(`keystore ${what} must be a positive integer`)
  return v
}

/** Decrypts a keystore v3 object. KDF parameters are bounded before any work is done; the MAC is compared in constant time. */
export async function decryptKeystore(json: unknown, password: string): Promise<Uint8Array> {
  const top = obj(json, 'file')
  const version = field(top, 'version')
  if (version !== 3 && version !== '3') fail(`unsupported keystore version ${JSON.stringify(version)} (only version 3)`)
  const crypto = obj(field(top, 'crypto'), '"crypto"')
  const cipher = field(crypto, 'cipher')
  if (cipher !== 'aes-128-ctr') fail(`unsupported keystore cipher ${JSON.stringify(cipher)} (only aes-128-ctr)`)
  const iv = hexField(obj(field(crypto, 'cipherparams'), 'cipherparams'), 'iv', 'cipherparams.iv', 16)
  const ciphertext = hexField(crypto, 'ciphertext', 'ciphertext', 32)
  const mac = hexField(crypto, 'mac', 'mac', 32)
  const kdf = field(crypto, 'kdf')
  const params = obj(field(crypto, 'kdfparams'), 'kdfparams')
  const salt = hexField(params, 'salt', 'kdfparams.salt')
  if (salt.length === 0 || salt.length > 1024) fail('keystore kdfparams.salt must be 1-1024 bytes')
  const dklen = intField(params, 'dklen', 'kdfparams.dklen')
  if (dklen !== KEYSTORE_LIMITS.dklen) fail(`keystore kdfparams.dklen must be 32, got ${dklen}`, 'KEY_KEYSTORE_KDF')
  const pw = new TextEncoder().encode(password)
  let derived: Uint8Array
  if (kdf === 'scrypt') {
    const n = intField(params, 'n', 'kdfparams.n')
    const r = intField(params, 'r', 'kdfparams.r')
    const p = intField(params, 'p', 'kdfparams.p')
    if ((n & (n - 1)) !== 0 || n < 2 || n > KEYSTORE_LIMITS.maxScryptN) fail(`keystore scrypt n=${n} is out of bounds (power of two, at most 2^20)`, 'KEY_KEYSTORE_KDF')
    if (r > KEYSTORE_LIMITS.maxScryptR) fail(`keystore scrypt r=${r} is out of bounds (1-8)`, 'KEY_KEYSTORE_KDF')
    if (p > KEYSTORE_LIMITS.maxScryptP) fail(`keystore scrypt p=${p} is out of bounds (at most 16)`, 'KEY_KEYSTORE_KDF')
    if (n * r * p > KEYSTORE_LIMITS.maxScryptCost) fail(`keystore scrypt n·r·p=${n * r * p} is out of bounds (at most 2^25)`, 'KEY_KEYSTORE_KDF')
    derived = await scrypt(pw, salt, n, r, p, dklen)
  } else if (kdf === 'pbkdf2') {
    const c = intField(params, 'c', 'kdfparams.c')
    const prf = field(params, 'prf')
    if (prf !== 'hmac-sha256') fail(`unsupported keystore pbkdf2 prf ${JSON.stringify(prf)} (only hmac-sha256)`)
    if (c > KEYSTORE_LIMITS.maxPbkdf2Iterations) fail(`keystore pbkdf2 c=${c} is out of bounds (at most 10,000,000)`, 'KEY_KEYSTORE_KDF')
    derived = await pbkdf2(pw, salt, c, dklen)
  } else {
    fail(`unsupported keystore kdf ${JSON.stringify(kdf)} (scrypt or pbkdf2)`)
  }
  const expected = keccak_256(new Uint8Array([...derived.subarray(16, 32), ...ciphertext]))
  if (!timingSafeEqual(expected, mac)) fail('keystore password is wrong (MAC mismatch)', 'KEY_KEYSTORE_PASSWORD')
  const decipher = createDecipheriv('aes-128-ctr', derived.subarray(0, 16), iv)
  const key = new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]))
  if (!validKey(key)) fail('keystore decrypts to an invalid secp256k1 key', 'KEY_INVALID')
  return key
}
