/**
 * Many `caps` checks at once: one shared libp2p node, bounded concurrency (the shared Limiter),
 * results streamed as typed events and folded by a pure reducer into the fleet report (table,
 * --json and exit code all come from that one state).
 */
import {BadInputError, ExitCode, InterruptedError, abortError, isWakuDiscError, type ErrorJson} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {Limiter} from '../pool.js'
import {parseTarget, type Target} from '../libp2p/target.js'
import {checkCapabilities, type CapsOptions, type CapsReport} from './check.js'

export const DEFAULT_CONCURRENCY = 16

export type FleetEvent =
  | {type: 'start'; total: number; concurrency: number}
  | {type: 'result'; index: number; report: CapsReport}
  | {type: 'done'; durationMs: number}
  /** The run ended early: Ctrl-C, or the signal's deadline passed before every target was started. */
  | {type: 'stopped'; reason: 'interrupted' | 'timeout'; durationMs: number}

export interface FleetSummary {
  total: number
  done: number
  ok: number
  unmet: number
  unreachable: number
}

export interface SkippedTarget {
  input: string
  where: string
  error: ErrorJson
}

export interface FleetReport {
  targets: CapsReport[]
  /** Node-set records that could not be dialled at all (no libp2p address). */
  skipped?: SkippedTarget[]
  summary: FleetSummary
  /** 0 all expectations hold, 3 some unmet, 4 some target unreachable (canary semantics). */
  exitCode: number
  durationMs: number
  /** Set when the run ended early (Ctrl-C, or its deadline): `targets` holds what finished. */
  interrupted?: boolean
  /** The run's deadline passed (the targets not started by then are not in `targets`). */
  timedOut?: boolean
}

export function initialFleetState(): FleetReport {
  return {targets: [], summary: {total: 0, done: 0, ok: 0, unmet: 0, unreachable: 0}, exitCode: ExitCode.ok, durationMs: 0}
}

/** Pure reducer: state + event → new state. Results are kept in target order. */
export function foldFleet(state: FleetReport, event: FleetEvent): FleetReport {
  switch (event.type) {
    case 'start':
      return {...state, summary: {...state.summary, total: event.total}}
    case 'result': {
      const targets = [...state.targets]
      targets[event.index] = event.report
      const s = {...state.summary, done: state.summary.done + 1}
      s[event.report.status === 'ok' ? 'ok' : event.report.status === 'unmet' ? 'unmet' : 'unreachable']++
      const exitCode = s.unreachable > 0 ? ExitCode.unreachable : s.unmet > 0 ? ExitCode.checkFailed : ExitCode.ok
      return {...state, targets, summary: s, exitCode}
    }
    case 'done':
      return {...state, targets: state.targets.filter(Boolean), durationMs: event.durationMs}
    case 'stopped':
      return {
        ...state,
        targets: state.targets.filter(Boolean),
        durationMs: event.durationMs,
        interrupted: true,
        ...(event.reason === 'timeout' ? {timedOut: true} : {}),
        // A deadline is "timed out" (4) like an unreachable target; Ctrl-C is 130.
        exitCode: event.reason === 'timeout' ? ExitCode.unreachable : ExitCode.interrupted,
      }
  }
}

export interface FleetOptions extends Omit<CapsOptions, 'node'> {
  concurrency?: number
  node?: ProbeNode
}

/** Parses every target first, so one typo fails fast with its position. */
export function parseTargets(inputs: readonly string[]): Target[] {
  if (inputs.length === 0) throw new BadInputError('NO_TARGETS', 'no targets: give multiaddrs or ENRs as arguments, a file of them, or --nodes FILE')
  return inputs.map((input, i) => {
    try {
      return parseTarget(input)
    } catch (err) {
      if (err instanceof Error && 'code' in err) {
        ;(err as Error).message = `target ${i + 1}: ${(err as Error).message}`
      }
      throw err
    }
  })
}

export interface TargetInput {
  text: string
  /** Where it came from ('argument 2', 'nodes.json:14'), for error messages. */
  where: string
  /** From a node set: an undialable record is skipped instead of failing the run. */
  lenient?: boolean
}

/** Parses user inputs (strict: the first bad one throws, naming where it is) and node-set records (lenient). */
export function targetsFromInputs(inputs: readonly TargetInput[]): {targets: Target[]; skipped: SkippedTarget[]} {
  if (inputs.length === 0) throw new BadInputError('NO_TARGETS', 'no targets: give multiaddrs or ENRs as arguments, a file of them, or --nodes FILE')
  const targets: Target[] = []
  const skipped: SkippedTarget[] = []
  for (const input of inputs) {
    try {
      targets.push(parseTarget(input.text))
    } catch (err) {
      if (!isWakuDiscError(err)) throw err
      if (!input.lenient) {
        ;(err as Error).message = `${input.where}: ${err.message}`
        throw err
      }
      skipped.push({input: input.text, where: input.where, error: err.toJSON()})
    }
  }
  return {targets, skipped}
}

/**
 * Checks targets with at most `concurrency` in flight, yielding each result as it completes. When
 * `signal` times out, the checks in flight end as timed out, the rest are not started, and the
 * last event is `stopped` (reason timeout); an interruption (any other abort) is thrown.
 */
export async function* checkFleet(targets: readonly Target[], options: FleetOptions = {}): AsyncGenerator<FleetEvent> {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY)
  const started = performance.now()
  const node = options.node ?? (await createProbeNode({metadata: options.announce ?? {}}))
  try {
    yield {type: 'start', total: targets.length, concurrency}
    const limiter = new Limiter(concurrency)
    const queue: FleetEvent[] = []
    let wake: (() => void) | undefined
    let settled = 0
    let notStarted = 0
    let failure: unknown
    for (const [index, target] of targets.entries()) {
      void limiter
        .run(async () => {
          // After a failure (bad input, Ctrl-C) or past the deadline, queued targets are not started.
          if (failure !== undefined) return
          if (options.signal?.aborted) {
            const stop = abortError(options.signal, 'caps')
            if (stop.code === 'TIMEOUT') notStarted++
            else failure ??= stop
            return
          }
          try {
            queue.push({type: 'result', index, report: await checkCapabilities(target, {...options, node})})
          } catch (err) {
            failure ??= err
          }
        })
        .finally(() => {
          settled++
          wake?.()
        })
    }
    while (settled < targets.length || queue.length > 0) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
      while (queue.length > 0) yield queue.shift()!
    }
    if (failure !== undefined) throw failure
    const durationMs = Math.round(performance.now() - started)
    yield notStarted > 0 ? {type: 'stopped', reason: 'timeout', durationMs} : {type: 'done', durationMs}
  } finally {
    if (!options.node) await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

/** Runs the whole fleet and returns the folded report; on interruption, the part that finished (exit 130). */
export async function runFleet(targets: readonly Target[], options: FleetOptions = {}, onEvent?: (e: FleetEvent, state: FleetReport) => void): Promise<FleetReport> {
  let state = initialFleetState()
  const started = performance.now()
  try {
    for await (const event of checkFleet(targets, options)) {
      state = foldFleet(state, event)
      onEvent?.(event, state)
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err
    state = foldFleet(state, {type: 'stopped', reason: 'interrupted', durationMs: Math.round(performance.now() - started)})
  }
  return state
}
