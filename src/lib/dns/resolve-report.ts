/**
 * One resolution with rollback protection across runs and a verdict: the lower bound on seq is the
 * higher of the one given and the one the state file remembers for the URL; after the resolution
 * the new seq is recorded (unless the root was a rollback), and the outcome is mapped to the exit
 * code the CLI uses. Optionally every record decoded (Waku capabilities, shards, addresses).
 */
import {decodeEnr, parseEnr, type DecodedEnr} from '../enr/index.js'
import {ExitCode, abortError, type ExitCodeValue} from '../errors.js'
import type {NodeSet} from '../nodeset/index.js'
import {resolveTree} from './client.js'
import type {ResolveTreeOptions, ResolvedTree} from './resolve-types.js'
import {readSeenSeq, recordSeenSeq, strictestMinSeq} from './seen-seq.js'

export interface ResolveReportOptions extends ResolveTreeOptions {
  /** JSON file remembering the highest seq seen per tree URL: a lower root is rejected, a higher one recorded. */
  statePath?: string
  /** Add every record decoded to the report. */
  decode?: boolean
}

export interface ResolveReport extends ResolvedTree {
  /** 0 complete; 3 an error was found (lenient); 4 out of time or 130 interrupted (the result is partial). */
  exitCode: ExitCodeValue
  decoded?: DecodedEnr[]
}

/**
 * The exit code a resolution maps to: an interrupted one takes the abort's (4 for a timeout, 130
 * for an interrupt), one with an error problem is a failed check (3), otherwise 0.
 */
export function resolveExitCode(tree: Pick<ResolvedTree, 'problems'>, signal?: AbortSignal): ExitCodeValue {
  if (tree.problems.some((p) => p.code === 'INTERRUPTED')) return signal?.aborted ? abortError(signal, 'resolving').exitCode : ExitCode.interrupted
  if (tree.problems.some((p) => p.severity === 'error')) return ExitCode.checkFailed
  return ExitCode.ok
}

/** The tree's nodes as a geth nodes.json set (id → seq and record). */
export function resolvedNodeSet(tree: Pick<ResolvedTree, 'nodes'>): NodeSet {
  return Object.fromEntries(tree.nodes.map((n) => [n.nodeId, {seq: n.seq, record: n.enr}]))
}

/** Resolves `url` as {@link resolveTree} does, with the state file's seq as a lower bound and the verdict as `exitCode`. */
export async function resolveTreeReport(url: string, options: ResolveReportOptions): Promise<ResolveReport> {
  const {statePath, decode, ...resolveOptions} = options
  const key = url.trim()
  const minSeq = strictestMinSeq(options.minSeq, statePath ? await readSeenSeq(statePath, key) : undefined)
  const tree = await resolveTree(url, {...resolveOptions, ...(minSeq !== undefined ? {minSeq} : {})})
  if (statePath && !tree.problems.some((p) => p.code === 'DNS_SEQ_ROLLBACK')) await recordSeenSeq(statePath, key, tree.seq)
  const report: ResolveReport = {...tree, exitCode: resolveExitCode(tree, options.signal)}
  if (decode) report.decoded = tree.nodes.map((n) => decodeEnr(parseEnr(n.enr, {verifySignature: false})))
  return report
}
