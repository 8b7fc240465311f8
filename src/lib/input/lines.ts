import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'

import {BadInputError, WakuDiscError, abortError, throwIfAborted} from '../errors.js'

/** One non-empty line of user input, with where it came from (for error messages). */
export interface InputLine {
  /** `argument 2`, `stdin`, or a file path. */
  source: string
  /** 1-based line number within the source. */
  line: number
  text: string
}

export interface ReadInputOptions {
  /** Stream used for the `-` argument; defaults to process.stdin. */
  stdin?: Readable
  /** Longest accepted line in bytes; longer lines are rejected instead of buffered without bound. */
  maxLineLength?: number
}

const DEFAULT_MAX_LINE = 64 * 1024

/**
 * Expands command arguments into input lines: `-` reads stdin, an existing file is read line by
 * line, anything else is taken literally. Blank lines and `#` comments are skipped, and text after
 * the first whitespace on a line is dropped (bootnode files often annotate records: lodestar #5833).
 */
export async function* readInputLines(args: readonly string[], options: ReadInputOptions = {}): AsyncGenerator<InputLine> {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE
  for (const [index, arg] of args.entries()) {
    if (arg === '-') {
      yield* readStreamLines(options.stdin ?? process.stdin, 'stdin', max)
      continue
    }
    if (await isFile(arg)) {
      yield* readStreamLines(createReadStream(arg, {encoding: 'utf8'}), arg, max)
      continue
    }
    const text = cleanLine(arg)
    if (text !== undefined) yield {source: `argument ${index + 1}`, line: 1, text}
  }
}

/** Reads all lines of `args` into an array (small inputs only). */
export async function collectInputLines(args: readonly string[], options: ReadInputOptions = {}): Promise<InputLine[]> {
  const lines: InputLine[] = []
  for await (const line of readInputLines(args, options)) lines.push(line)
  return lines
}

/** Whether `path` names an existing regular file (inputs that are not are taken literally). */
export async function isFile(path: string): Promise<boolean> {
  // Record text never contains a path separator plus an existing file; cheap check first.
  if (path.length > 4096) return false
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

async function* readStreamLines(stream: Readable, source: string, max: number): AsyncGenerator<InputLine> {
  const rl = createInterface({input: stream, crlfDelay: Infinity})
  let line = 0
  try {
    for await (const raw of rl) {
      line++
      if (raw.length > max) {
        throw new BadInputError('INPUT_LINE_TOO_LONG', `${source}:${line}: line is ${raw.length} characters, the limit is ${max}`)
      }
      const text = cleanLine(raw)
      if (text !== undefined) yield {source, line, text}
    }
  } catch (error) {
    if (error instanceof BadInputError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new BadInputError('INPUT_UNREADABLE', `${source}: cannot read (${code ?? (error as Error).message})`, {cause: error})
  } finally {
    rl.close()
  }
}

/**
 * The entry on one line of input: blank lines and `#` or `//` comments give undefined, otherwise
 * the first whitespace-separated token (the rest of the line is an annotation).
 */
export function cleanLine(raw: string): string | undefined {
  const trimmed = raw.trim()
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) return undefined
  const token = trimmed.split(/\s+/, 1)[0]
  return token
}

export interface ReadSourceOptions {
  /** Largest accepted input in bytes; reading stops with INPUT_TOO_LARGE beyond it. */
  maxBytes: number
  signal?: AbortSignal
}

/**
 * Reads a whole stream (a file or stdin) as UTF-8 text, refusing more than `maxBytes` and
 * stopping when `signal` fires. `source` names the input in error messages.
 */
export async function readSourceText(stream: Readable, source: string, options: ReadSourceOptions): Promise<string> {
  throwIfAborted(options.signal, `reading ${source}`)
  const chunks: Buffer[] = []
  let size = 0
  const signal = options.signal
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal!, `reading ${source}`))
    signal?.addEventListener('abort', onAbort, {once: true})
  })
  aborted.catch(() => undefined)
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<string | Buffer>
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted])
      if (next.done) break
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value
      size += chunk.length
      if (size > options.maxBytes) {
        throw new BadInputError('INPUT_TOO_LARGE', `${source}: more than ${options.maxBytes} bytes, the limit for one input`)
      }
      chunks.push(chunk)
    }
  } catch (error) {
    if (error instanceof WakuDiscError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new BadInputError('INPUT_UNREADABLE', `${source}: cannot read (${code ?? (error as Error).message})`, {cause: error})
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    // Stop the stream when we leave early (limit, abort, error); a finished one is closed already.
    void iterator.return?.().catch(() => undefined)
  }
  return Buffer.concat(chunks).toString('utf8')
}
