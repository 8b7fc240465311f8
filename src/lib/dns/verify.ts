/**
 * `dns-tree verify` and `dns-tree diff`: check a tree directory or a live tree, and compare two
 * trees (directories or a directory against a URL) as a publish would change them.
 */
import {stat} from 'node:fs/promises'

import {BadInputError, CheckFailedError, WakuDiscError} from '../errors.js'
import {parseEnr} from '../enr/index.js'
import {resolveTree, type ResolveTreeOptions, type TreeProblem} from './client.js'
import {INFO_FILE, loadTreeDirectory, treeOfDirectory} from './directory.js'
import {LINK_PREFIX, makeTree, parseTreeUrl, treeDepth, verifyRootSignature} from './tree.js'
import type {TxtResolver} from './txt-resolver.js'

export interface VerifyReport {
  target: string
  kind: 'directory' | 'url'
  ok: boolean
  url?: string
  domain: string
  seq: string
  signature: 'valid' | 'invalid' | 'missing'
  nodes: number
  links: string[]
  /** TXT records of the tree (entries + root). */
  records: number
  depth: number
  problems: TreeProblem[]
  stats?: {queries: number; elapsedMs: number}
}

export interface VerifyOptions {
  signal?: AbortSignal
  /** Needed for URLs. */
  resolver?: TxtResolver
  resolveOptions?: Omit<ResolveTreeOptions, 'resolver' | 'signal' | 'lenient' | 'random'>
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** Verifies a tree directory (every record, the signature against the URL key) or a live `enrtree://` tree. */
export async function verifyTree(target: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (target.startsWith(LINK_PREFIX)) {
    if (!options.resolver) throw new BadInputError('DNS_NO_RESOLVER', 'verifying a URL needs a resolver')
    const result = await resolveTree(target, {...options.resolveOptions, resolver: options.resolver, signal: options.signal, lenient: true})
    return {
      target,
      kind: 'url',
      ok: !result.problems.some((p) => p.severity === 'error'),
      url: result.url,
      domain: result.domain,
      seq: result.seq,
      signature: 'valid',
      nodes: result.nodes.length,
      links: result.links,
      records: Object.keys(result.txt).length,
      depth: result.stats.depth,
      problems: result.problems,
      stats: {queries: result.stats.queries, elapsedMs: result.stats.elapsedMs},
    }
  }
  if (!(await isDirectory(target))) {
    throw new BadInputError('DNS_BAD_TARGET', `${target}: neither a tree directory nor an enrtree:// URL`)
  }
  return verifyTreeDirectory(target, options)
}

async function verifyTreeDirectory(dir: string, options: VerifyOptions): Promise<VerifyReport> {
  const loaded = await loadTreeDirectory(dir, {signal: options.signal})
  const problems: TreeProblem[] = []
  const records = []
  for (const [id, entry] of Object.entries(loaded.nodes)) {
    try {
      const record = parseEnr(entry.record)
      if (record.nodeId !== id) throw new CheckFailedError('NODESET_ID_MISMATCH', `node ${id}: ID does not match ID ${record.nodeId} in record`)
      if (BigInt(entry.seq) !== record.seq) throw new CheckFailedError('NODESET_SEQ_MISMATCH', `node ${id}: 'seq' ${entry.seq} does not match seq ${record.seq} from record`)
      records.push(record)
    } catch (error) {
      if (!(error instanceof WakuDiscError)) throw error
      problems.push({code: error.code, severity: 'error', message: error.message.startsWith('node ') ? error.message : `node ${id}: ${error.message}`})
    }
  }
  const tree = makeTree(BigInt(loaded.info.seq), records, loaded.info.links)
  let signature: VerifyReport['signature'] = 'missing'
  if (!loaded.info.url || !loaded.info.signature) {
    problems.push({code: 'DNS_UNSIGNED_TREE', severity: 'error', message: `${dir}: missing signature (run 'waku-disc dns-tree sign ${dir} --key-file KEY')`})
  } else {
    let signed
    try {
      signed = treeOfDirectory(loaded, records)
    } catch (error) {
      if (!(error instanceof WakuDiscError)) throw error
      problems.push({code: error.code, severity: 'error', message: error.message})
    }
    const ok = signed !== undefined && signed.root.signature.length === 65 && verifyRootSignature(signed.root, parseTreeUrl(loaded.info.url).publicKey)
    signature = ok ? 'valid' : 'invalid'
    if (!ok) {
      problems.push({
        code: 'DNS_INVALID_SIG',
        severity: 'error',
        message: `${dir}/${INFO_FILE}: invalid signature on tree for ${loaded.info.url} at seq ${loaded.info.seq} (nodes, links or seq changed since signing, or another key signed it)`,
      })
    }
  }
  return {
    target: dir,
    kind: 'directory',
    ok: !problems.some((p) => p.severity === 'error'),
    ...(loaded.info.url ? {url: loaded.info.url} : {}),
    domain: loaded.domain,
    seq: loaded.info.seq,
    signature,
    nodes: records.length,
    links: loaded.info.links,
    records: tree.entries.size + 1,
    depth: treeDepth(tree, tree.root.eroot),
    problems,
  }
}

// --- diff ----------------------------------------------------------------------------------

export interface TreeSnapshot {
  source: string
  url?: string
  domain: string
  seq: string
  signed: boolean
  /** name (lowercase) → TXT text. */
  txt: Record<string, string>
  nodes: Record<string, {seq: string; enr: string}>
  links: string[]
}

export interface DiffReport {
  a: {source: string; url?: string; seq: string; nodes: number}
  b: {source: string; url?: string; seq: string; nodes: number}
  identical: boolean
  nodes: {
    added: {nodeId: string; seq: string; enr: string}[]
    removed: {nodeId: string; seq: string; enr: string}[]
    changed: {nodeId: string; fromSeq: string; toSeq: string; enr: string}[]
  }
  links: {added: string[]; removed: string[]}
  /** What publishing B over A would do to the zone. */
  records: {create: string[]; delete: string[]; root: {from: string; to: string} | null}
  warnings: string[]
}

export async function loadSnapshot(target: string, options: VerifyOptions = {}): Promise<TreeSnapshot> {
  if (target.startsWith(LINK_PREFIX)) {
    if (!options.resolver) throw new BadInputError('DNS_NO_RESOLVER', 'diffing against a URL needs a resolver')
    const r = await resolveTree(target, {...options.resolveOptions, resolver: options.resolver, signal: options.signal})
    return {
      source: target,
      url: r.url,
      domain: r.domain,
      seq: r.seq,
      signed: true,
      txt: lowerKeys(r.txt),
      nodes: Object.fromEntries(r.nodes.map((n) => [n.nodeId, {seq: n.seq, enr: n.enr}])),
      links: r.links,
    }
  }
  if (!(await isDirectory(target))) throw new BadInputError('DNS_BAD_TARGET', `${target}: neither a tree directory nor an enrtree:// URL`)
  const loaded = await loadTreeDirectory(target, {signal: options.signal})
  const tree = treeOfDirectory(loaded)
  return {
    source: target,
    ...(loaded.info.url ? {url: loaded.info.url} : {}),
    domain: loaded.domain,
    seq: loaded.info.seq,
    signed: Boolean(loaded.info.signature),
    txt: lowerKeys(tree.toTxt(loaded.domain)),
    nodes: Object.fromEntries(Object.entries(loaded.nodes).map(([id, e]) => [id, {seq: e.seq, enr: e.record}])),
    links: loaded.info.links,
  }
}

function lowerKeys(txt: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(txt).map(([k, v]) => [k.toLowerCase(), v]))
}

export async function diffTrees(a: string, b: string, options: VerifyOptions = {}): Promise<DiffReport> {
  const [sa, sb] = [await loadSnapshot(a, options), await loadSnapshot(b, options)]
  return diffSnapshots(sa, sb)
}

export function diffSnapshots(sa: TreeSnapshot, sb: TreeSnapshot): DiffReport {
  const added = Object.entries(sb.nodes)
    .filter(([id]) => !(id in sa.nodes))
    .map(([nodeId, n]) => ({nodeId, ...n}))
  const removed = Object.entries(sa.nodes)
    .filter(([id]) => !(id in sb.nodes))
    .map(([nodeId, n]) => ({nodeId, ...n}))
  const changed = Object.entries(sb.nodes)
    .filter(([id, n]) => id in sa.nodes && sa.nodes[id]!.enr !== n.enr)
    .map(([nodeId, n]) => ({nodeId, fromSeq: sa.nodes[nodeId]!.seq, toSeq: n.seq, enr: n.enr}))
  const rootA = sa.domain.toLowerCase()
  const rootB = sb.domain.toLowerCase()
  const create = Object.keys(sb.txt)
    .filter((k) => k !== rootB && sa.txt[k] !== sb.txt[k])
    .sort()
  const del = Object.keys(sa.txt)
    .filter((k) => k !== rootA && !(k in sb.txt))
    .sort()
  const root = sa.txt[rootA] !== sb.txt[rootB] ? {from: sa.txt[rootA] ?? '', to: sb.txt[rootB] ?? ''} : null
  const warnings: string[] = []
  const contentChanged = added.length + removed.length + changed.length > 0 || sa.links.join() !== sb.links.join()
  if (rootA !== rootB) warnings.push(`the trees are for different domains (${sa.domain} and ${sb.domain})`)
  if (contentChanged && BigInt(sb.seq) <= BigInt(sa.seq)) {
    warnings.push(`seq does not increase (${sa.seq} → ${sb.seq}) although the content changed: clients that saw seq ${sa.seq} may reject or ignore the new tree; re-sign with a higher seq`)
  }
  if (!sb.signed) warnings.push(`${sb.source} is not signed yet`)
  if (sa.url && sb.url && sa.url !== sb.url) warnings.push(`signed by different keys (${sa.url} vs ${sb.url}): clients holding the old URL will reject the new tree`)
  return {
    a: {source: sa.source, ...(sa.url ? {url: sa.url} : {}), seq: sa.seq, nodes: Object.keys(sa.nodes).length},
    b: {source: sb.source, ...(sb.url ? {url: sb.url} : {}), seq: sb.seq, nodes: Object.keys(sb.nodes).length},
    identical: !contentChanged && root === null,
    nodes: {added, removed, changed},
    links: {added: sb.links.filter((l) => !sa.links.includes(l)), removed: sa.links.filter((l) => !sb.links.includes(l))},
    records: {create, delete: del, root},
    warnings,
  }
}

