/**
 * Fetching and checking the TXT records of one EIP-1459 tree, shared by the full sync
 * (tree-sync.ts) and the random descent (tree-walk.ts): the root (signature against the URL key)
 * and each entry (size limits, hash first like geth, then parsing), each hash fetched once. Also the
 * problem log both fill: an error throws unless lenient, then it is listed like a warning.
 */
import {CheckFailedError, WakuDiscError} from '../errors.js'
import {ROOT_PREFIX, hashMatches, parseEntry, parseRoot, treeError, verifyRootSignature, type RootEntry, type LinkEntry, type TreeEntry} from './tree.js'
import type {RateLimiter} from './rate-limiter.js'
import type {TxtResolver} from './txt-resolver.js'
import type {TreeProblem} from './resolve-types.js'

const MAX_TXT_LENGTH = 4096
const MAX_RRS = 64
/** What fits into a 512-byte UDP answer with a typical query name (geth's budget is 370 for children). */
const UDP_ENTRY_BUDGET = 430

/** The problems of one tree. `fail` throws an error unless lenient; warnings are always only listed. */
export class ProblemLog {
  readonly problems: TreeProblem[] = []

  constructor(readonly lenient: boolean) {}

  fail(error: WakuDiscError, severity: 'error' | 'warning' = 'error'): void {
    if (severity === 'error' && !this.lenient) throw error
    const name = (error.details as {name?: string} | undefined)?.name
    this.problems.push({code: error.code, severity, message: error.message, ...(name ? {name} : {})})
  }

  warn(code: string, message: string, name?: string): void {
    this.problems.push({code, severity: 'warning', message, ...(name ? {name} : {})})
  }

  push(problem: TreeProblem): void {
    this.problems.push(problem)
  }

  get hasErrors(): boolean {
    return this.problems.some((p) => p.severity === 'error')
  }
}

export interface EntryFetcherOptions {
  domain: string
  resolver: TxtResolver
  rate: RateLimiter
  signal?: AbortSignal
  verifySignature: boolean
  log: ProblemLog
}

/** Fetches the root and the entries of one tree; every record accepted lands in `txt`, root first. */
export class EntryFetcher {
  /** Every TXT record accepted, by name (root included). */
  readonly txt: Record<string, string> = {}
  /** Entries fetched (root not counted). */
  entries = 0
  private readonly cache = new Map<string, Promise<TreeEntry | undefined>>()

  constructor(private readonly o: EntryFetcherOptions) {}

  /** Distinct hashes asked for so far (fetched, failed or in flight). */
  get asked(): number {
    return this.cache.size
  }

  /** The root at the tree's domain, its signature checked against the URL's key. */
  async root(link: LinkEntry): Promise<RootEntry> {
    const {domain, resolver, signal} = this.o
    await this.o.rate.take(signal)
    const rootTxts = await resolver.resolveTxt(domain, {signal})
    const rootText = rootTxts.find((t) => t.startsWith(ROOT_PREFIX))
    if (rootText === undefined) {
      throw treeError('NO_ROOT', {name: domain, hint: rootTxts.length === 0 ? `no TXT record at ${domain}` : `${rootTxts.length} TXT record(s) at ${domain}, none starting with ${ROOT_PREFIX}`})
    }
    const root = parseRoot(rootText)
    if (!verifyRootSignature(root, link.publicKey)) {
      throw new CheckFailedError('DNS_INVALID_SIG', `invalid root entry: invalid base64 signature (the root at ${domain} is not signed by the URL's key ${link.str.slice(0, link.str.indexOf('@'))})`, {
        hint: 'the tree was re-signed with another key, or the answer was forged; compare the key in the URL with `dns-tree verify` output',
        details: {kind: 'INVALID_SIG', type: 'root', name: domain},
      })
    }
    this.txt[domain] = rootText
    return root
  }

  /** One entry, checked (hash first, like geth); undefined after a reported problem. Each hash is fetched once. */
  fetch(hash: string): Promise<TreeEntry | undefined> {
    let p = this.cache.get(hash)
    if (!p) {
      p = this.fetchOne(hash)
      this.cache.set(hash, p)
    }
    return p
  }

  private async fetchOne(hash: string): Promise<TreeEntry | undefined> {
    const {domain, resolver, signal, log} = this.o
    const name = `${hash}.${domain}`
    await this.o.rate.take(signal)
    const values = await resolver.resolveTxt(name, {signal})
    this.entries++
    if (values.length > MAX_RRS) log.fail(new CheckFailedError('DNS_OVERSIZE', `${name}: ${values.length} TXT records at one name (limit ${MAX_RRS})`, {details: {name}}))
    for (const value of values) {
      if (value.length > MAX_TXT_LENGTH) {
        log.fail(new CheckFailedError('DNS_OVERSIZE', `${name}: TXT record of ${value.length} bytes (limit ${MAX_TXT_LENGTH})`, {details: {name}}))
        return undefined
      }
      let entry: TreeEntry | undefined
      let parseError: WakuDiscError | undefined
      try {
        entry = parseEntry(value, {verifySignature: this.o.verifySignature})
      } catch (error) {
        if (error instanceof WakuDiscError && error.code === 'DNS_UNKNOWN_ENTRY') continue
        if (!(error instanceof WakuDiscError)) throw error
        parseError = error
      }
      if (!hashMatches(hash, value)) {
        log.fail(treeError('HASH_MISMATCH', {name}))
        return undefined
      }
      if (parseError) {
        const kind = (parseError.details as {kind?: string; type?: 'branch' | 'link' | 'enr'} | undefined) ?? {}
        const rewrapped = new CheckFailedError(parseError.code, kind.type ? parseError.message.replace(`invalid ${kind.type} entry:`, `invalid ${kind.type} entry at ${name}:`) : `${name}: ${parseError.message}`, {
          cause: parseError,
          details: {name, kind: kind.kind, type: kind.type},
        })
        log.fail(rewrapped)
        return undefined
      }
      this.txt[name] = value
      if (value.length > UDP_ENTRY_BUDGET) log.warn('DNS_ENTRY_TOO_BIG_FOR_UDP', `${name}: entry of ${value.length} bytes does not fit a 512-byte UDP answer (clients need TCP)`, name)
      return entry
    }
    log.fail(treeError('NO_ENTRY', {name}))
    return undefined
  }
}
