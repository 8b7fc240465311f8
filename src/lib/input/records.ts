/**
 * Records from the user, read one way everywhere (crawl --bootnode files and stdin, caps targets
 * and --nodes, px serve --nodes, dns-tree build and tree directories): each input is literal text
 * (an ENR as `enr:…`, bare base64url or hex; an `enode://` URL; a multiaddr), a file, or `-` for
 * stdin. A file or stdin holds one entry per line (blank lines, `#` and `//` comments skipped,
 * text after the first space dropped), a geth nodes.json, or the NDJSON `crawl --ndjson` writes
 * (JSON shapes are read by the node-set parser, so they are checked exactly as `dns-tree` and
 * geth's tools check them).
 *
 * Every entry says where it came from (`file:line`, `stdin:line`, `argument 2`). A bad entry is
 * either thrown (strict, the default: BadInputError naming source:line, or CheckFailedError for a
 * well-formed record that fails a check such as its signature) or, with `lenient`, skipped and
 * reported through `onProblem` and `problems`. Reading is bounded (bytes per input, characters per
 * line) and stops when the signal fires.
 */
import {createReadStream} from 'node:fs'
import type {Readable} from 'node:stream'

import {parseEnode, parseEnr, type EnodeInfo, type EnrRecord} from '../enr/index.js'
import {BadInputError, CheckFailedError, WakuDiscError, isWakuDiscError, throwIfAborted} from '../errors.js'
import {entryFromRecord} from '../nodeset/entries.js'
import {parseNodeSetText, type NodeSet, type NodeSetEntry, type NodeSetProblem, type NodeSetReadResult} from '../nodeset/index.js'
import {cleanLine, isFile, readSourceText} from './lines.js'

/** What an entry's text is: a signed record, a devp2p URL, or a libp2p address (parsed by the caller). */
export type RecordKind = 'enr' | 'enode' | 'multiaddr'

/** How an input was read: a literal argument, one entry per line, a geth nodes.json, or NDJSON. */
export type RecordFormat = 'argument' | 'lines' | 'nodes.json' | 'ndjson'

export interface RecordEntry {
  kind: RecordKind
  /** The entry as given (for nodes.json and NDJSON entries: the record string). */
  text: string
  /** Kind `enr`: the parsed record. */
  record?: EnrRecord
  /** Kind `enr`: the node-set entry (seq and record, plus score and times from nodes.json/NDJSON). */
  entry?: NodeSetEntry
  /** Kind `enode`: the parsed URL. */
  enode?: EnodeInfo
  /** `argument 2`, `stdin` or the file path. */
  source: string
  /** 1-based line within the source (1 for an argument; 0 when a JSON entry's line is unknown). */
  line: number
  /** `file:line`, `stdin:line` or `argument 2`: for messages. */
  where: string
  format: RecordFormat
}

export interface RecordProblem extends NodeSetProblem {
  /** The problem's error code (the parser's own, e.g. `enr.base64-length`, or NODESET_BAD_ENTRY). */
  code: string
}

export interface RecordSource {
  /** The input as given (argument text, path or `-`). */
  input: string
  source: string
  format: RecordFormat
  entries: number
  problems: number
}

export interface ReadRecordsOptions {
  signal?: AbortSignal
  /** Stream read for `-` (default process.stdin). */
  stdin?: Readable
  /** Skip bad entries (reported through onProblem and `problems`) instead of throwing on the first. */
  lenient?: boolean
  onProblem?: (problem: RecordProblem) => void
  /** Kinds accepted (default only `enr`); another kind is a bad entry saying what was expected. */
  accept?: readonly RecordKind[]
  /** Take an input that is not `-` or an existing file as literal text (default true); false: it must be a file. */
  literals?: boolean
  /** Check every record's signature (default true; about 1 ms per record). */
  verifySignatures?: boolean
  /** Longest accepted line of one-entry-per-line input and literal argument, in characters (default 64 KiB). */
  maxLineLength?: number
  /** Largest accepted file or stdin, in bytes (default 128 MiB); JSON documents are bounded by this alone. */
  maxBytes?: number
}

export interface ReadRecordsResult {
  entries: RecordEntry[]
  /** Skipped entries (lenient mode only; strict mode throws the first instead). */
  problems: RecordProblem[]
  /** One per input, in order. */
  sources: RecordSource[]
}

export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024
export const DEFAULT_MAX_INPUT_BYTES = 128 * 1024 * 1024

const ENR_TEXT = /^(?:enr:.*|[A-Za-z0-9_-]{60,}|(?:0x)?[0-9a-fA-F]{120,})$/i
const ENODE = /^enode:\/\//i
const KIND_NAMES: Record<RecordKind, string> = {enr: 'an ENR (enr:…)', enode: 'an enode:// URL', multiaddr: 'a multiaddr'}

/** Reads every input (literal, file or `-`) into record entries; see the file comment for formats and modes. */
export async function readRecords(inputs: readonly string[], options: ReadRecordsOptions = {}): Promise<ReadRecordsResult> {
  const result: ReadRecordsResult = {entries: [], problems: [], sources: []}
  for (const [index, input] of inputs.entries()) {
    throwIfAborted(options.signal, 'reading records')
    const before = {entries: result.entries.length, problems: result.problems.length}
    const stdin = input === '-'
    // With literals off every input is a file, so a wrong path fails as unreadable (ENOENT, EISDIR).
    const file = !stdin && (options.literals === false || (await isFile(input)))
    let source: string
    let format: RecordFormat
    if (!stdin && !file) {
      source = `argument ${index + 1}`
      format = 'argument'
      const sink = collector(result, options)
      const text = input.length > maxLine(options) ? input : cleanLine(input)
      if (text !== undefined) readEntry(text, source, 1, source, 'argument', options, sink)
    } else {
      source = stdin ? 'stdin' : input
      const stream = stdin ? (options.stdin ?? process.stdin) : createReadStream(input)
      const text = await readSourceText(stream, source, {maxBytes: options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES, signal: options.signal})
      format = readText(text, source, options, collector(result, options))
    }
    result.sources.push({input, source, format, entries: result.entries.length - before.entries, problems: result.problems.length - before.problems})
  }
  return result
}

/** The entries of kind `enr`, one per node (the highest seq; the later of equal ones, as geth and the node-set reader do), in first-seen order. */
export function latestRecords(entries: readonly RecordEntry[]): RecordEntry[] {
  const byNode = new Map<string, RecordEntry>()
  for (const e of entries) {
    if (e.kind !== 'enr' || !e.record) continue
    const old = byNode.get(e.record.nodeId)
    // Re-inserting keeps the first position: Map.set on an existing key does not move it.
    if (old === undefined || e.record.seq >= old.record!.seq) byNode.set(e.record.nodeId, e)
  }
  return [...byNode.values()]
}

/** The node set the entries describe (geth's shape, keyed by node id; highest seq wins). */
export function nodeSetOf(entries: readonly RecordEntry[]): NodeSet {
  const set: NodeSet = {}
  for (const e of latestRecords(entries)) set[e.record!.nodeId] = e.entry!
  return set
}

interface Sink {
  entry(e: RecordEntry): void
  /** Reports a bad entry: records it (lenient) or throws. */
  problem(where: string, error: unknown): void
  lenient: boolean
}

function collector(result: ReadRecordsResult, options: ReadRecordsOptions): Sink {
  const lenient = options.lenient === true
  return {
    lenient,
    entry: (e) => result.entries.push(e),
    problem: (where, error) => {
      const typed = entryError(where, error)
      if (!lenient) throw typed
      const problem: RecordProblem = {where, message: causeMessage(error), code: typed.code}
      result.problems.push(problem)
      options.onProblem?.(problem)
    },
  }
}

/** Reads a file's or stdin's text in whichever format it is in; returns the format. */
function readText(raw: string, source: string, options: ReadRecordsOptions, sink: Sink): RecordFormat {
  const text = raw.replace(/^\uFEFF/, '')
  const head = text.trimStart()
  if (head.startsWith('{') || head.startsWith('[')) return readJson(text, source, options, sink)
  const max = maxLine(options)
  const lines = text.split('\n')
  for (const [index, line] of lines.entries()) {
    if (index % 1024 === 1023) throwIfAborted(options.signal, `reading ${source}`)
    const where = `${source}:${index + 1}`
    if (line.length > max) {
      sink.problem(where, new BadInputError('INPUT_LINE_TOO_LONG', `line is ${line.length} characters, the limit is ${max}`))
      continue
    }
    const token = cleanLine(line)
    if (token !== undefined) readEntry(token, source, index + 1, where, 'lines', options, sink)
  }
  return 'lines'
}

/** One entry of argument or line text: classified by kind, parsed, checked against `accept`. */
function readEntry(token: string, source: string, line: number, where: string, format: RecordFormat, options: ReadRecordsOptions, sink: Sink): void {
  const accept = options.accept ?? ['enr']
  if (token.length > maxLine(options)) {
    sink.problem(where, new BadInputError('INPUT_LINE_TOO_LONG', `entry is ${token.length} characters, the limit is ${maxLine(options)}`))
    return
  }
  const kind: RecordKind | undefined = ENODE.test(token) ? 'enode' : token.startsWith('/') ? 'multiaddr' : ENR_TEXT.test(token) ? 'enr' : undefined
  if (kind === undefined || !accept.includes(kind)) {
    sink.problem(where, unexpectedKind(token, kind, accept))
    return
  }
  const base = {kind, text: token, source, line, where, format}
  try {
    if (kind === 'enr') {
      const record = parseEnr(token, {verifySignature: options.verifySignatures ?? true})
      sink.entry({...base, record, entry: entryFromRecord(record)})
    } else if (kind === 'enode') {
      sink.entry({...base, enode: parseEnode(token)})
    } else {
      // Multiaddrs are checked by the caller: whether it needs /p2p/<peer id> depends on the use.
      sink.entry(base)
    }
  } catch (error) {
    sink.problem(where, error)
  }
}

function unexpectedKind(token: string, kind: RecordKind | undefined, accept: readonly RecordKind[]): BadInputError {
  const wanted = accept.map((k) => KIND_NAMES[k]).join(' or ')
  if (kind === 'enode') return new BadInputError('RECORD_UNSIGNED', `enode:// URLs carry no signed record; give the node's ENR (enr:…) instead`)
  const shown = token.length > 60 ? `${token.slice(0, 60)}…` : token
  return new BadInputError(kind === undefined ? 'RECORD_UNRECOGNISED' : 'RECORD_KIND_UNEXPECTED', `${kind === undefined ? 'not' : `${KIND_NAMES[kind]}, not`} ${wanted}: ${shown}`)
}

/** nodes.json, a JSON array or NDJSON: parsed by the node-set reader, then each entry located by its record's line. */
function readJson(text: string, source: string, options: ReadRecordsOptions, sink: Sink): RecordFormat {
  const verifySignatures = options.verifySignatures ?? true
  let parsed: NodeSetReadResult
  try {
    parsed = parseNodeSetText(text, source, {
      verifySignatures,
      lenient: sink.lenient,
      onProblem: (p) => sink.problem(p.where, new BadInputError('NODESET_BAD_ENTRY', p.message)),
    })
  } catch (error) {
    // The node-set reader already names where; keep its message, only settle the error class.
    if (!isWakuDiscError(error)) throw error
    throw retyped(error, isRecordCheck(error.cause ?? error))
  }
  const lines = recordLines(text)
  for (const [id, entry] of Object.entries(parsed.set)) {
    // Records were checked (signature included) by the node-set reader: decode only.
    const record = parseEnr(entry.record, {verifySignature: false})
    const line = lines.get(entry.record) ?? 0
    const where = line > 0 ? `${source}:${line}` : `${source}: node ${id.slice(0, 16)}…`
    sink.entry({kind: 'enr', text: entry.record, record, entry, source, line, where, format: parsed.format === 'nodes.json' ? 'nodes.json' : 'ndjson'})
  }
  return parsed.format === 'nodes.json' ? 'nodes.json' : 'ndjson'
}

/** The first line each `enr:` string appears on. */
function recordLines(text: string): Map<string, number> {
  const lines = new Map<string, number>()
  let line = 1
  const pattern = /enr:[A-Za-z0-9_-]+|\n/g
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    if (m[0] === '\n') line++
    else if (!lines.has(m[0])) lines.set(m[0], line)
  }
  return lines
}

/**
 * The error for a bad entry at `where`: CheckFailedError when the entry is a well-formed record
 * that fails a check (signature, size, a malformed known field, a node-set key or seq that does not
 * match it), BadInputError for anything else (not a record at all, wrong kind, unreadable JSON).
 */
function entryError(where: string, error: unknown): WakuDiscError {
  const check = isRecordCheck(error)
  const code = isWakuDiscError(error) ? error.code : 'RECORD_BAD_ENTRY'
  const Type = check ? CheckFailedError : BadInputError
  return new Type(code, `${where}: ${causeMessage(error)}`, {
    cause: error,
    details: {where, ...(isWakuDiscError(error) ? error.details : {})},
    ...(isWakuDiscError(error) && error.hint !== undefined ? {hint: error.hint} : {}),
  })
}

function isRecordCheck(error: unknown): boolean {
  if (!(error instanceof CheckFailedError)) return false
  // parseEnr attaches the node id only once the record has an identity; id and key problems
  // before that mean the text is not a usable record.
  return error.details?.nodeId !== undefined || error.code === 'NODESET_ID_MISMATCH' || error.code === 'NODESET_SEQ_MISMATCH'
}

function retyped(error: WakuDiscError, check: boolean): WakuDiscError {
  if (check === error instanceof CheckFailedError) return error
  const Type = check ? CheckFailedError : BadInputError
  return new Type(error.code, error.message, {cause: error.cause ?? error, ...(error.details ? {details: error.details} : {}), ...(error.hint !== undefined ? {hint: error.hint} : {})})
}

function causeMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function maxLine(options: ReadRecordsOptions): number {
  return options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
}
