/**
 * EIP-1459 client (https://eips.ethereum.org/EIPS/eip-1459): resolves an enrtree:// URL through a
 * TXT resolver. The root's signature is checked against the URL's key, then the tree is either
 * synced in full (tree-sync.ts: every entry hash, subtree typing, loops, missing entries, fetched in
 * parallel with bounded concurrency and a request-rate limit) or sampled by random descent like
 * light clients (tree-walk.ts); linked trees can be followed. Unlike geth's SyncTree, `lenient`
 * keeps going and returns the valid part with every problem listed. The highest seq seen per URL is
 * kept by seen-seq.ts.
 */
import {CheckFailedError, WakuDiscError} from '../errors.js'
import {LINK_PREFIX, formatRoot, parseTreeUrl} from './tree.js'
import {RateLimiter} from './rate-limiter.js'
import {EntryFetcher, ProblemLog} from './tree-fetch.js'
import {syncTree} from './tree-sync.js'
import {walkTree} from './tree-walk.js'
import type {ResolveTreeOptions, ResolvedTree, TreeScan} from './resolve-types.js'

export type {ResolveStats, ResolveTreeOptions, ResolvedNode, ResolvedTree, TreeProblem} from './resolve-types.js'
export {readSeenSeq, recordSeenSeq} from './seen-seq.js'

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
  const lenient = options.lenient ?? false
  const log = new ProblemLog(lenient)
  const fetcher = new EntryFetcher({
    domain,
    resolver,
    rate: new RateLimiter(rate, options.burst ?? Math.max(10, rate)),
    signal: options.signal,
    verifySignature: options.verifySignatures ?? true,
    log,
  })

  const root = await fetcher.root(link)
  if (options.minSeq !== undefined && root.seq < options.minSeq) {
    log.fail(new CheckFailedError('DNS_SEQ_ROLLBACK', `root at ${domain} has seq ${root.seq}, below the ${options.minSeq} seen before: an old tree is being replayed`, {details: {name: domain}}))
  }

  const mode = options.random !== undefined ? 'random' : 'full'
  const scan: TreeScan =
    mode === 'full'
      ? await syncTree(root, {domain, fetcher, log, concurrency, maxEntries: options.maxEntries ?? 200_000, signal: options.signal, onProgress: options.onProgress, onNode: options.onNode})
      : await walkTree(root, {domain, fetcher, log, want: options.random ?? 0, pick: options.randomInt, signal: options.signal, what: `resolving ${url}`, onNode: options.onNode})

  const linkedTrees: ResolvedTree[] = []
  if (options.followLinks && mode === 'full') {
    const maxDepth = options.maxLinkDepth ?? 8
    const maxTrees = options.maxTrees ?? 32
    for (const linked of scan.links) {
      const key = linked.toLowerCase()
      if (seenTrees.has(key)) continue
      if (linkDepth + 1 > maxDepth || seenTrees.size >= maxTrees) {
        log.warn('DNS_LINK_LIMIT', `link ${linked} not followed: limit of ${maxDepth} levels / ${maxTrees} trees reached`)
        continue
      }
      try {
        linkedTrees.push(await resolveTreeAt(linked, options, linkDepth + 1, seenTrees))
      } catch (error) {
        // Lenient: a linked tree that fails is one more problem of this tree.
        if (!(error instanceof WakuDiscError) || !lenient) throw error
        log.push({code: error.code, severity: 'error', message: `linked tree ${linked}: ${error.message}`})
      }
    }
  }

  const sortedNodes = [...scan.nodes.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
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
    links: scan.links,
    txt: fetcher.txt,
    linkedTrees,
    problems: log.problems,
    complete: scan.complete,
    stats: {
      queries: after.queries - before.queries,
      entries: fetcher.entries,
      branches: scan.branches,
      leaves: scan.leaves,
      depth: scan.depth,
      elapsedMs: Math.round(performance.now() - started),
      tcpFallbacks: after.tcpFallbacks - before.tcpFallbacks,
      retransmits: after.retransmits - before.retransmits,
      concurrency,
      rateLimit: rate,
    },
  }
}
