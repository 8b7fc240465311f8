/**
 * The small set of typed errors the library throws. Each carries a stable `code`, the process exit
 * code the CLI maps it to (0 ok, 2 bad input, 3 check failed, 4 unreachable, 5 protocol, 6 config,
 * 130 interrupted; the README's Exit codes section), an optional one-line `hint` and structured `details`.
 * Callers tell them apart by `name`, `code` or `exitCode`, never by message text.
 *
 * Codes are UPPER_SNAKE (`BAD_BOOTNODE`, `ENR_BASE64_PADDING`). The ENR, RLP and key codes used to
 * be dotted lower-case (`enr.base64-padding`); each old name stays valid as an alias of the new one
 * (derived mechanically, see upperSnakeCode): `toJSON()` lists it under `aliases` and `hasCode`
 * matches it, so callers comparing against the old codes can migrate.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  badInput: 2,
  checkFailed: 3,
  unreachable: 4,
  protocol: 5,
  config: 6,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorOptions {
  hint?: string
  details?: Record<string, unknown>
  cause?: unknown
}

export interface ErrorJson {
  name: string
  code: string
  /** Older names of `code` that still identify this error (e.g. `enr.base64-padding` for ENR_BASE64_PADDING). */
  aliases?: string[]
  exitCode: number
  message: string
  hint?: string
  details?: Record<string, unknown>
}

export abstract class WakuDiscError extends Error {
  abstract readonly exitCode: ExitCodeValue
  readonly code: string
  readonly hint?: string
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.hint = options.hint
    this.details = options.details
  }

  toJSON(): ErrorJson {
    const aliases = codeAliases(this.code)
    const json: ErrorJson = {name: this.name, code: this.code, ...(aliases.length > 0 ? {aliases} : {}), exitCode: this.exitCode, message: this.message}
    if (this.hint !== undefined) json.hint = this.hint
    if (this.details !== undefined) json.details = this.details
    return json
  }
}

/** Input that cannot be parsed or used: malformed ENR text, bad flags, unreadable files. Exit 2. */
export class BadInputError extends WakuDiscError {
  override readonly name = 'BadInputError'
  readonly exitCode = ExitCode.badInput
}

/** Input parsed but failed a check: bad signature, size limit, expectation not met. Exit 3. */
export class CheckFailedError extends WakuDiscError {
  override readonly name = 'CheckFailedError'
  readonly exitCode = ExitCode.checkFailed
}

/** A remote could not be reached or did not answer in time. Exit 4. */
export class UnreachableError extends WakuDiscError {
  override readonly name = 'UnreachableError'
  readonly exitCode = ExitCode.unreachable
}

/** A remote answered something the protocol does not allow. Exit 5. */
export class ProtocolError extends WakuDiscError {
  override readonly name = 'ProtocolError'
  readonly exitCode = ExitCode.protocol
}

/** Missing or wrong configuration or credentials (key files, passwords, API tokens). Exit 6. */
export class ConfigError extends WakuDiscError {
  override readonly name = 'ConfigError'
  readonly exitCode = ExitCode.config
}

/** The operation was aborted (SIGINT, SIGTERM or --timeout on a long job). Exit 130. */
export class InterruptedError extends WakuDiscError {
  override readonly name = 'InterruptedError'
  readonly exitCode = ExitCode.interrupted
}

/** The UPPER_SNAKE form of a dotted lower-case code: `enr.base64-padding` → `ENR_BASE64_PADDING`, `rlp.canon-int` → `RLP_CANON_INT`. */
export function upperSnakeCode(dotted: string): string {
  return dotted.replace(/[.-]/g, '_').toUpperCase()
}

// Every dotted code thrown before codes were unified on UPPER_SNAKE. Frozen: new codes are
// UPPER_SNAKE from the start and get no alias.
const LEGACY_CODES = [
  // RLP (src/lib/rlp: go-ethereum's ErrCanonInt, ErrCanonSize, … and [N]byte length)
  'rlp.canon-int', 'rlp.canon-size', 'rlp.elem-too-large', 'rlp.value-too-large', 'rlp.more-than-one-value',
  'rlp.expected-string', 'rlp.expected-list', 'rlp.uint-overflow', 'rlp.too-deep', 'rlp.empty-input', 'rlp.wrong-length',
  // ENR text and structure (src/lib/enr/text.ts, parse.ts; enr decode/lint/encode)
  'enr.base64-padding', 'enr.base64-alphabet', 'enr.base64-length', 'enr.base64-trailing-bits', 'enr.input-type',
  'enr.empty', 'enr.enode-url', 'enr.hex', 'enr.no-input', 'enr.not-a-list', 'enr.too-short', 'enr.incomplete-pair',
  'enr.key-not-string', 'enr.duplicate-key', 'enr.keys-unsorted', 'signature.not-bytes',
  'seq.canon-int', 'seq.uint-overflow', 'seq.expected-string',
  // ENR identity
  'id.missing', 'id.unknown-scheme', 'secp256k1.missing', 'secp256k1.bad-length', 'secp256k1.invalid-point',
  // ENR validation failures, thrown by parseEnr under the code of their finding
  'size.over-limit', 'signature.bad-length', 'signature.invalid',
  'ip.bad-length', 'ip6.bad-length', 'multiaddrs.malformed', 'rs.bad-length', 'rsv.bad-length',
  'tcp.bad-length', 'udp.bad-length', 'tcp6.bad-length', 'udp6.bad-length', 'quic.bad-length', 'quic6.bad-length',
  'tcp.non-canonical', 'udp.non-canonical', 'tcp6.non-canonical', 'udp6.non-canonical', 'quic.non-canonical', 'quic6.non-canonical',
  'ip.not-bytes', 'ip6.not-bytes', 'tcp.not-bytes', 'udp.not-bytes', 'tcp6.not-bytes', 'udp6.not-bytes', 'quic.not-bytes',
  'quic6.not-bytes', 'multiaddrs.not-bytes', 'rs.not-bytes', 'rsv.not-bytes',
  // enode:// URLs (src/lib/enr/enode.ts)
  'enode.scheme', 'enode.public-key', 'enode.host', 'enode.port', 'enode.discport',
  // encodeEnr and enr encode
  'encode.key-mismatch', 'encode.key-name', 'seq.overflow', 'seq.out-of-range', 'seq.malformed', 'shards.malformed',
  'ip.malformed', 'ip6.malformed', 'tcp.out-of-range', 'udp.out-of-range', 'tcp6.out-of-range', 'udp6.out-of-range',
  'multiaddrs.holds-p2p', 'waku2.unknown-capability', 'waku2.all-zero',
  'rs.missing-cluster', 'rs.cluster-out-of-range', 'rs.shard-out-of-range', 'rs.no-shards',
  // keys and key files (src/lib/keys)
  'key.invalid', 'key.public-length', 'key.public-invalid', 'key.hex-format', 'sign.digest-length',
  'key.file-unreadable', 'key.file-format', 'key.file-permissions', 'key.file-exists', 'key.file-write',
  'key.password-file', 'key.password-missing', 'key.keystore-format', 'key.keystore-kdf', 'key.keystore-password',
] as const

/** Each renamed code → the dotted code it replaced (`ENR_BASE64_PADDING` → `enr.base64-padding`). */
export const LEGACY_CODE_ALIASES: ReadonlyMap<string, string> = new Map(LEGACY_CODES.map((old) => [upperSnakeCode(old), old]))

const FROM_ALIAS: ReadonlyMap<string, string> = new Map(LEGACY_CODES.map((old) => [old, upperSnakeCode(old)]))

/** The older names of a code (empty for codes that never had another name). */
export function codeAliases(code: string): string[] {
  const old = LEGACY_CODE_ALIASES.get(code)
  return old === undefined ? [] : [old]
}

/**
 * Whether an error (a WakuDiscError, its JSON, or anything with a string `code`) has `code`, under
 * its current name or an alias: `hasCode(err, 'enr.base64-padding')` and
 * `hasCode(err, 'ENR_BASE64_PADDING')` are both true for the padding error, and for a JSON error
 * written before the rename.
 */
export function hasCode(err: unknown, code: string): boolean {
  if (typeof err !== 'object' || err === null) return false
  const own = (err as {code?: unknown}).code
  if (typeof own !== 'string') return false
  return own === code || (FROM_ALIAS.get(own) ?? own) === (FROM_ALIAS.get(code) ?? code)
}

export function isWakuDiscError(err: unknown): err is WakuDiscError {
  return err instanceof WakuDiscError
}

/** Turns an AbortSignal's reason into our error type: a timeout is "unreachable", anything else "interrupted". */
export function abortError(signal: AbortSignal, what: string): WakuDiscError {
  const reason: unknown = signal.reason
  if (reason instanceof WakuDiscError) return reason
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new UnreachableError('TIMEOUT', `${what} timed out`, {cause: reason})
  }
  return new InterruptedError('ABORTED', `${what} was interrupted`, {cause: reason})
}

/** Throws our typed error if the signal has fired; call at the top of each step of a long job. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what)
}
