/** The shapes `dns-tree publish` works with: zone records, the change set, the report, and what a target implements. */
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
