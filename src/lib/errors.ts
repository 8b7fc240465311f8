/**
 * The small set of typed errors the library throws. Each carries a stable `code`, the process exit
 * code the CLI maps it to (SPEC §0), an optional one-line `hint` and structured `details`.
 * Callers tell them apart by `name` or `exitCode`, never by message text.
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
    const json: ErrorJson = {name: this.name, code: this.code, exitCode: this.exitCode, message: this.message}
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
