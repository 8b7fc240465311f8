/**
 * Rollback protection across runs: the highest seq seen per tree URL, kept in a small JSON file
 * (`{"enrtree://…": "42"}`), as EIP-1459 asks clients to do (https://eips.ethereum.org/EIPS/eip-1459).
 * The pure parts (reading the state, the update, the strictest bound) are exported for tests.
 */
import {readFile, rename, writeFile} from 'node:fs/promises'

import {BadInputError} from '../errors.js'

/** A seq as the state file and `--min-seq` hold it: decimal digits only. */
const DECIMAL = /^\d+$/

/** Parses a seq given as text (a flag value); `what` names it in the error ("--min-seq"). */
export function parseSeqText(text: string, what: string): bigint {
  if (!DECIMAL.test(text)) throw new BadInputError('DNS_BAD_SEQ', `${what} ${JSON.stringify(text)} is not a non-negative integer`)
  return BigInt(text)
}

/** The seq the state holds for `url`; undefined when there is none or it is not a decimal string. */
export function seenSeqIn(state: Record<string, unknown>, url: string): bigint | undefined {
  const seen = state[url]
  return typeof seen === 'string' && DECIMAL.test(seen) ? BigInt(seen) : undefined
}

/** The state with `seq` recorded for `url`, or undefined when it already holds that seq or a higher one. */
export function withSeenSeq(state: Record<string, string>, url: string, seq: string): Record<string, string> | undefined {
  const old = state[url]
  if (old !== undefined && DECIMAL.test(old) && BigInt(old) >= BigInt(seq)) return undefined
  return {...state, [url]: seq}
}

/** The higher of two lower bounds on seq (either may be absent). */
export function strictestMinSeq(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return b > a ? b : a
}

/** A state file holds one JSON object (`null`, arrays and scalars are not state). */
function isStateObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The seq seen before for `url`; undefined when the file does not exist or holds none. */
export async function readSeenSeq(path: string, url: string): Promise<bigint | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new BadInputError('DNS_STATE_FILE', `${path}: cannot read (${(error as NodeJS.ErrnoException).code})`)
  }
  let state: unknown
  try {
    state = JSON.parse(text)
  } catch {
    throw new BadInputError('DNS_STATE_FILE', `${path}: not JSON`)
  }
  if (!isStateObject(state)) throw new BadInputError('DNS_STATE_FILE', `${path}: not a JSON object of tree URL → seq`)
  return seenSeqIn(state, url)
}

/** Records `seq` for `url` unless the file holds that seq or a higher one; an unreadable file starts afresh. Written atomically (temp file + rename). */
export async function recordSeenSeq(path: string, url: string, seq: string): Promise<void> {
  let state: Record<string, string> = {}
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'))
    if (isStateObject(parsed)) state = parsed as Record<string, string>
  } catch {
    state = {}
  }
  const next = withSeenSeq(state, url, seq)
  if (next === undefined) return
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n')
  await rename(tmp, path)
}
