/** Readers: geth nodes.json, the NDJSON `crawl --ndjson` streams, and plain ENR lists, from a file or stdin. */
import {readFile} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {parseEnr, type EnrRecord} from '../enr/index.js'
import {BadInputError, CheckFailedError, WakuDiscError, throwIfAborted} from '../errors.js'
import {addEntry, entryFromRecord, formatGoTime} from './entries.js'
import {GO_ZERO_TIME, type NodeSet, type NodeSetEntry, type NodeSetProblem, type NodeSetReadResult, type ReadNodeSetOptions} from './types.js'

const NODE_ID = /^[0-9a-f]{64}$/

/** Reads a node set from a file or `-` (stdin), detecting geth nodes.json, NDJSON or an ENR list. */
export async function readNodeSetFile(path: string, options: ReadNodeSetOptions = {}): Promise<NodeSet> {
  return (await readNodeSetDetailed(path, options)).set
}

/** Like readNodeSetFile, also telling the detected format and the skipped entries (lenient mode). */
export async function readNodeSetDetailed(path: string, options: ReadNodeSetOptions = {}): Promise<NodeSetReadResult> {
  throwIfAborted(options.signal, 'reading the node set')
  const source = path === '-' ? 'stdin' : path
  let text: string
  try {
    text = path === '-' ? await readStream(options.stdin ?? process.stdin) : await readFile(path, {encoding: 'utf8', signal: options.signal})
  } catch (error) {
    if (error instanceof WakuDiscError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new BadInputError('NODESET_UNREADABLE', `${source}: cannot read node set (${code ?? (error as Error).message})`, {cause: error})
  }
  return parseNodeSetText(text, source, options)
}

/** Parses node-set text already in memory; `source` names it in error messages. */
export function parseNodeSetText(text: string, source: string, options: ReadNodeSetOptions = {}): NodeSetReadResult {
  const problems: NodeSetProblem[] = []
  const report = (where: string, message: string, error?: unknown): void => {
    const problem = {where, message}
    if (!options.lenient) {
      const exit = error instanceof CheckFailedError ? CheckFailedError : BadInputError
      throw new exit('NODESET_BAD_ENTRY', `${where}: ${message}`, {cause: error, details: {where}})
    }
    problems.push(problem)
    options.onProblem?.(problem)
  }
  const verifySignature = options.verifySignatures ?? true
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  const set: NodeSet = {}

  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let whole: unknown
    let wholeError: unknown
    try {
      whole = JSON.parse(text.replace(/^\uFEFF/, ''), keepUint64Source)
    } catch (error) {
      wholeError = error
    }
    if (whole !== undefined && isGethNodeSet(whole)) {
      for (const [id, raw] of Object.entries(whole as Record<string, unknown>)) {
        const where = `${source}: node ${id.slice(0, 16)}…`
        try {
          const entry = gethEntry(id, raw, verifySignature)
          addEntry(set, id, entry)
        } catch (error) {
          report(where, errorMessage(error), error)
        }
      }
      return {set, format: 'nodes.json', problems}
    }
    if (whole !== undefined && Array.isArray(whole)) {
      whole.forEach((item, index) => {
        const where = `${source}: item ${index + 1}`
        try {
          const entry = lineEntry(item, verifySignature)
          addEntry(set, entry.id, entry.entry)
        } catch (error) {
          report(where, errorMessage(error), error)
        }
      })
      return {set, format: 'ndjson', problems}
    }
    // NDJSON: one object per line (a whole-file parse of one line also lands here).
    const lines = text.split('\n')
    let objects = 0
    for (const [index, rawLine] of lines.entries()) {
      const line = rawLine.trim()
      if (line === '' || line.startsWith('#')) continue
      const where = `${source}:${index + 1}`
      let value: unknown
      try {
        value = JSON.parse(line, keepUint64Source)
      } catch (error) {
        if (objects === 0 && wholeError !== undefined && !line.startsWith('{"')) {
          throw new BadInputError('NODESET_BAD_JSON', `${source}: ${jsonErrorWhere(text, wholeError)}`, {cause: wholeError})
        }
        report(where, `not a JSON object: ${(error as Error).message}`, error)
        continue
      }
      objects++
      try {
        const entry = lineEntry(value, verifySignature)
        addEntry(set, entry.id, entry.entry)
      } catch (error) {
        report(where, errorMessage(error), error)
      }
    }
    return {set, format: 'ndjson', problems}
  }

  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('//')) continue
    const token = line.split(/\s+/, 1)[0]!
    const where = `${source}:${index + 1}`
    if (/^enode:\/\//i.test(token)) {
      report(where, 'enode:// URLs carry no signed record; give the node\'s ENR (enr:…) instead')
      continue
    }
    try {
      const record = parseEnr(token, {verifySignature})
      addEntry(set, record.nodeId, entryFromRecord(record))
    } catch (error) {
      report(where, errorMessage(error), error)
    }
  }
  return {set, format: 'enr-list', problems}
}

function isGethNodeSet(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return true
  // A geth set is keyed by node id with {record} objects; an NDJSON line has an `enr`/`record` field of its own.
  return entries.every(([key, v]) => NODE_ID.test(key.toLowerCase()) || (v !== null && typeof v === 'object' && 'record' in (v as object)))
}

function gethEntry(id: string, raw: unknown, verifySignature: boolean): NodeSetEntry {
  if (!NODE_ID.test(id)) throw new BadInputError('NODESET_BAD_ID', `key ${JSON.stringify(id)} is not a node id (64 lowercase hex characters)`)
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BadInputError('NODESET_BAD_ENTRY', 'entry is not a JSON object')
  const obj = raw as Record<string, unknown>
  if (typeof obj.record !== 'string') throw new BadInputError('NODESET_BAD_ENTRY', 'entry has no "record" string')
  const record = parseRecordText(obj.record, verifySignature)
  if (record.nodeId !== id) throw new CheckFailedError('NODESET_ID_MISMATCH', `key does not match the record's node id ${record.nodeId}`)
  if (obj.seq !== undefined) {
    const seq = String(obj.seq)
    if (!/^\d+$/.test(seq) || BigInt(seq) !== record.seq) {
      throw new CheckFailedError('NODESET_SEQ_MISMATCH', `"seq" ${seq} does not match the record's seq ${record.seq}`)
    }
  }
  return withExtras(record, obj)
}

function lineEntry(value: unknown, verifySignature: boolean): {id: string; entry: NodeSetEntry} {
  if (typeof value === 'string') {
    const record = parseRecordText(value, verifySignature)
    return {id: record.nodeId, entry: entryFromRecord(record)}
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadInputError('NODESET_BAD_ENTRY', 'not a JSON object')
  const obj = value as Record<string, unknown>
  const text = typeof obj.enr === 'string' ? obj.enr : typeof obj.record === 'string' ? obj.record : undefined
  if (text === undefined) throw new BadInputError('NODESET_NO_RECORD', 'object has no "enr" or "record" string')
  const record = parseRecordText(text, verifySignature)
  if (typeof obj.nodeId === 'string' && obj.nodeId.toLowerCase().replace(/^0x/, '') !== record.nodeId) {
    throw new CheckFailedError('NODESET_ID_MISMATCH', `"nodeId" ${obj.nodeId} does not match the record's node id ${record.nodeId}`)
  }
  return {id: record.nodeId, entry: withExtras(record, obj)}
}

function parseRecordText(text: string, verifySignature: boolean): EnrRecord {
  if (/^enode:\/\//i.test(text.trim())) {
    throw new BadInputError('NODESET_UNSIGNED', 'enode:// URLs carry no signed record; give the node\'s ENR (enr:…) instead')
  }
  return parseEnr(text, {verifySignature})
}

function withExtras(record: EnrRecord, obj: Record<string, unknown>): NodeSetEntry {
  const entry = entryFromRecord(record)
  if (typeof obj.score === 'number' && Number.isFinite(obj.score) && obj.score !== 0) entry.score = Math.trunc(obj.score)
  const first = timeField(obj.firstResponse ?? obj.firstSeen)
  const last = timeField(obj.lastResponse ?? obj.lastSeen)
  const check = timeField(obj.lastCheck)
  if (first) entry.firstResponse = first
  if (last) entry.lastResponse = last
  if (check) entry.lastCheck = check
  return entry
}

function timeField(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return formatGoTime(new Date(value))
  if (typeof value !== 'string' || value === '' || value === GO_ZERO_TIME) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new BadInputError('NODESET_BAD_TIME', `time ${JSON.stringify(value)} is not RFC 3339`)
  // Keep geth's text as is when it already is RFC 3339 UTC (it may carry nanoseconds).
  return /Z$/.test(value) ? value : formatGoTime(new Date(ms))
}

/** JSON.parse reviver keeping integers above 2^53 exact (Node ≥ 21 passes the source text). */
function keepUint64Source(this: unknown, key: string, value: unknown, context?: {source?: string}): unknown {
  if (key === 'seq' && typeof value === 'number' && context?.source !== undefined) return context.source
  return value
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function jsonErrorWhere(text: string, error: unknown): string {
  const message = errorMessage(error)
  const pos = /position (\d+)/.exec(message)
  if (pos) {
    const offset = Number(pos[1])
    const line = text.slice(0, offset).split('\n').length
    return `invalid JSON at line ${line}: ${message.replace(/\s*\(line \d+ column \d+\)/, '')}`
  }
  return `invalid JSON: ${message}`
}

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}
