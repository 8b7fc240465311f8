/**
 * The pure core of publishing: which zone records belong to a tree, and the change set that takes
 * a zone's records to a signed tree's (see index.ts for the rules it keeps).
 */
import {ENTRY_TTL, ROOT_TTL} from '../directory.js'
import {ROOT_PREFIX, parseRoot} from '../tree.js'
import type {ChangeSet, ExistingRecord} from './types.js'

const HASH_LABEL = /^[a-z2-7]{20,52}$/

/** True for names and values that belong to the tree at `domain` (label boundary, tree content). */
export function isTreeRecord(domain: string, name: string, value: string): boolean {
  const d = domain.toLowerCase()
  const n = name.toLowerCase().replace(/\.$/, '')
  if (n === d) return value.startsWith(ROOT_PREFIX)
  if (!n.endsWith(`.${d}`)) return false
  const label = n.slice(0, -(d.length + 1))
  if (!HASH_LABEL.test(label)) return false
  return value.startsWith('enr:') || value.startsWith('enrtree-branch:') || value.startsWith('enrtree://')
}

/** The change set taking `existing` to `desired` (names already lowercase), touching only tree records. */
export function computeChanges(domain: string, desired: Record<string, string>, existing: ExistingRecord[], ttl: {root?: number; entry?: number} = {}): ChangeSet {
  const d = domain.toLowerCase()
  const rootTtl = ttl.root ?? ROOT_TTL
  const entryTtl = ttl.entry ?? ENTRY_TTL
  const ours = new Map<string, ExistingRecord[]>()
  let foreign = 0
  for (const r of existing) {
    if (!isTreeRecord(d, r.name, r.value)) {
      foreign++
      continue
    }
    const list = ours.get(r.name) ?? []
    list.push(r)
    ours.set(r.name, list)
  }
  const set: ChangeSet = {create: [], update: [], delete: [], unchanged: 0, foreign}
  const rootRecords = ours.get(d) ?? []
  for (const r of rootRecords) {
    try {
      set.publishedSeq = parseRoot(r.value).seq.toString()
    } catch {
      // An unparsable root is simply replaced.
    }
  }
  for (const [rawName, value] of Object.entries(desired).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const name = rawName.toLowerCase()
    const want = name === d ? rootTtl : entryTtl
    const have = ours.get(name) ?? []
    // A TTL of 0 means the lister could not tell (RFC 2136 walks the tree by queries).
    if (have.length === 1 && have[0]!.value === value && (have[0]!.ttl === 0 || have[0]!.ttl === want)) {
      set.unchanged++
      continue
    }
    if (have.length === 0) {
      set.create.push({action: 'create', name, value, ttl: want})
      continue
    }
    // Replace the first, delete any extra values at the same name.
    set.update.push({action: 'update', name, value, ttl: want, old: have[0]})
    for (const extra of have.slice(1)) set.delete.push({action: 'delete', name, value: extra.value, ttl: extra.ttl, old: extra})
  }
  for (const [name, records] of ours) {
    if (name in desired || Object.keys(desired).some((k) => k.toLowerCase() === name)) continue
    for (const r of records) set.delete.push({action: 'delete', name, value: r.value, ttl: r.ttl, old: r})
  }
  set.delete.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return set
}
