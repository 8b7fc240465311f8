/**
 * Random descent of one EIP-1459 tree, as light clients do (js-waku, geth's lazy iterator): walk
 * root → leaf one query at a time, picking a random child that is not used up, until `want`
 * distinct records are found or the whole tree is used up. Only the record subtree (eroot) is walked.
 */
import {randomInt} from 'node:crypto'

import {CheckFailedError, throwIfAborted} from '../errors.js'
import {treeError, type RootEntry} from './tree.js'
import type {EntryFetcher, ProblemLog} from './tree-fetch.js'
import type {ResolveTreeOptions, ResolvedNode, TreeScan} from './resolve-types.js'

export interface TreeWalkOptions {
  domain: string
  fetcher: EntryFetcher
  log: ProblemLog
  /** Distinct records wanted. */
  want: number
  /** Random source: an integer in [0, max) (default node:crypto randomInt). */
  pick?: (max: number) => number
  signal?: AbortSignal
  /** Names the job in the abort error ("resolving enrtree://…"). */
  what: string
  onNode?: ResolveTreeOptions['onNode']
}

/** Walks until `want` records are found; complete when that many were. Walks are capped at 4·want + 64. */
export async function walkTree(root: RootEntry, o: TreeWalkOptions): Promise<TreeScan> {
  const {domain, fetcher, log} = o
  const pick = o.pick ?? ((max: number) => randomInt(max))
  const want = Math.max(0, o.want)
  const nodes = new Map<string, ResolvedNode>()
  let leaves = 0
  let depth = 0
  /** Hashes whose subtree holds nothing more to find. */
  const done = new Set<string>()
  let walks = 0
  while (nodes.size < want && !done.has(root.eroot) && walks < want * 4 + 64) {
    throwIfAborted(o.signal, o.what)
    walks++
    let hash = root.eroot
    let level = 1
    const path = new Set<string>()
    for (;;) {
      if (path.has(hash)) {
        log.fail(new CheckFailedError('DNS_LOOP', `${hash}.${domain} appears twice on one path: loop`, {details: {name: `${hash}.${domain}`}}))
        done.add(hash)
        break
      }
      path.add(hash)
      const entry = await fetcher.fetch(hash)
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
          o.onNode?.(node)
        }
      } else {
        log.fail(treeError('LINK_IN_ENR_TREE', {name: `${hash}.${domain}`}))
      }
      done.add(hash)
      break
    }
  }
  // Every distinct entry asked for that is not a new leaf counts as a branch.
  return {nodes, links: [], branches: fetcher.asked - leaves, leaves, depth, complete: nodes.size >= want}
}
