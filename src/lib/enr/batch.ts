/**
 * Many records at once (arguments, files, stdin): each input line becomes one result, valid,
 * invalid (parsed but failing a check) or unparseable, and nothing is dropped.
 */
import {CheckFailedError, throwIfAborted, WakuDiscError, type ErrorJson} from '../errors.js'
import type {InputLine} from '../input/lines.js'
import {decodeEnr, type DecodedEnr} from './decode.js'
import {lintEnr} from './lint.js'
import {errorFindingCode, findingErrorCode, type LintFinding} from './finding.js'
import {inspectEnr} from './parse.js'
import type {EnrRecord} from './record.js'

export type EnrStatus = 'valid' | 'invalid' | 'unparseable'

/** A decoded record; `error` is set when it parsed but failed validation (signature, size, field lengths). */
export type DecodedEntry = DecodedEnr & {error?: ErrorJson}
/** An input line that is not a record at all (or has no usable identity). */
export interface UnparseableEntry {
  input: string
  source: string
  line: number
  error: ErrorJson
}
export type EnrDecodeEntry = DecodedEntry | UnparseableEntry

export function isUnparseable(entry: EnrDecodeEntry): entry is UnparseableEntry {
  return !('nodeId' in entry)
}

export interface EnrBatchOptions {
  signal?: AbortSignal
  publicList?: boolean
}

interface Inspected {
  status: EnrStatus
  record?: EnrRecord
  failures: LintFinding[]
  error?: WakuDiscError
}

function inspectLine(text: string): Inspected {
  try {
    const {record, failures} = inspectEnr(text)
    if (failures.length === 0) return {status: 'valid', record, failures}
    const first = failures[0]!
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more problem${failures.length > 2 ? 's' : ''})` : ''
    return {status: 'invalid', record, failures, error: new CheckFailedError(findingErrorCode(first.code), first.message + more, {details: {failures}})}
  } catch (error) {
    if (!(error instanceof WakuDiscError)) throw error
    // A record without a usable identity (CheckFailedError) cannot be decoded either.
    return {status: error.exitCode === 2 ? 'unparseable' : 'invalid', failures: [], error}
  }
}

/**
 * An argument that is neither an existing file nor a record but looks like a file name (`nodes.txt`,
 * `./list`, `dir/file`) was most likely meant as a file: say so instead of only reporting bad base64.
 */
function withFileHint(line: InputLine, error: ErrorJson): ErrorJson {
  if (!line.source.startsWith('argument') || /^enr:/i.test(line.text)) return error
  if (!/[/\\]|\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(line.text)) return error
  return {...error, hint: `no file named ${line.text} exists; read as a record: ${error.message}`, message: `${line.text}: no such file, and not a record`}
}

/** Decodes one input line into a result entry; never throws for bad input. */
export function decodeEnrLine(line: InputLine): {status: EnrStatus; entry: EnrDecodeEntry} {
  const r = inspectLine(line.text)
  if (r.record === undefined) {
    return {status: r.status, entry: {input: line.text, source: line.source, line: line.line, error: withFileHint(line, r.error!.toJSON())}}
  }
  const decoded: DecodedEntry = decodeEnr(r.record)
  if (r.error !== undefined) decoded.error = r.error.toJSON()
  return {status: r.status, entry: decoded}
}

export async function* decodeEnrLines(lines: AsyncIterable<InputLine> | Iterable<InputLine>, options: EnrBatchOptions = {}): AsyncGenerator<{status: EnrStatus; entry: EnrDecodeEntry}> {
  for await (const line of lines) {
    throwIfAborted(options.signal, 'enr decode')
    yield decodeEnrLine(line)
  }
}

export interface LintEntry {
  input: string
  source: string
  line: number
  enr?: string
  nodeId?: string
  peerId?: string
  /** Highest severity found ('ok' when there are no findings). */
  worst: 'error' | 'warning' | 'info' | 'ok'
  findings: LintFinding[]
  /** Set when the input is not a record at all. */
  error?: ErrorJson
}

function worstOf(findings: LintFinding[]): LintEntry['worst'] {
  if (findings.some((f) => f.severity === 'error')) return 'error'
  if (findings.some((f) => f.severity === 'warning')) return 'warning'
  if (findings.length > 0) return 'info'
  return 'ok'
}

export function lintEnrLine(line: InputLine, options: EnrBatchOptions = {}): {status: EnrStatus; entry: LintEntry} {
  const r = inspectLine(line.text)
  const base = {input: line.text, source: line.source, line: line.line}
  if (r.record === undefined) {
    const err = withFileHint(line, r.error!.toJSON())
    // Lint findings keep their dotted, field-named codes: a parse error appears under its alias.
    const code = errorFindingCode(err.code)
    const finding: LintFinding = {code, field: code.split('.')[0]!, severity: 'error', message: err.message}
    return {status: r.status, entry: {...base, worst: 'error', findings: [finding], error: err}}
  }
  const findings = lintEnr(r.record, {publicList: options.publicList})
  return {status: r.status, entry: {...base, enr: r.record.text, nodeId: r.record.nodeId, peerId: r.record.peerId, worst: worstOf(findings), findings}}
}

export async function* lintEnrLines(lines: AsyncIterable<InputLine> | Iterable<InputLine>, options: EnrBatchOptions = {}): AsyncGenerator<{status: EnrStatus; entry: LintEntry}> {
  for await (const line of lines) {
    throwIfAborted(options.signal, 'enr lint')
    yield lintEnrLine(line, options)
  }
}

/** Exit code for a batch: 2 when any input is unparseable, else 3 when any is invalid, else 0. */
export function batchExitCode(statuses: Iterable<EnrStatus>): 0 | 2 | 3 {
  let code: 0 | 2 | 3 = 0
  for (const s of statuses) {
    if (s === 'unparseable') return 2
    if (s === 'invalid') code = 3
  }
  return code
}

/** What a batch of decoded or linted records came to (the NDJSON summary line), with its exit code. */
export interface EnrBatchSummary {
  records: number
  valid: number
  invalid: number
  unparseable: number
  /** Lint only: findings by severity. */
  findings?: {error: number; warning: number; info: number}
  exitCode: 0 | 2 | 3
}

function countStatuses(statuses: readonly EnrStatus[]): Pick<EnrBatchSummary, 'records' | 'valid' | 'invalid' | 'unparseable'> {
  const n = (s: EnrStatus) => statuses.filter((x) => x === s).length
  return {records: statuses.length, valid: n('valid'), invalid: n('invalid'), unparseable: n('unparseable')}
}

/** `enr decode`: exit 2 when any input is unparseable, else 3 when any record is invalid, else 0. */
export function decodeBatchSummary(statuses: readonly EnrStatus[]): EnrBatchSummary {
  return {...countStatuses(statuses), exitCode: batchExitCode(statuses)}
}

/** `enr lint`: exit 2 when any input is unparseable, else 3 when any record has an error finding, else 0. */
export function lintBatchSummary(statuses: readonly EnrStatus[], entries: readonly LintEntry[]): EnrBatchSummary {
  const count = (severity: LintFinding['severity']) => entries.reduce((n, e) => n + e.findings.filter((f) => f.severity === severity).length, 0)
  const parse = batchExitCode(statuses)
  const exitCode = parse === 2 ? 2 : entries.some((e) => e.worst === 'error') ? 3 : 0
  return {...countStatuses(statuses), findings: {error: count('error'), warning: count('warning'), info: count('info')}, exitCode}
}
