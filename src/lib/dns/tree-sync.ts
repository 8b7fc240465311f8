/**
 * Full sync of one EIP-1459 tree: both subtrees (records under eroot, links under lroot), breadth
 * first, every entry once, with subtree typing, depth and size limits, loop and repeated-entry
 * detection. geth keeps no visited set; content hashing rules out true cycles, but a hostile zone
 * can reference one hash many times (amplification) or point a subtree back at an ancestor.
 *
 * Lookups run through the shared `Limiter` (src/lib/pool.ts): it bounds the lookups in flight and
 * starts waiting ones in arrival order, which keeps the walk breadth first. It knows nothing of
 * aborts or failures, so this file adds both: every task checks a `stopped` flag before it starts
 * (tasks still waiting in the limiter become no-ops), and the sync waits for `limiter.idle()` or the
 * stop, whichever comes first. So the first fatal error, or an abort, ends the sync at once without
 * waiting for the lookups in flight; those settle on their own (the resolver gives up when the
 * signal fires or its timeout passes) and their answers are ignored.
 */
import {CheckFailedError} from '../errors.js'
import {Limiter} from '../pool.js'
import {MAX_CHILDREN, entryText, treeError, type RootEntry, type TreeEntry} from './tree.js'
import type {EntryFetcher, ProblemLog} from './tree-fetch.js'
import type {ResolveTreeOptions, ResolvedNode, TreeScan} from './resolve-types.js'

/** Levels below the root a tree may have. */
const MAX_DEPTH = 32

export interface TreeSyncOptions {
  domain: string
  fetcher: EntryFetcher
  log: ProblemLog
  /** Lookups in flight at once. */
  concurrency: number
  /** Largest tree accepted, in entries. */
  maxEntries: number
  signal?: AbortSignal
  onProgress?: ResolveTreeOptions['onProgress']
  onNode?: ResolveTreeOptions['onNode']
}

interface Item {
  hash: string
  subtree: 'enr' | 'link'
  level: number
}

/**
 * Fetches every entry below the root. Throws the first error (unless the log is lenient); an abort
 * is not an error: the sync returns what it gathered with an INTERRUPTED problem, marked incomplete.
 */
export async function syncTree(root: RootEntry, o: TreeSyncOptions): Promise<TreeScan> {
  const {domain, fetcher, log, signal} = o
  const nodes = new Map<string, ResolvedNode>()
  const links: string[] = []
  let branches = 0
  let leaves = 0
  let depth = 0

  // The Limiter takes a positive integer: a fractional limit is rounded up (2.5 lets 3 run), a non-finite one is no limit.
  const limiter = new Limiter(Number.isFinite(o.concurrency) ? Math.max(1, Math.ceil(o.concurrency)) : Number.MAX_SAFE_INTEGER)
  let stopped = false
  let failure: {error: unknown} | undefined
  let wake!: () => void
  const stoppedNow = new Promise<void>((resolve) => (wake = resolve))
  /** Ends the sync: with the error that failed it, or without one when interrupted. */
  const stop = (failed?: {error: unknown}): void => {
    if (stopped) return
    stopped = true
    failure = failed
    wake()
  }
  const onAbort = (): void => stop()

  const queued = new Map<string, string>() // hash → subtree it was queued for
  const enqueue = (item: Item, from?: string): void => {
    const seen = queued.get(item.hash)
    // The two subtree roots may be one hash (an empty tree); anything else seen twice is a loop.
    if (seen !== undefined && !(item.level === 1 && seen !== item.subtree)) {
      log.fail(new CheckFailedError('DNS_LOOP', `${item.hash}.${domain} is referenced more than once${from ? ` (again from ${from}.${domain})` : ''}: loop or repeated entry`, {details: {name: `${item.hash}.${domain}`}}))
      return
    }
    queued.set(item.hash, item.subtree)
    if (queued.size > o.maxEntries) {
      stop({error: new CheckFailedError('DNS_TOO_MANY_ENTRIES', `${domain}: tree has more than ${o.maxEntries} entries`)})
      return
    }
    void limiter.run(() => visit(item))
  }

  const visit = async (item: Item): Promise<void> => {
    if (stopped) return
    try {
      const entry = await fetcher.fetch(item.hash)
      if (stopped) return
      if (entry !== undefined) handle(item, entry, `${item.hash}.${domain}`)
      // This task still holds its place in the limiter: it is not pending.
      o.onProgress?.({fetched: fetcher.entries, pending: limiter.active - 1 + limiter.pending, nodes: nodes.size})
    } catch (error) {
      stop(signal?.aborted ? undefined : {error})
    }
  }

  const handle = (item: Item, entry: TreeEntry, name: string): void => {
    depth = Math.max(depth, item.level)
    switch (entry.type) {
      case 'branch':
        branches++
        if (entry.children.length > MAX_CHILDREN) log.warn('DNS_WIDE_BRANCH', `${name}: branch with ${entry.children.length} children (builders use at most ${MAX_CHILDREN})`, name)
        if (item.level >= MAX_DEPTH) {
          log.fail(new CheckFailedError('DNS_TOO_DEEP', `${name}: tree deeper than ${MAX_DEPTH} levels`, {details: {name}}))
          return
        }
        for (const child of entry.children) enqueue({hash: child, subtree: item.subtree, level: item.level + 1}, item.hash)
        return
      case 'enr': {
        if (item.subtree === 'link') {
          log.fail(treeError('ENR_IN_LINK_TREE', {name}))
          return
        }
        leaves++
        const r = entry.record
        const old = nodes.get(r.nodeId)
        if (old) log.warn('DNS_DUPLICATE_NODE', `${name}: node ${r.nodeId} appears twice in the tree (also at ${old.hash}.${domain})`, name)
        if (!old || BigInt(old.seq) < r.seq) {
          const node = {nodeId: r.nodeId, seq: r.seq.toString(), enr: r.text, hash: item.hash}
          nodes.set(r.nodeId, node)
          if (!old) o.onNode?.(node)
        }
        return
      }
      case 'link':
        if (item.subtree === 'enr') {
          log.fail(treeError('LINK_IN_ENR_TREE', {name}))
          return
        }
        links.push(entryText(entry))
        return
    }
  }

  if (signal?.aborted) stop()
  else signal?.addEventListener('abort', onAbort, {once: true})
  try {
    enqueue({hash: root.lroot, subtree: 'link', level: 1})
    enqueue({hash: root.eroot, subtree: 'enr', level: 1})
    await Promise.race([limiter.idle(), stoppedNow])
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  if (failure) throw failure.error
  if (stopped) {
    // Interrupted: keep what was gathered (the caller reports it as partial).
    log.push({code: 'INTERRUPTED', severity: 'error', message: `interrupted after ${fetcher.entries} entries (${nodes.size} nodes): the result is partial`})
  }
  return {nodes, links, branches, leaves, depth, complete: !log.hasErrors}
}
