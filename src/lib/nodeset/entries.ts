/** Node-set entries from and to records: building a set, checking an entry against its record, geth's time format. */
import {parseEnr, type EnrRecord} from '../enr/index.js'
import {CheckFailedError} from '../errors.js'
import type {NodeSet, NodeSetEntry} from './types.js'

/** Builds a node set from records; a node seen twice keeps its highest-seq record. */
export function nodeSetFromRecords(records: Iterable<EnrRecord>): NodeSet {
  const set: NodeSet = {}
  for (const record of records) addEntry(set, record.nodeId, entryFromRecord(record))
  return set
}

/** The node-set entry for one record (no score or times). */
export function entryFromRecord(record: EnrRecord, extra: Omit<NodeSetEntry, 'seq' | 'record'> = {}): NodeSetEntry {
  return {seq: record.seq.toString(), record: record.text, ...extra}
}

/** Parses every record of a set (node id and seq checked against the key and the record). */
export function nodeSetRecords(set: NodeSet, options: {verifySignatures?: boolean} = {}): EnrRecord[] {
  return Object.entries(set).map(([id, entry]) => checkedRecord(id, entry, options.verifySignatures ?? true))
}

export function addEntry(set: NodeSet, id: string, entry: NodeSetEntry): void {
  const old = set[id]
  if (old === undefined || BigInt(entry.seq) >= BigInt(old.seq)) set[id] = entry
}

/** RFC 3339 UTC truncated to seconds, like geth's crawler (`time.Now().UTC().Truncate(time.Second)`). */
export function formatGoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function checkedRecord(id: string, entry: NodeSetEntry, verifySignature: boolean): EnrRecord {
  const record = parseEnr(entry.record, {verifySignature})
  if (record.nodeId !== id) {
    throw new CheckFailedError('NODESET_ID_MISMATCH', `invalid node ${id}: ID does not match ID ${record.nodeId} in record`)
  }
  if (BigInt(entry.seq) !== record.seq) {
    throw new CheckFailedError('NODESET_SEQ_MISMATCH', `invalid node ${id}: 'seq' does not match seq ${record.seq} from record`)
  }
  return record
}
