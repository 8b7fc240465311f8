/**
 * The one reader for secret files: keystore passwords (`--password-file`), TURN passwords
 * (`--turn-password-file`), DNS API tokens (`--token-file`), TSIG keys (`--tsig-key-file`) and AWS
 * credentials (`--aws-credentials-file`). Secrets only ever come from files or the environment,
 * never from flags (which show in `ps` and shell history). Every secret file gets the same rules:
 *
 * - **Size:** at most {@link MAX_SECRET_FILE_BYTES}; the read itself is bounded, so a FIFO,
 *   `/dev/zero` or a log file named by mistake cannot fill memory.
 * - **Permissions:** a file that group or others may access is refused (`'refuse'`, the default:
 *   ssh's rule for private keys, what the key loader has always done), reported through
 *   `onWarning` (`'warn'`), or not looked at (`'ignore'`). Never checked on Windows.
 * - **Content:** the bytes must be UTF-8. Kind `'line'` (a password or token) is the file's first
 *   line without its line ending (`\n` or `\r\n`), as geth reads `--password` files: later lines
 *   are ignored, nothing else is stripped (spaces can belong to a password). Kind `'text'` (a
 *   TSIG key block, an AWS credentials file) is the whole file, for the caller to parse. An empty
 *   file, or an empty first line for `'line'`, is refused: it is a mistake, never a secret.
 * - **Errors:** {@link SecretFileError}, a ConfigError (exit 6) carrying the caller's public error
 *   code (so `--json` codes stay what they were), a `reason`, and the path — never the content.
 *
 * Environment variables are the other source: {@link resolveSecret} takes the environment as an
 * argument (tests inject one; the library never reads `process.env` behind the caller's back) and
 * returns an environment value verbatim.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {open} from 'node:fs/promises'

import {ConfigError} from './errors.js'

/** Largest secret file read (64 KiB, the keystore loader's cap): room for an AWS credentials file with many profiles. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024

export type SecretKind = 'line' | 'text'
export type SecretPermissionPolicy = 'refuse' | 'warn' | 'ignore'
export type SecretFileProblem = 'unreadable' | 'too-large' | 'not-utf8' | 'empty' | 'permissions'

export interface SecretFileOptions {
  /** What the file is, for messages: "password file", "--turn-password-file", "TSIG key file". */
  what: string
  /** Public error code for every problem except permissions (e.g. `KEY_PASSWORD_FILE`, `DNS_SECRET_FILE`). */
  code: string
  /** `'line'` (default): a password or token, the first line; `'text'`: the whole file. */
  kind?: SecretKind
  /** Group- or world-accessible files: refused (default), warned about, or accepted silently. */
  permissions?: SecretPermissionPolicy
  /** Error code when permissions are refused (default: `code`). */
  permissionsCode?: string
  /** Hint when permissions are refused (default: `chmod 600 PATH`); name the caller's override flag here. */
  permissionsHint?: string
  /** Told about a group/world-accessible file under `permissions: 'warn'`. */
  onWarning?: (message: string) => void
  /** Platform whose rules apply (default `process.platform`; injected by tests). */
  platform?: NodeJS.Platform
}

/** Any problem with a secret file. A ConfigError (exit 6); `reason` says which rule it broke. */
export class SecretFileError extends ConfigError {
  readonly reason: SecretFileProblem
  readonly path: string

  constructor(code: string, reason: SecretFileProblem, path: string, message: string, options: {hint?: string; cause?: unknown} = {}) {
    super(code, message, {...options, details: {path, reason}})
    this.reason = reason
    this.path = path
  }
}

export type DecodedSecret = {ok: true; value: string} | {ok: false; reason: 'too-large' | 'not-utf8' | 'empty'}

/**
 * The pure core: a secret file's bytes to its value under the rules above. `bytes` may be longer
 * than the cap by one byte (how a bounded read tells "exactly the cap" from "more").
 */
export function decodeSecret(bytes: Uint8Array, kind: SecretKind = 'line'): DecodedSecret {
  if (bytes.length > MAX_SECRET_FILE_BYTES) return {ok: false, reason: 'too-large'}
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(bytes)
  } catch {
    return {ok: false, reason: 'not-utf8'}
  }
  const value = kind === 'line' ? firstLine(text) : text
  return value === '' ? {ok: false, reason: 'empty'} : {ok: true, value}
}

/** The text before the first `\n`, without a `\r` that ends it (geth: split on "\n", TrimRight "\r"). */
export function firstLine(text: string): string {
  const end = text.indexOf('\n')
  if (end < 0) return text
  return text.slice(0, end > 0 && text[end - 1] === '\r' ? end - 1 : end)
}

/** Whether a file's mode lets group or others at it (what ssh refuses for a private key). */
export function modeIsShared(mode: number): boolean {
  return (mode & 0o077) !== 0
}

/**
 * The one permission check for secret files (also used by the key loader for hex key files).
 * Throws under `'refuse'`, calls `onWarning` under `'warn'`.
 */
export function checkSecretMode(path: string, mode: number, options: SecretFileOptions): void {
  const policy = options.permissions ?? 'refuse'
  if (policy === 'ignore' || (options.platform ?? process.platform) === 'win32' || !modeIsShared(mode)) return
  const octal = (mode & 0o777).toString(8).padStart(4, '0')
  const message = `${options.what} ${path} is accessible by group or others (mode ${octal}); a secret there may already be exposed`
  if (policy === 'warn') {
    options.onWarning?.(`${message} (chmod 600 ${path})`)
    return
  }
  throw new SecretFileError(options.permissionsCode ?? options.code, 'permissions', path, message, {hint: options.permissionsHint ?? `chmod 600 ${path}`})
}

function problem(path: string, options: SecretFileOptions, reason: 'too-large' | 'not-utf8' | 'empty'): SecretFileError {
  const text = {
    'too-large': `is larger than ${MAX_SECRET_FILE_BYTES} bytes, too large for a secret`,
    'not-utf8': 'is not UTF-8 text',
    empty: (options.kind ?? 'line') === 'line' ? 'has no secret on its first line' : 'is empty',
  }[reason]
  return new SecretFileError(options.code, reason, path, `${options.what} ${path} ${text}`)
}

function unreadable(path: string, options: SecretFileOptions, error: unknown): SecretFileError {
  if (error instanceof SecretFileError) return error
  const why = (error as NodeJS.ErrnoException).code ?? String(error)
  return new SecretFileError(options.code, 'unreadable', path, `cannot read ${options.what} ${path} (${why})`, {cause: error})
}

function finish(path: string, bytes: Uint8Array, options: SecretFileOptions): string {
  const decoded = decodeSecret(bytes, options.kind)
  if (!decoded.ok) throw problem(path, options, decoded.reason)
  return decoded.value
}

/** Reads a secret file under the rules in this module's header. */
export async function readSecretFile(path: string, options: SecretFileOptions): Promise<string> {
  let bytes: Uint8Array
  try {
    const handle = await open(path, 'r')
    try {
      checkSecretMode(path, (await handle.stat()).mode, options)
      const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1)
      let length = 0
      for (;;) {
        const {bytesRead} = await handle.read(buffer, length, buffer.length - length, null)
        if (bytesRead === 0) break
        length += bytesRead
        if (length === buffer.length) break
      }
      bytes = buffer.subarray(0, length)
    } finally {
      await handle.close()
    }
  } catch (error) {
    throw unreadable(path, options, error)
  }
  return finish(path, bytes, options)
}

/** {@link readSecretFile} for synchronous callers (flag parsing that cannot await). */
export function readSecretFileSync(path: string, options: SecretFileOptions): string {
  let bytes: Uint8Array
  try {
    const fd = openSync(path, 'r')
    try {
      checkSecretMode(path, fstatSync(fd).mode, options)
      const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1)
      let length = 0
      for (;;) {
        const bytesRead = readSync(fd, buffer, length, buffer.length - length, null)
        if (bytesRead === 0) break
        length += bytesRead
        if (length === buffer.length) break
      }
      bytes = buffer.subarray(0, length)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    throw unreadable(path, options, error)
  }
  return finish(path, bytes, options)
}

export interface SecretSource {
  /** A secret file; wins over the environment when given. */
  file?: string
  /** The environment variable consulted without a file. */
  envVar: string
  /** The environment to read it from (callers pass `options.env ?? process.env`; tests inject one). */
  env: Record<string, string | undefined>
}

/**
 * A secret from its file if one is named, else from the environment (verbatim, even when empty:
 * callers decide what an empty variable means); undefined when neither has it.
 */
export async function resolveSecret(source: SecretSource, options: SecretFileOptions): Promise<{value: string; from: 'file' | 'env'} | undefined> {
  if (source.file !== undefined) return {value: await readSecretFile(source.file, options), from: 'file'}
  const value = source.env[source.envVar]
  return value === undefined ? undefined : {value, from: 'env'}
}
