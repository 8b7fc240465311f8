/** publishTree: runs a change set against a target in three phases (entries, root switch confirmed live, stale deletes). */
import {CheckFailedError, WakuDiscError, throwIfAborted} from '../../errors.js'
import {sleep} from '../../net/http.js'
import {loadSignedTree} from '../directory.js'
import {computeChanges} from './changes.js'
import type {PhaseName, PublishChange, PublishOptions, PublishReport, PublishTarget} from './types.js'

/** Publishes a signed tree directory to a target. Never throws for a failure after the first write: the report says what is left. */
export async function publishTree(dir: string, target: PublishTarget, options: PublishOptions = {}): Promise<PublishReport> {
  const signed = await loadSignedTree(dir, {signal: options.signal})
  const domain = signed.domain.toLowerCase()
  const desired = Object.fromEntries(Object.entries(signed.txt).map(([k, v]) => [k.toLowerCase(), v]))
  const seq = signed.tree.seq.toString()
  const report: PublishReport = {
    url: signed.url,
    domain,
    seq,
    target: target.description,
    dryRun: options.dryRun ?? false,
    complete: false,
    changes: {create: [], update: [], delete: []},
    unchanged: 0,
    foreign: 0,
    phases: [],
    warnings: [],
    ...(options.verbose ? {verbose: true} : {}),
  }
  try {
    const existing = await target.list(domain, options.signal)
    const set = computeChanges(domain, desired, existing, {root: options.rootTtl ?? target.defaultTtl?.root, entry: options.entryTtl ?? target.defaultTtl?.entry})
    report.changes = {create: set.create, update: set.update, delete: options.keepStale ? [] : set.delete}
    report.unchanged = set.unchanged
    report.foreign = set.foreign
    if (set.publishedSeq !== undefined) report.publishedSeq = set.publishedSeq
    if (options.keepStale && set.delete.length) report.warnings.push(`${set.delete.length} stale records kept (--keep-stale)`)
    if (set.foreign) report.warnings.push(`${set.foreign} other TXT records at the tree's names left untouched`)
    const rootChanges = [...set.create, ...set.update].filter((c) => c.name === domain)
    const entryChanges = [...set.create, ...set.update].filter((c) => c.name !== domain)
    if (rootChanges.length && set.publishedSeq !== undefined && BigInt(set.publishedSeq) >= BigInt(seq)) {
      const message = `the zone holds seq ${set.publishedSeq}, this tree has seq ${seq}: clients would keep the published tree`
      if (!options.force) throw new CheckFailedError('DNS_SEQ_NOT_INCREASING', message, {hint: 're-sign with a higher seq (dns-tree sign bumps it), or pass --force'})
      report.warnings.push(`${message} (--force)`)
    }
    if (options.dryRun) {
      report.phases = (['entries', 'root', 'delete'] as PhaseName[]).map((phase) => ({phase, status: 'dry run'}))
      report.complete = false
      return report
    }
    const phases: Array<[PhaseName, PublishChange[]]> = [
      ['entries', entryChanges],
      ['root', rootChanges],
      ['delete', report.changes.delete],
    ]
    report.phases = phases.map(([phase]) => ({phase, status: 'not started'}))
    for (const [index, [phase, changes]] of phases.entries()) {
      throwIfAborted(options.signal, 'publishing')
      const result = report.phases[index]!
      if (changes.length === 0) {
        result.status = 'nothing to do'
        continue
      }
      if (phase === 'delete' && options.staleDelayMs) await sleep(options.staleDelayMs, options.signal)
      try {
        await target.apply(phase, changes, options.signal)
        if (phase === 'root' && target.confirmRoot) {
          const live = await target.confirmRoot(domain, desired[domain]!, options.signal)
          if (!live) throw new CheckFailedError('DNS_ROOT_NOT_LIVE', `the new root is not visible at ${target.description} yet; stale records were not deleted`)
        }
        result.status = 'done'
        result.applied = changes.length
      } catch (error) {
        result.status = 'failed'
        result.error = (error as Error).message
        throw error
      }
    }
    report.complete = true
  } catch (error) {
    if (!(error instanceof WakuDiscError)) throw error
    if (!report.phases.some((p) => p.status === 'done' || p.status === 'failed')) throw error
    report.error = {code: error.code, message: error.message, exitCode: error.exitCode}
  } finally {
    await target.close?.()
  }
  return report
}
