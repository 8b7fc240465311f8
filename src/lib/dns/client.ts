/**
 * EIP-1459 client: full sync of a tree (root signature against the URL key, every entry hash,
 * subtree typing, loops, missing entries), fetched in parallel with bounded concurrency and a
 * request-rate limit; optional link following; random descent like light clients. Unlike
 * geth's SyncTree, `lenient` keeps going and returns the valid part with every problem listed.
 */
import {randomInt} from 'node:crypto'

import {BadInputError, CheckFailedError, UnreachableError, WakuDiscError, throwIfAborted} from '../errors.js'
import {
  LINK_PREFIX,
  MAX_CHILDREN,
  ROOT_PREFIX,
  entryText,
  formatRoot,
  hashMatches,
  parseEntry,
  parseRoot,
  parseTreeUrl,
  treeError,
  verifyRootSignature,
  type RootEntry,
  type TreeEntry,
} from './tree.js'
import {RateLimiter, type TxtResolver} from './resolvers.js'

export interface TreeProblem {
  code: string
  severity: 'error' | 'warning'
  message: string
  /** The DNS name concerned, when there is one. */
  name?: string
}

export interface ResolvedNode {
  nodeId: string
  seq: string
  enr: string
  /** The hash label the record was found at. */
  hash: string
}

export interface ResolveStats {
  /** DNS queries sent (retransmissions and TCP retries included). */
  queries: number
  /** Tree entries fetched (root not counted). */
  entries: number
  branches: number
  leaves: number
  /** Levels below the root: root → … → leaf. */
  depth: number
  elapsedMs: number
  tcpFallbacks: number
  retransmits: number
  concurrency: number
  rateLimit: number
}

export interface ResolvedTree {
  url: string
  domain: string
  publicKey: string
  seq: string
  root: string
  eroot: string
  lroot: string
  mode: 'full' | 'random'
  nodes: ResolvedNode[]
  links: string[]
  /** Every TXT record fetched, by name, as geth's to-txt would list it (root included). */
  txt: Record<string, string>
  linkedTrees: ResolvedTree[]
  problems: TreeProblem[]
  complete: boolean
  stats: ResolveStats
}

export interface ResolveTreeOptions {
  resolver: TxtResolver
  signal?: AbortSignal
  /** Lookups in flight at once (default 16). */
  concurrency?: number
  /** Lookups per second, 0 = unlimited (default 0); `burst` defaults to max(10, rate). */
  rateLimit?: number
  burst?: number
  /** Keep going on errors and report them instead of failing on the first (geth fails). */
  lenient?: boolean
  /** Resolve linked trees too (their results land in `linkedTrees`). */
  followLinks?: boolean
  maxLinkDepth?: number
  maxTrees?: number
  /** Random descent: return this many distinct leaves, walking root → leaf one query at a time. */
  random?: number
  /** Refuse (or report, when lenient) a root whose seq is below this: rollback protection. */
  minSeq?: bigint
  /** Largest tree accepted, in entries (default 200 000). */
  maxEntries?: number
  verifySignatures?: boolean
  /** Called after every fetched entry (for progress lines). */
  onProgress?: (progress: {fetched: number; pending: number; nodes: number}) => void
  /** Called for each node as it is found (for streaming output). */
  onNode?: (node: ResolvedNode) => void
  /** Random source for `random` (tests make it deterministic). */
  randomInt?: (max: number) => number
}

const MAX_TXT_LENGTH = 4096
const MAX_RRS = 64
const MAX_DEPTH = 32
/** What fits into a 512-byte UDP answer with a typical query name (geth's budget is 370 for children). */
const UDP_ENTRY_BUDGET = 430

/** Resolves an enrtree:// URL fully (or by random descent) through the given TXT resolver. */
export async function resolveTree(url: string, options: ResolveTreeOptions): Promise<ResolvedTree> {
  return resolveTreeAt(url, options, 0, new Set())
}

async function resolveTreeAt(url: string, options: ResolveTreeOptions, linkDepth: number, seenTrees: Set<string>): Promise<ResolvedTree> {
  const started = performance.now()
  const link = parseTreeUrl(url)
  const domain = link.domain
  seenTrees.add(`${LINK_PREFIX}${link.str}`.toLowerCase())
  const resolver = options.resolver
  const before = {...resolver.counters}
  const concurrency = Math.max(1, options.concurrency ?? 16)
  const rate = options.rateLimit ?? 0
  const limiter = new RateLimiter(rate, options.burst ?? Math.max(10, rate))
  const problems: TreeProblem[] = []
  const lenient = options.lenient ?? false
  const fail = (error: WakuDiscError, severity: 'error' | 'warning' = 'error'): void => {
    if (severity === 'error' && !lenient) throw error
    const name = (error.details as {name?: string} | undefined)?.name
    problems.push({code: error.code, severity, message: error.message, ...(name ? {name} : {})})
  }
  const warn = (code: string, message: string, name?: string): void => {
    problems.push({code, severity: 'warning', message, ...(name ? {name} : {})})
  }

  // Root.
  await limiter.take(options.signal)
  const rootTxts = await resolver.resolveTxt(domain, {signal: options.signal})
  const rootText = rootTxts.find((t) => t.startsWith(ROOT_PREFIX))
  if (rootText === undefined) {
    throw treeError('NO_ROOT', {name: domain, hint: rootTxts.length === 0 ? `no TXT record at ${domain}` : `${rootTxts.length} TXT record(s) at ${domain}, none starting with ${ROOT_PREFIX}`})
  }
  const root: RootEntry = parseRoot(rootText)
  if (!verifyRootSignature(root, link.publicKey)) {
    throw new CheckFailedError('DNS_INVALID_SIG', `invalid root entry: invalid base64 signature (the root at ${domain} is not signed by the URL's key ${link.str.slice(0, link.str.indexOf('@'))})`, {
      hint: 'the tree was re-signed with another key, or the answer was forged; compare the key in the URL with `dns-tree verify` output',
      details: {kind: 'INVALID_SIG', type: 'root', name: domain},
    })
  }
  if (options.minSeq !== undefined && root.seq < options.minSeq) {
    fail(new CheckFailedError('DNS_SEQ_ROLLBACK', `root at ${domain} has seq ${root.seq}, below the ${options.minSeq} seen before: an old tree is being replayed`, {details: {name: domain}}))
  }

  const txt: Record<string, string> = {[domain]: rootText}
  const nodes = new Map<string, ResolvedNode>()
  const links: string[] = []
  let entries = 0
  let branches = 0
  let leaves = 0
  let depth = 0
  const maxEntries = options.maxEntries ?? 200_000
  const verifySignature = options.verifySignatures ?? true

  /** Fetches and checks one entry (hash first, like geth); undefined after a reported problem. */
  const cache = new Map<string, Promise<TreeEntry | undefined>>()
  const fetchEntry = (hash: string): Promise<TreeEntry | undefined> => {
    let p = cache.get(hash)
    if (!p) {
      p = fetchOne(hash)
      cache.set(hash, p)
    }
    return p
  }
  const fetchOne = async (hash: string): Promise<TreeEntry | undefined> => {
    const name = `${hash}.${domain}`
    await limiter.take(options.signal)
    const values = await resolver.resolveTxt(name, {signal: options.signal})
    entries++
    if (values.length > MAX_RRS) fail(new CheckFailedError('DNS_OVERSIZE', `${name}: ${values.length} TXT records at one name (limit ${MAX_RRS})`, {details: {name}}))
    for (const value of values) {
      if (value.length > MAX_TXT_LENGTH) {
        fail(new CheckFailedError('DNS_OVERSIZE', `${name}: TXT record of ${value.length} bytes (limit ${MAX_TXT_LENGTH})`, {details: {name}}))
        return undefined
      }
      let entry: TreeEntry | undefined
      let parseError: WakuDiscError | undefined
      try {
        entry = parseEntry(value, {verifySignature})
      } catch (error) {
        if (error instanceof WakuDiscError && error.code === 'DNS_UNKNOWN_ENTRY') continue
        if (!(error instanceof WakuDiscError)) throw error
        parseError = error
      }
      if (!hashMatches(hash, value)) {
        fail(treeError('HASH_MISMATCH', {name}))
        return undefined
      }
      if (parseError) {
        const kind = (parseError.details as {kind?: string; type?: 'branch' | 'link' | 'enr'} | undefined) ?? {}
        const rewrapped = new CheckFailedError(parseError.code, kind.type ? parseError.message.replace(`invalid ${kind.type} entry:`, `invalid ${kind.type} entry at ${name}:`) : `${name}: ${parseError.message}`, {
          cause: parseError,
          details: {name, kind: kind.kind, type: kind.type},
        })
        fail(rewrapped)
        return undefined
      }
      txt[name] = value
      if (value.length > UDP_ENTRY_BUDGET) warn('DNS_ENTRY_TOO_BIG_FOR_UDP', `${name}: entry of ${value.length} bytes does not fit a 512-byte UDP answer (clients need TCP)`, name)
      return entry
    }
    fail(treeError('NO_ENTRY', {name}))
    return undefined
  }

  let complete = true
  const mode = options.random !== undefined ? 'random' : 'full'
  if (mode === 'full') {
    interface Item {
      hash: string
      subtree: 'enr' | 'link'
      level: number
    }
    const queue: Item[] = []
    const queued = new Map<string, string>() // hash → subtree it was queued for
    const enqueue = (item: Item, from?: string): void => {
      const seen = queued.get(item.hash)
      if (seen !== undefined) {
        // geth keeps no visited set; content hashing rules out true cycles, but a hostile zone can
        // reference one hash many times (amplification) or point a subtree back at an ancestor.
        if (!(item.level === 1 && seen !== item.subtree)) {
          fail(new CheckFailedError('DNS_LOOP', `${item.hash}.${domain} is referenced more than once${from ? ` (again from ${from}.${domain})` : ''}: loop or repeated entry`, {details: {name: `${item.hash}.${domain}`}}))
          return
        }
      }
      queued.set(item.hash, item.subtree)
      queue.push(item)
    }
    enqueue({hash: root.lroot, subtree: 'link', level: 1})
    enqueue({hash: root.eroot, subtree: 'enr', level: 1})
    let active = 0
    let interrupted = false
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const pump = (): void => {
        if (failed) return
        if (options.signal?.aborted) {
          // Interrupted: keep what was gathered (the caller reports it as partial).
          failed = true
          interrupted = true
          resolve()
          return
        }
        while (active < concurrency && queue.length > 0) {
          const item = queue.shift()!
          if (queued.size > maxEntries) {
            failed = true
            reject(new CheckFailedError('DNS_TOO_MANY_ENTRIES', `${domain}: tree has more than ${maxEntries} entries`))
            return
          }
          active++
          fetchEntry(item.hash)
            .then((entry) => {
              active--
              const name = `${item.hash}.${domain}`
              if (entry !== undefined) handle(item, entry, name)
              options.onProgress?.({fetched: entries, pending: queue.length + active, nodes: nodes.size})
              if (active === 0 && queue.length === 0) resolve()
              else pump()
            })
            .catch((error: unknown) => {
              active--
              if (failed) return
              failed = true
              if (options.signal?.aborted) {
                interrupted = true
                resolve()
              } else reject(error)
            })
        }
        if (active === 0 && queue.length === 0) resolve()
      }
      const handle = (item: Item, entry: TreeEntry, name: string): void => {
        depth = Math.max(depth, item.level)
        switch (entry.type) {
          case 'branch':
            branches++
            if (entry.children.length > MAX_CHILDREN) warn('DNS_WIDE_BRANCH', `${name}: branch with ${entry.children.length} children (builders use at most ${MAX_CHILDREN})`, name)
            if (item.level >= MAX_DEPTH) {
              fail(new CheckFailedError('DNS_TOO_DEEP', `${name}: tree deeper than ${MAX_DEPTH} levels`, {details: {name}}))
              return
            }
            for (const child of entry.children) enqueue({hash: child, subtree: item.subtree, level: item.level + 1}, item.hash)
            return
          case 'enr': {
            if (item.subtree === 'link') {
              fail(treeError('ENR_IN_LINK_TREE', {name}))
              return
            }
            leaves++
            const r = entry.record
            const old = nodes.get(r.nodeId)
            if (old) warn('DNS_DUPLICATE_NODE', `${name}: node ${r.nodeId} appears twice in the tree (also at ${old.hash}.${domain})`, name)
            if (!old || BigInt(old.seq) < r.seq) {
              const node = {nodeId: r.nodeId, seq: r.seq.toString(), enr: r.text, hash: item.hash}
              nodes.set(r.nodeId, node)
              if (!old) options.onNode?.(node)
            }
            return
          }
          case 'link':
            if (item.subtree === 'enr') {
              fail(treeError('LINK_IN_ENR_TREE', {name}))
              return
            }
            links.push(entryText(entry))
            return
        }
      }
      pump()
    })
    if (interrupted) {
      problems.push({code: 'INTERRUPTED', severity: 'error', message: `interrupted after ${entries} entries (${nodes.size} nodes): the result is partial`})
    }
    complete = !problems.some((p) => p.severity === 'error')
  } else {
    // Random descent, one query at a time, as js-waku and geth's lazy iterator do.
    const pick = options.randomInt ?? ((max: number) => randomInt(max))
    const want = Math.max(0, options.random ?? 0)
    const done = new Set<string>()
    let walks = 0
    while (nodes.size < want && !done.has(root.eroot) && walks < want * 4 + 64) {
      throwIfAborted(options.signal, `resolving ${url}`)
      walks++
      let hash = root.eroot
      let level = 1
      const path = new Set<string>()
      for (;;) {
        if (path.has(hash)) {
          fail(new CheckFailedError('DNS_LOOP', `${hash}.${domain} appears twice on one path: loop`, {details: {name: `${hash}.${domain}`}}))
          done.add(hash)
          break
        }
        path.add(hash)
        const entry = await fetchEntry(hash)
        depth = Math.max(depth, level)
        if (entry === undefined) {
          done.add(hash)
          break
        }
        if (entry.type === 'branch') {
          const open = entry.children.filter((c) => !done.has(c))
          if (open.length === 0) {
            done.add(hash)
            break
          }
          hash = open[pick(open.length)]!
          level++
          continue
        }
        if (entry.type === 'enr') {
          const r = entry.record
          if (!nodes.has(r.nodeId)) {
            leaves++
            const node = {nodeId: r.nodeId, seq: r.seq.toString(), enr: r.text, hash}
            nodes.set(r.nodeId, node)
            options.onNode?.(node)
          }
        } else {
          fail(treeError('LINK_IN_ENR_TREE', {name: `${hash}.${domain}`}))
        }
        done.add(hash)
        break
      }
    }
    branches = [...cache.keys()].length - leaves
    complete = nodes.size >= want
  }

  const linkedTrees: ResolvedTree[] = []
  if (options.followLinks && mode === 'full') {
    const maxDepth = options.maxLinkDepth ?? 8
    const maxTrees = options.maxTrees ?? 32
    for (const linked of links) {
      const key = linked.toLowerCase()
      if (seenTrees.has(key)) continue
      if (linkDepth + 1 > maxDepth || seenTrees.size >= maxTrees) {
        warn('DNS_LINK_LIMIT', `link ${linked} not followed: limit of ${maxDepth} levels / ${maxTrees} trees reached`)
        continue
      }
      try {
        linkedTrees.push(await resolveTreeAt(linked, options, linkDepth + 1, seenTrees))
      } catch (error) {
        if (!(error instanceof WakuDiscError) || (!lenient && !(error instanceof UnreachableError))) throw error
        if (!lenient) throw error
        problems.push({code: error.code, severity: 'error', message: `linked tree ${linked}: ${error.message}`})
      }
    }
  }

  const sortedNodes = [...nodes.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  const after = resolver.counters
  return {
    url: `${LINK_PREFIX}${link.str}`,
    domain,
    publicKey: Buffer.from(link.publicKey).toString('hex'),
    seq: root.seq.toString(),
    root: formatRoot(root),
    eroot: root.eroot,
    lroot: root.lroot,
    mode,
    nodes: sortedNodes,
    links,
    txt,
    linkedTrees,
    problems,
    complete,
    stats: {
      queries: after.queries - before.queries,
      entries,
      branches,
      leaves,
      depth,
      elapsedMs: Math.round(performance.now() - started),
      tcpFallbacks: after.tcpFallbacks - before.tcpFallbacks,
      retransmits: after.retransmits - before.retransmits,
      concurrency,
      rateLimit: rate,
    },
  }
}

/**
 * Rollback protection across runs: the highest seq seen per tree URL, kept in a small JSON file
 * (`{"enrtree://…": "42"}`), as EIP-1459 asks clients to do.
 */
export async function readSeenSeq(path: string, url: string): Promise<bigint | undefined> {
  const {readFile} = await import('node:fs/promises')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new BadInputError('DNS_STATE_FILE', `${path}: cannot read (${(error as NodeJS.ErrnoException).code})`)
  }
  let state: Record<string, unknown>
  try {
    state = JSON.parse(text)
  } catch {
    throw new BadInputError('DNS_STATE_FILE', `${path}: not JSON`)
  }
  const seen = state[url]
  return typeof seen === 'string' && /^\d+$/.test(seen) ? BigInt(seen) : undefined
}

export async function recordSeenSeq(path: string, url: string, seq: string): Promise<void> {
  const {readFile, writeFile, rename} = await import('node:fs/promises')
  let state: Record<string, string> = {}
  try {
    state = JSON.parse(await readFile(path, 'utf8'))
  } catch {
    state = {}
  }
  const old = state[url]
  if (old !== undefined && /^\d+$/.test(old) && BigInt(old) >= BigInt(seq)) return
  state[url] = seq
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n')
  await rename(tmp, path)
}
