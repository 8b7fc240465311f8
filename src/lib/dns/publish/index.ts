/**
 * `dns-tree publish`: makes a zone hold exactly one signed tree, safely. Every step comes from
 * diff(desired, actual), so a rerun after any failure completes the job and a second run changes
 * nothing. Order: new entries first, then the root switch (confirmed live), then stale entries
 * deleted. Only names that belong to the tree are ever touched: the tree's own domain (and there
 * only the `enrtree-root:` value) and one-label hash names directly below it holding tree
 * entries — never a sibling such as `othernodes.example.org` (geth's Cloudflare deployer
 * matches by bare suffix).
 */
import {CheckFailedError, WakuDiscError, throwIfAborted} from '../../errors.js'
import {sleep} from '../../net/http.js'
import {ENTRY_TTL, ROOT_TTL, loadSignedTree} from '../directory.js'
import {ROOT_PREFIX, parseRoot} from '../tree.js'

export interface ExistingRecord {
  /** Lowercase FQDN without trailing dot. */
  name: string
  value: string
  ttl: number
  /** Provider id (Cloudflare record id). */
  id?: string
}

export interface PublishChange {
  action: 'create' | 'update' | 'delete'
  name: string
  value: string
  ttl: number
  /** For update/delete: the record being replaced or removed. */
  old?: ExistingRecord
}

export interface ChangeSet {
  create: PublishChange[]
  update: PublishChange[]
  delete: PublishChange[]
  /** Records already as wanted. */
  unchanged: number
  /** Records at the tree's names that are not tree records and were left alone. */
  foreign: number
  /** The seq of the root found in the zone, if any. */
  publishedSeq?: string
}

export type PhaseName = 'entries' | 'root' | 'delete'

export interface PhaseResult {
  phase: PhaseName
  status: 'done' | 'nothing to do' | 'failed' | 'not started' | 'dry run'
  applied?: number
  error?: string
}

export interface PublishReport {
  url: string
  domain: string
  seq: string
  target: string
  dryRun: boolean
  complete: boolean
  changes: {create: PublishChange[]; update: PublishChange[]; delete: PublishChange[]}
  unchanged: number
  foreign: number
  publishedSeq?: string
  phases: PhaseResult[]
  warnings: string[]
  verbose?: boolean
  error?: {code: string; message: string; exitCode: number}
}

/** A DNS provider or server the tree can be published to. */
export interface PublishTarget {
  readonly description: string
  /** TXT records at the domain and directly below it. */
  list(domain: string, signal?: AbortSignal): Promise<ExistingRecord[]>
  /** Applies one phase; throws a typed error on failure (changes already applied stay applied). */
  apply(phase: PhaseName, changes: PublishChange[], signal?: AbortSignal): Promise<void>
  /** Confirms the root is live (provider status or an authoritative query). */
  confirmRoot?(domain: string, value: string, signal?: AbortSignal): Promise<boolean>
  /** TTLs this target uses unless the user gives others (Cloudflare caps TTLs at one day). */
  readonly defaultTtl?: {root: number; entry: number}
  /** Called once at the end (close sockets). */
  close?(): Promise<void>
}

export interface PublishOptions {
  dryRun?: boolean
  signal?: AbortSignal
  /** Publish even if the zone holds a root with a seq at or above ours. */
  force?: boolean
  rootTtl?: number
  entryTtl?: number
  /** Wait this long after the root switch before deleting stale entries (ms). */
  staleDelayMs?: number
  /** Do not delete stale entries at all. */
  keepStale?: boolean
  verbose?: boolean
}

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

/** Publishes a signed tree directory to a target. Never throws for a failure after the first write: the report says what is left. */
export async function publishTree(dir: string, target: PublishTarget, options: PublishOptions = {}): Promise<PublishReport> {
  const signed = await loadSignedTree(dir, {signal: options.signal})
  const domain = signed.domain.toLowerCase()
  const desired = Object.fromEntries(Object.entries(signed.txt).map(([k, v]) => [k.toLowerCase(), v]))
  const seq = signed.tree.seq.toString()
  const report: PublishReport = {
    url: signed.url,
    domain,
    seq,
    target: target.description,
    dryRun: options.dryRun ?? false,
    complete: false,
    changes: {create: [], update: [], delete: []},
    unchanged: 0,
    foreign: 0,
    phases: [],
    warnings: [],
    ...(options.verbose ? {verbose: true} : {}),
  }
  try {
    const existing = await target.list(domain, options.signal)
    const set = computeChanges(domain, desired, existing, {root: options.rootTtl ?? target.defaultTtl?.root, entry: options.entryTtl ?? target.defaultTtl?.entry})
    report.changes = {create: set.create, update: set.update, delete: options.keepStale ? [] : set.delete}
    report.unchanged = set.unchanged
    report.foreign = set.foreign
    if (set.publishedSeq !== undefined) report.publishedSeq = set.publishedSeq
    if (options.keepStale && set.delete.length) report.warnings.push(`${set.delete.length} stale records kept (--keep-stale)`)
    if (set.foreign) report.warnings.push(`${set.foreign} other TXT records at the tree's names left untouched`)
    const rootChanges = [...set.create, ...set.update].filter((c) => c.name === domain)
    const entryChanges = [...set.create, ...set.update].filter((c) => c.name !== domain)
    if (rootChanges.length && set.publishedSeq !== undefined && BigInt(set.publishedSeq) >= BigInt(seq)) {
      const message = `the zone holds seq ${set.publishedSeq}, this tree has seq ${seq}: clients would keep the published tree`
      if (!options.force) throw new CheckFailedError('DNS_SEQ_NOT_INCREASING', message, {hint: 're-sign with a higher seq (dns-tree sign bumps it), or pass --force'})
      report.warnings.push(`${message} (--force)`)
    }
    if (options.dryRun) {
      report.phases = (['entries', 'root', 'delete'] as PhaseName[]).map((phase) => ({phase, status: 'dry run'}))
      report.complete = false
      return report
    }
    const phases: Array<[PhaseName, PublishChange[]]> = [
      ['entries', entryChanges],
      ['root', rootChanges],
      ['delete', report.changes.delete],
    ]
    report.phases = phases.map(([phase]) => ({phase, status: 'not started'}))
    for (const [index, [phase, changes]] of phases.entries()) {
      throwIfAborted(options.signal, 'publishing')
      const result = report.phases[index]!
      if (changes.length === 0) {
        result.status = 'nothing to do'
        continue
      }
      if (phase === 'delete' && options.staleDelayMs) await sleep(options.staleDelayMs, options.signal)
      try {
        await target.apply(phase, changes, options.signal)
        if (phase === 'root' && target.confirmRoot) {
          const live = await target.confirmRoot(domain, desired[domain]!, options.signal)
          if (!live) throw new CheckFailedError('DNS_ROOT_NOT_LIVE', `the new root is not visible at ${target.description} yet; stale records were not deleted`)
        }
        result.status = 'done'
        result.applied = changes.length
      } catch (error) {
        result.status = 'failed'
        result.error = (error as Error).message
        throw error
      }
    }
    report.complete = true
  } catch (error) {
    if (!(error instanceof WakuDiscError)) throw error
    if (!report.phases.some((p) => p.status === 'done' || p.status === 'failed')) throw error
    report.error = {code: error.code, message: error.message, exitCode: error.exitCode}
  } finally {
    await target.close?.()
  }
  return report
}

export * from './zonefile.js'
export * from './rfc2136.js'
export * from './cloudflare.js'
export * from './route53.js'
export * from './targets.js'
