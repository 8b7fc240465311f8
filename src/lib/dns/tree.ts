/**
 * EIP-1459 tree entries and tree building, byte-compatible with go-ethereum's p2p/dnsdisc
 * (tree.go): same layout, hashes, root text, link form and RFC 6979 signatures, and the same
 * parse-error meanings (error.go), so TXT records built here and by `devp2p dns` are identical.
 */
import {secp256k1} from '@noble/curves/secp256k1.js'
import {base32nopad, base64urlnopad} from '@scure/base'

import {parseEnr, type EnrRecord} from '../enr/index.js'
import {BadInputError, CheckFailedError} from '../errors.js'
import {keccak256, signDigest, verifyDigest, publicKeyOf} from '../keys/index.js'

export const ROOT_PREFIX = 'enrtree-root:v1'
export const BRANCH_PREFIX = 'enrtree-branch:'
export const LINK_PREFIX = 'enrtree://'
export const ENR_PREFIX = 'enr:'
/** 370 / (1 + 16·13/8): keeps a branch answer inside a 512-byte UDP message (geth PR #22533). */
export const MAX_CHILDREN = 13
export const MIN_HASH_LENGTH = 12
export const HASH_LENGTH = 16

/** geth's error meanings (p2p/dnsdisc/error.go), told apart by `code`. */
export const TreeErrors = {
  UNKNOWN_ENTRY: 'unknown entry type',
  NO_PUBKEY: 'missing public key',
  BAD_PUBKEY: 'invalid public key',
  INVALID_ENR: 'invalid node record',
  INVALID_CHILD: 'invalid child hash',
  INVALID_SIG: 'invalid base64 signature',
  SYNTAX: 'invalid syntax',
  NO_ROOT: 'no valid root found',
  NO_ENTRY: 'no valid tree entry found',
  HASH_MISMATCH: 'hash mismatch',
  ENR_IN_LINK_TREE: 'enr entry in link tree',
  LINK_IN_ENR_TREE: 'link entry in ENR tree',
} as const
export type TreeErrorKind = keyof typeof TreeErrors
export type EntryType = 'root' | 'branch' | 'link' | 'enr'

/** Error codes are `DNS_<KIND>`; the message is geth's text (entryError / nameError wrapping). */
export function treeError(kind: TreeErrorKind, options: {type?: EntryType; name?: string; detail?: string; cause?: unknown; hint?: string} = {}): CheckFailedError {
  let message: string = TreeErrors[kind]
  if (options.detail) message = options.detail
  if (options.type) message = options.name ? `invalid ${options.type} entry at ${options.name}: ${message}` : `invalid ${options.type} entry: ${message}`
  else if (options.name) message = `${options.name}: ${message}`
  return new CheckFailedError(`DNS_${kind}`, message, {cause: options.cause, hint: options.hint, details: {kind, type: options.type, name: options.name}})
}

export interface RootEntry {
  eroot: string
  lroot: string
  seq: bigint
  /** 65 bytes r‖s‖v (empty until signed). */
  signature: Uint8Array
}
export interface BranchEntry {
  type: 'branch'
  children: string[]
}
export interface LinkEntry {
  type: 'link'
  /** `<key>@<domain>` (the text after the scheme). */
  str: string
  domain: string
  /** 33-byte compressed secp256k1 key. */
  publicKey: Uint8Array
}
export interface EnrEntry {
  type: 'enr'
  record: EnrRecord
}
export type TreeEntry = BranchEntry | LinkEntry | EnrEntry

/** The text form of an entry (what goes into the TXT record). */
export function entryText(entry: TreeEntry): string {
  switch (entry.type) {
    case 'branch':
      return BRANCH_PREFIX + entry.children.join(',')
    case 'link':
      return LINK_PREFIX + entry.str
    case 'enr':
      return entry.record.text
  }
}

/** Subdomain label of an entry: unpadded base32 of the first 16 bytes of keccak256(text). */
export function subdomainOf(text: string): string {
  return base32nopad.encode(keccak256(new TextEncoder().encode(text)).subarray(0, HASH_LENGTH))
}

/** geth isValidHash: unpadded standard base32 decoding to 12–32 bytes, no CR/LF. */
export function isValidHash(hash: string): boolean {
  const decodedLength = Math.floor((hash.length * 5) / 8)
  if (decodedLength < MIN_HASH_LENGTH || decodedLength > 32 || /[\r\n]/.test(hash)) return false
  return decodeHash(hash) !== undefined
}

/**
 * Decodes a hash label (upper or lower case, as DNS may return either) like Go's unpadded
 * base32: a final group of 1, 3 or 6 characters is invalid, leftover bits are ignored.
 */
export function decodeHash(hash: string): Uint8Array | undefined {
  const upper = hash.toUpperCase()
  if (!/^[A-Z2-7]*$/.test(upper) || [1, 3, 6].includes(upper.length % 8)) return undefined
  const out = new Uint8Array(Math.floor((upper.length * 5) / 8))
  let bits = 0
  let value = 0
  let index = 0
  for (const ch of upper) {
    const code = ch.charCodeAt(0)
    value = (value << 5) | (code >= 65 ? code - 65 : code - 50 + 26)
    bits += 5
    if (bits >= 8) {
      bits -= 8
      if (index < out.length) out[index++] = (value >> bits) & 0xff
    }
    value &= (1 << bits) - 1
  }
  return out
}

/** True when keccak256(text) starts with the hash's bytes (geth compares a prefix, 12–32 bytes). */
export function hashMatches(hash: string, text: string): boolean {
  const want = decodeHash(hash)
  if (want === undefined) return false
  const got = keccak256(new TextEncoder().encode(text))
  if (want.length > got.length) return false
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) return false
  return true
}

// --- root ----------------------------------------------------------------------------------

export function rootSigningText(root: Pick<RootEntry, 'eroot' | 'lroot' | 'seq'>): string {
  return `${ROOT_PREFIX} e=${root.eroot} l=${root.lroot} seq=${root.seq}`
}

export function rootSigningHash(root: Pick<RootEntry, 'eroot' | 'lroot' | 'seq'>): Uint8Array {
  return keccak256(new TextEncoder().encode(rootSigningText(root)))
}

export function formatRoot(root: RootEntry): string {
  return `${rootSigningText(root)} sig=${base64urlnopad.encode(root.signature)}`
}

/** Parses a root entry like geth's parseRoot (syntax, child hashes, 65-byte signature); does not verify. */
export function parseRoot(text: string): RootEntry {
  // Sscanf(rootPrefix+" e=%s l=%s seq=%d sig=%s"): whitespace-separated tokens, trailing text ignored.
  const m = /^enrtree-root:v1[ \t]+e=(\S+)[ \t]+l=(\S+)[ \t]+seq=(\d+)[ \t]+sig=(\S+)/.exec(text)
  if (!m) throw treeError('SYNTAX', {type: 'root'})
  const [, eroot, lroot, seqText, sigText] = m as unknown as [string, string, string, string, string]
  const seq = BigInt(seqText)
  if (seq > 0xffffffffffffffffn) throw treeError('SYNTAX', {type: 'root'})
  if (!isValidHash(eroot) || !isValidHash(lroot)) throw treeError('INVALID_CHILD', {type: 'root'})
  let signature: Uint8Array
  try {
    signature = base64urlnopad.decode(sigText)
  } catch {
    throw treeError('INVALID_SIG', {type: 'root'})
  }
  if (signature.length !== 65) throw treeError('INVALID_SIG', {type: 'root'})
  return {eroot, lroot, seq, signature}
}

/** Verifies the root signature (first 64 bytes, like crypto.VerifySignature) against a compressed key. */
export function verifyRootSignature(root: RootEntry, publicKey: Uint8Array): boolean {
  if (root.signature.length < 64) return false
  return verifyDigest(root.signature.subarray(0, 64), rootSigningHash(root), publicKey)
}

// --- entries -------------------------------------------------------------------------------

/**
 * Parses a non-root entry like geth's parseEntry. An unknown prefix throws the unwrapped
 * DNS_UNKNOWN_ENTRY (clients skip such strings); other failures are wrapped with the entry type.
 */
export function parseEntry(text: string, options: {verifySignature?: boolean} = {}): TreeEntry {
  if (text.startsWith(LINK_PREFIX)) return parseLinkEntry(text)
  if (text.startsWith(BRANCH_PREFIX)) return parseBranch(text)
  if (text.startsWith(ENR_PREFIX)) return parseEnrEntry(text, options.verifySignature ?? true)
  throw treeError('UNKNOWN_ENTRY')
}

function parseBranch(text: string): BranchEntry {
  const rest = text.slice(BRANCH_PREFIX.length)
  if (rest === '') return {type: 'branch', children: []}
  const children = rest.split(',')
  for (const child of children) if (!isValidHash(child)) throw treeError('INVALID_CHILD', {type: 'branch'})
  return {type: 'branch', children}
}

function parseEnrEntry(text: string, verifySignature: boolean): EnrEntry {
  let bytes: Uint8Array
  try {
    bytes = base64urlnopad.decode(text.slice(ENR_PREFIX.length))
  } catch {
    throw treeError('INVALID_ENR', {type: 'enr'})
  }
  try {
    return {type: 'enr', record: parseEnr(bytes, {verifySignature})}
  } catch (error) {
    throw treeError('INVALID_ENR', {type: 'enr', detail: (error as Error).message, cause: error})
  }
}

function parseLinkEntry(text: string): LinkEntry {
  const link = parseLink(text)
  return link
}

/** Parses `enrtree://<base32 key>@<domain>` (link entries and tree URLs). */
export function parseLink(text: string): LinkEntry {
  if (!text.startsWith(LINK_PREFIX)) throw new CheckFailedError('DNS_BAD_URL', `wrong/missing scheme 'enrtree' in URL`)
  const str = text.slice(LINK_PREFIX.length)
  const at = str.indexOf('@')
  if (at === -1) throw treeError('NO_PUBKEY', {type: 'link'})
  const keyText = str.slice(0, at)
  const domain = str.slice(at + 1)
  let publicKey: Uint8Array
  try {
    publicKey = base32nopad.decode(keyText)
    secp256k1.Point.fromBytes(publicKey)
    if (publicKey.length !== 33) throw new Error('not a compressed key')
  } catch {
    throw treeError('BAD_PUBKEY', {type: 'link'})
  }
  return {type: 'link', str, domain, publicKey}
}

/** Parses a tree URL given by a user: a BadInputError (exit 2) when malformed. */
export function parseTreeUrl(url: string): LinkEntry {
  try {
    const link = parseLink(url.trim())
    if (link.domain === '' || !/^[A-Za-z0-9_.-]+$/.test(link.domain)) {
      throw new CheckFailedError('DNS_BAD_URL', `invalid domain ${JSON.stringify(link.domain)}`)
    }
    return link
  } catch (error) {
    throw new BadInputError('DNS_BAD_URL', `invalid enrtree URL ${JSON.stringify(url)}: ${(error as Error).message}`, {
      hint: 'the form is enrtree://<base32 compressed public key>@<domain>',
      cause: error,
    })
  }
}

export function formatLink(publicKey: Uint8Array, domain: string): string {
  return `${LINK_PREFIX}${base32nopad.encode(publicKey)}@${domain}`
}

// --- tree ----------------------------------------------------------------------------------

/** A built tree: root plus every entry by hash (the ENR and link roots included). */
export class Tree {
  root: RootEntry
  readonly entries: Map<string, TreeEntry>

  constructor(root: RootEntry, entries: Map<string, TreeEntry>) {
    this.root = root
    this.entries = entries
  }

  get seq(): bigint {
    return this.root.seq
  }

  get signed(): boolean {
    return this.root.signature.length === 65
  }

  /** The ENR records, in node-id order. */
  records(): EnrRecord[] {
    return [...this.entries.values()]
      .filter((e): e is EnrEntry => e.type === 'enr')
      .map((e) => e.record)
      .sort((a, b) => compareIds(a.nodeId, b.nodeId))
  }

  links(): string[] {
    return [...this.entries.values()].filter((e): e is LinkEntry => e.type === 'link').map((e) => LINK_PREFIX + e.str)
  }

  /** Signs the root (RFC 6979) and returns the tree URL for the domain. */
  sign(privateKey: Uint8Array, domain: string): string {
    const signature = signDigest(rootSigningHash(this.root), privateKey)
    this.root = {...this.root, signature}
    return formatLink(publicKeyOf(privateKey), domain)
  }

  /** TXT records by name like geth's ToTXT: `domain` → root, `<HASH>.domain` → entry. */
  toTxt(domain: string): Record<string, string> {
    const out: Record<string, string> = {[domain]: formatRoot(this.root)}
    for (const [hash, entry] of this.entries) out[domain === '' ? hash : `${hash}.${domain}`] = entryText(entry)
    return out
  }
}

/** geth MakeTree: records sorted by node id, links in given order, ≤ 13 children per branch. */
export function makeTree(seq: bigint, records: readonly EnrRecord[], links: readonly string[]): Tree {
  const sorted = [...records].sort((a, b) => compareIds(a.nodeId, b.nodeId))
  for (const r of sorted) {
    if (r.signature.length === 0) throw new BadInputError('DNS_UNSIGNED_RECORD', `can't add node ${r.nodeId}: unsigned node record`)
  }
  const entries = new Map<string, TreeEntry>()
  const enrEntries: TreeEntry[] = sorted.map((record) => ({type: 'enr', record}))
  const linkEntries: TreeEntry[] = links.map((l) => {
    try {
      return parseLink(l)
    } catch (error) {
      throw new BadInputError('DNS_BAD_LINK', `invalid link ${JSON.stringify(l)}: ${(error as Error).message}`, {cause: error})
    }
  })
  const put = (entry: TreeEntry): string => {
    const hash = subdomainOf(entryText(entry))
    entries.set(hash, entry)
    return hash
  }
  const build = (list: TreeEntry[]): TreeEntry => {
    if (list.length === 1) return list[0]!
    if (list.length <= MAX_CHILDREN) return {type: 'branch', children: list.map(put)}
    const subtrees: TreeEntry[] = []
    for (let i = 0; i < list.length; i += MAX_CHILDREN) {
      const sub = build(list.slice(i, i + MAX_CHILDREN))
      put(sub)
      subtrees.push(sub)
    }
    return build(subtrees)
  }
  const eroot = put(build(enrEntries))
  const lroot = put(build(linkEntries))
  return new Tree({seq, eroot, lroot, signature: new Uint8Array()}, entries)
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Depth of the tree below a root hash (root → leaf count of steps), for stats and limits. */
export function treeDepth(tree: Tree, hash: string): number {
  const entry = tree.entries.get(hash)
  if (entry === undefined || entry.type !== 'branch' || entry.children.length === 0) return 1
  let max = 0
  for (const child of entry.children) max = Math.max(max, treeDepth(tree, child))
  return max + 1
}
