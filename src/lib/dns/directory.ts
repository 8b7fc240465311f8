/**
 * Tree directories as go-ethereum's `devp2p dns` keeps them: `enrtree-info.json` (url, seq,
 * signature, links, lastModified) beside a `nodes.json` node set. `build`, `sign` and `txt`
 * work on these, so directories move freely between waku-disc and geth.
 */
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {basename, join, resolve as resolvePath} from 'node:path'

import {BadInputError, CheckFailedError, throwIfAborted} from '../errors.js'
import {loadPrivateKey, publicKeyOf} from '../keys/index.js'
import type {EnrRecord} from '../enr/index.js'
import {nodeSetOf, readRecords, type RecordFormat} from '../input/records.js'
import {
  filterNodeSetDetailed,
  formatNodeSet,
  nodeSetRecords,
  type NodeSet,
  type NodeSetFilter,
  type NodeSetFilterDrops,
  type NodeSetFormat,
  type NodeSetProblem,
} from '../nodeset/index.js'
import {formatRoot, makeTree, parseLink, parseRoot, parseTreeUrl, treeDepth, verifyRootSignature, type Tree} from './tree.js'
import {base32nopad, base64urlnopad} from '@scure/base'

export const INFO_FILE = 'enrtree-info.json'
export const NODES_FILE = 'nodes.json'
export const ROOT_TTL = 1800
export const ENTRY_TTL = 2_419_200
export const ENTRY_TTL_CLOUDFLARE = 86_400

/** enrtree-info.json (geth's dnsMetaJSON); `domain` is waku-disc's addition for unsigned trees. */
export interface TreeInfo {
  url?: string
  seq: string
  signature?: string
  links: string[]
  lastModified: string
  domain?: string
}

export interface TreeDirectory {
  dir: string
  info: TreeInfo
  nodes: NodeSet
  /** The domain: --domain, else the URL's, else `domain`, else the directory name (like geth). */
  domain: string
}

export async function loadTreeDirectory(dir: string, options: {signal?: AbortSignal} = {}): Promise<TreeDirectory> {
  throwIfAborted(options.signal, 'loading the tree directory')
  let isDir = false
  try {
    isDir = (await stat(dir)).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) throw new BadInputError('DNS_NO_TREE_DIR', `${dir}: not a tree directory`, {hint: 'create one with `waku-disc dns-tree build NODES --domain D --out DIR`'})
  const info = await readTreeInfo(dir)
  const nodesPath = join(dir, NODES_FILE)
  let nodes: NodeSet = {}
  if (await exists(nodesPath)) {
    const result = await readRecords([nodesPath], {signal: options.signal, literals: false, verifySignatures: false})
    if (result.sources[0]!.format !== 'nodes.json') throw new BadInputError('DNS_BAD_NODES', `${nodesPath}: not a geth nodes.json node set`)
    nodes = nodeSetOf(result.entries)
  }
  const domain = info.url ? parseTreeUrl(info.url).domain : info.domain ?? basename(resolvePath(dir))
  return {dir, info, nodes, domain}
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** The node-set format a build input was read as (records.ts calls a one-record-per-line file `lines`). */
function nodeSetFormat(format: RecordFormat): NodeSetFormat {
  return format === 'nodes.json' || format === 'ndjson' ? format : 'enr-list'
}

async function readTreeInfo(dir: string): Promise<TreeInfo> {
  const path = join(dir, INFO_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {seq: '0', links: [], lastModified: new Date(0).toISOString()}
    throw new BadInputError('DNS_BAD_INFO', `${path}: cannot read (${(error as NodeJS.ErrnoException).code})`, {cause: error})
  }
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text, (key, value, context?: {source?: string}) => (key === 'seq' && context?.source ? context.source : value))
  } catch (error) {
    throw new BadInputError('DNS_BAD_INFO', `${path}: invalid JSON: ${(error as Error).message}`, {cause: error})
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BadInputError('DNS_BAD_INFO', `${path}: not a JSON object`)
  const seq = String(raw.seq ?? '0')
  if (!/^\d+$/.test(seq)) throw new BadInputError('DNS_BAD_INFO', `${path}: "seq" ${seq} is not a non-negative integer`)
  const links = raw.links ?? []
  if (!Array.isArray(links) || links.some((l) => typeof l !== 'string')) throw new BadInputError('DNS_BAD_INFO', `${path}: "links" must be a list of enrtree:// URLs`)
  for (const link of links as string[]) {
    try {
      parseLink(link)
    } catch (error) {
      throw new BadInputError('DNS_BAD_INFO', `${path}: invalid link ${JSON.stringify(link)}: ${(error as Error).message}`)
    }
  }
  const info: TreeInfo = {seq: BigInt(seq).toString(), links: links as string[], lastModified: typeof raw.lastModified === 'string' ? raw.lastModified : new Date(0).toISOString()}
  if (typeof raw.url === 'string' && raw.url !== '') {
    parseTreeUrl(raw.url)
    info.url = raw.url
  }
  if (typeof raw.signature === 'string' && raw.signature !== '') info.signature = raw.signature
  if (typeof raw.domain === 'string' && raw.domain !== '') info.domain = raw.domain
  return info
}

/** Serialises enrtree-info.json like geth (4-space indent, field order url, seq, signature, links, lastModified). */
export function formatTreeInfo(info: TreeInfo): string {
  const lines: string[] = []
  if (info.url) lines.push(`    "url": ${JSON.stringify(info.url)}`)
  lines.push(`    "seq": ${BigInt(info.seq).toString()}`)
  if (info.signature) lines.push(`    "signature": ${JSON.stringify(info.signature)}`)
  lines.push(info.links.length === 0 ? `    "links": []` : `    "links": [\n${info.links.map((l) => `        ${JSON.stringify(l)}`).join(',\n')}\n    ]`)
  lines.push(`    "lastModified": ${JSON.stringify(info.lastModified)}`)
  if (info.domain && !info.url) lines.push(`    "domain": ${JSON.stringify(info.domain)}`)
  return `{\n${lines.join(',\n')}\n}`
}

async function writeTreeFiles(dir: string, info: TreeInfo, nodes?: NodeSet): Promise<void> {
  try {
    await mkdir(dir, {recursive: true})
    if (nodes) await writeFile(join(dir, NODES_FILE), formatNodeSet(nodes), {mode: 0o644})
    await writeFile(join(dir, INFO_FILE), formatTreeInfo(info), {mode: 0o644})
  } catch (error) {
    throw new BadInputError('DNS_UNWRITABLE', `${dir}: cannot write tree directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {cause: error})
  }
}

/** The tree a directory describes, at its recorded seq (signature attached if present). */
export function treeOfDirectory(tree: TreeDirectory, records?: EnrRecord[]): Tree {
  const built = makeTree(BigInt(tree.info.seq), records ?? nodeSetRecords(tree.nodes), tree.info.links)
  if (tree.info.signature) {
    try {
      built.root = {...built.root, signature: base64urlnopad.decode(tree.info.signature)}
    } catch {
      throw new CheckFailedError('DNS_INVALID_SIG', `${join(tree.dir, INFO_FILE)}: signature is not unpadded base64url`)
    }
  }
  return built
}

// --- build ---------------------------------------------------------------------------------

export interface BuildTreeOptions {
  domain: string
  links?: string[]
  filter?: NodeSetFilter
  out: string
  signal?: AbortSignal
  /** Skip records that fail to parse instead of stopping (they are listed in the report). */
  lenient?: boolean
}

export interface BuildTreeReport {
  dir: string
  domain: string
  input: {path: string; format: NodeSetFormat; nodes: number; skipped: NodeSetProblem[]}
  /** Present when filters were given: what each one dropped from the input nodes. */
  filtered?: NodeSetFilterDrops
  nodes: number
  links: string[]
  seq: string
  /** TXT records the signed tree will have (entries + root). */
  records: number
  depth: number
  previousUrl?: string
  warnings: string[]
}

/** `dns-tree build`: reads a node set, filters it, writes DIR/nodes.json and DIR/enrtree-info.json (unsigned). */
export async function buildTreeDirectory(input: string, options: BuildTreeOptions): Promise<BuildTreeReport> {
  const domain = checkDomain(options.domain)
  const links = options.links ?? []
  for (const link of links) {
    try {
      parseLink(link)
    } catch (error) {
      throw new BadInputError('DNS_BAD_LINK', `--link ${JSON.stringify(link)}: ${(error as Error).message}`)
    }
  }
  const got = await readRecords([input], {signal: options.signal, lenient: options.lenient ?? false, literals: false})
  const read = {set: nodeSetOf(got.entries), format: nodeSetFormat(got.sources[0]!.format), problems: got.problems.map(({where, message}) => ({where, message}))}
  const filter = options.filter
  const hasFilter = filter !== undefined && Object.values(filter).some((v) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
  const detailed = hasFilter ? filterNodeSetDetailed(read.set, filter) : undefined
  const filtered = detailed?.set ?? read.set
  const records = nodeSetRecords(filtered, {verifySignatures: false})
  const warnings: string[] = []
  for (const r of records) if (r.size > 300) warnings.push(`node ${r.nodeId}: record is ${r.size} bytes (limit 300)`)
  // Keep seq and URL of an earlier tree in the same directory so `sign` keeps counting up.
  let previous: TreeInfo | undefined
  try {
    previous = await readTreeInfo(options.out)
  } catch {
    previous = undefined
  }
  const keepUrl = previous?.url && parseTreeUrl(previous.url).domain === domain ? previous.url : undefined
  const info: TreeInfo = {seq: previous?.seq ?? '0', links, lastModified: new Date().toISOString(), domain}
  if (keepUrl) info.url = keepUrl
  throwIfAborted(options.signal, 'building the tree')
  const tree = makeTree(BigInt(info.seq), records, links)
  await writeTreeFiles(options.out, info, filtered)
  if (records.length === 0) warnings.push(emptyTreeWarning(Object.keys(read.set).length, detailed?.dropped))
  return {
    dir: options.out,
    domain,
    input: {path: input, format: read.format, nodes: Object.keys(read.set).length, skipped: read.problems},
    ...(detailed ? {filtered: detailed.dropped} : {}),
    nodes: records.length,
    links,
    seq: info.seq,
    records: tree.entries.size + 1,
    depth: treeDepth(tree, tree.root.eroot),
    ...(keepUrl ? {previousUrl: keepUrl} : {}),
    warnings,
  }
}

/** Says why a tree came out empty: no input, or the filters dropped every input node. */
function emptyTreeWarning(inputNodes: number, dropped: NodeSetFilterDrops | undefined): string {
  if (inputNodes === 0 || dropped === undefined) return 'the tree has no nodes'
  const scoreHint = dropped.minScore > 0 ? ' (one crawl scores each node 1; `crawl --monitor` adds 1 per round the node answers)' : ''
  return `the tree has no nodes: the filters dropped all ${inputNodes} input nodes${scoreHint}`
}

export function checkDomain(domain: string): string {
  const d = domain.trim().replace(/\.$/, '')
  if (d === '' || d.length > 253 || !/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*$/.test(d)) {
    throw new BadInputError('DNS_BAD_DOMAIN', `invalid domain ${JSON.stringify(domain)}`)
  }
  return d
}

// --- sign ----------------------------------------------------------------------------------

export interface SignTreeOptions {
  keyFile: string
  passwordFile?: string
  password?: string
  /** Accept a key or password file that group or others can read. */
  insecurePermissions?: boolean
  /** Use this seq instead of incrementing the recorded one. */
  seq?: bigint
  domain?: string
  signal?: AbortSignal
}

export interface SignTreeReport {
  dir: string
  url: string
  domain: string
  seq: string
  previousSeq: string
  publicKey: string
  root: string
  nodes: number
  links: number
  records: number
  verified: boolean
  warnings: string[]
}

/** `dns-tree sign`: sets seq (previous + 1 unless given), signs the root, re-verifies, rewrites enrtree-info.json. */
export async function signTreeDirectory(dir: string, options: SignTreeOptions): Promise<SignTreeReport> {
  const tree = await loadTreeDirectory(dir, {signal: options.signal})
  const domain = options.domain ? checkDomain(options.domain) : tree.domain
  const privateKey = await loadPrivateKey(options.keyFile, {passwordFile: options.passwordFile, password: options.password, insecurePermissions: options.insecurePermissions})
  const previousSeq = BigInt(tree.info.seq)
  const seq = options.seq ?? previousSeq + 1n
  if (seq > 0xffffffffffffffffn) throw new BadInputError('DNS_BAD_SEQ', `seq ${seq} does not fit in uint64`)
  const warnings: string[] = []
  if (options.seq !== undefined && seq <= previousSeq && tree.info.signature) {
    warnings.push(`seq ${seq} is not above the previous ${previousSeq}: clients that saw the old tree may keep it`)
  }
  const records = nodeSetRecords(tree.nodes)
  const built = makeTree(seq, records, tree.info.links)
  const url = built.sign(privateKey, domain)
  // Re-verify what we are about to write: parse the root text back and check it against the URL key.
  const rootText = formatRoot(built.root)
  const reparsed = parseRoot(rootText)
  const verified = verifyRootSignature(reparsed, parseTreeUrl(url).publicKey)
  if (!verified) throw new CheckFailedError('DNS_SIGN_VERIFY', 'the signature just made does not verify (this is a bug)')
  const info: TreeInfo = {
    url,
    seq: seq.toString(),
    signature: base64urlnopad.encode(built.root.signature),
    links: tree.info.links,
    lastModified: new Date().toISOString(),
  }
  await writeTreeFiles(dir, info)
  return {
    dir,
    url,
    domain,
    seq: seq.toString(),
    previousSeq: previousSeq.toString(),
    publicKey: Buffer.from(publicKeyOf(privateKey)).toString('hex'),
    root: rootText,
    nodes: records.length,
    links: tree.info.links.length,
    records: built.entries.size + 1,
    verified,
    warnings,
  }
}

// --- txt -----------------------------------------------------------------------------------

export interface SignedTree {
  dir: string
  url: string
  domain: string
  publicKey: Uint8Array
  tree: Tree
  txt: Record<string, string>
}

/** Loads a signed tree directory and checks its signature (geth's to-txt preconditions). */
export async function loadSignedTree(dir: string, options: {signal?: AbortSignal} = {}): Promise<SignedTree> {
  const loaded = await loadTreeDirectory(dir, options)
  if (!loaded.info.url || !loaded.info.signature) {
    throw new CheckFailedError('DNS_UNSIGNED_TREE', `${dir}: missing signature`, {hint: `run 'waku-disc dns-tree sign ${dir} --key-file KEY' first`})
  }
  const link = parseTreeUrl(loaded.info.url)
  const tree = treeOfDirectory(loaded)
  if (tree.root.signature.length !== 65 || !verifyRootSignature(tree.root, link.publicKey)) {
    throw new CheckFailedError('DNS_INVALID_SIG', `${dir}: invalid signature on tree (nodes, links or seq changed since signing, or the URL key differs)`, {
      hint: `run 'waku-disc dns-tree sign ${dir} --key-file KEY' to update it`,
    })
  }
  return {dir, url: loaded.info.url, domain: link.domain, publicKey: link.publicKey, tree, txt: tree.toTxt(link.domain)}
}

/** TXT records as JSON text like geth's to-txt: keys sorted, 4-space indent. */
export function formatTxtJson(txt: Record<string, string>): string {
  const keys = Object.keys(txt).sort()
  return `{\n${keys.map((k) => `    ${JSON.stringify(k)}: ${JSON.stringify(txt[k])}`).join(',\n')}\n}`
}

/** Splits a TXT value into ≤ 255-byte character-strings of one RR. */
export function splitTxt(value: string, size = 255): string[] {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length === 0) return ['']
  const out: string[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size).toString('utf8'))
  return out
}

export interface ZoneFileOptions {
  domain: string
  rootTtl?: number
  entryTtl?: number
  comment?: string
}

/** BIND zone-file lines for a tree (absolute names, so no $ORIGIN is needed). */
export function formatZoneFile(txt: Record<string, string>, options: ZoneFileOptions): string {
  const domain = options.domain.replace(/\.$/, '')
  const names = Object.keys(txt).sort((a, b) => (a === domain ? -1 : b === domain ? 1 : a < b ? -1 : a > b ? 1 : 0))
  const lines = options.comment ? [`; ${options.comment}`] : []
  for (const name of names) {
    const ttl = name === domain ? options.rootTtl ?? ROOT_TTL : options.entryTtl ?? ENTRY_TTL
    const strings = splitTxt(txt[name]!).map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`)
    lines.push(`${name}. ${ttl} IN TXT ${strings.join(' ')}`)
  }
  return lines.join('\n') + '\n'
}

/** The enrtree key form (base32 compressed) of a hex or raw compressed public key. */
export function enrtreeKey(publicKey: Uint8Array): string {
  return base32nopad.encode(publicKey)
}


/** Writes a resolved tree as a tree directory, like geth's `dns sync` (nodes get seq and record only). */
export async function writeResolvedTreeDirectory(dir: string, resolved: {url: string; seq: string; root: string; links: string[]; nodes: {nodeId: string; seq: string; enr: string}[]}): Promise<void> {
  const root = parseRoot(resolved.root)
  const nodes: NodeSet = Object.fromEntries(resolved.nodes.map((n) => [n.nodeId, {seq: n.seq, record: n.enr}]))
  await writeTreeFiles(dir, {url: resolved.url, seq: resolved.seq, signature: base64urlnopad.encode(root.signature), links: resolved.links, lastModified: new Date().toISOString()}, nodes)
}
