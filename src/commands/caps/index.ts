import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {DEFAULT_CONCURRENCY, runFleet, targetsFromInputs, type FleetReport, type TargetInput} from '../../lib/caps/index.js'
import {latestRecords, readRecords} from '../../lib/input/records.js'
import {CAPABILITIES, parseCapabilityList, parseShardList} from '../../lib/libp2p/protocols.js'
import {renderFleet, renderFleetProgress} from '../../ui/caps.js'

/** Each target's budget when neither --target-timeout nor a command-line --timeout is given (wakucanary's default). */
const DEFAULT_TARGET_TIMEOUT_S = 10

export default class Caps extends BaseCommand<typeof Caps> {
  static override summary = 'What a Waku node really offers: identify, protocols, metadata, ping, ENR cross-check'
  static override description =
    "Dials each target (multiaddr with /p2p/<peer id>, or ENR), runs identify (agent, protocols, listen and observed addresses), names every Waku protocol id, asks /vac/waku/metadata/1.0.0 for cluster and shards (nwaku's packed field 3 or the older field 2), pings, and for ENR targets cross-checks waku2 bits against the protocols and rs/rsv against the metadata shards. With --expect/--cluster/--shard it is a canary: exit 0 when every expectation holds, 3 when one does not, 4 when a target is unreachable. Many targets (arguments, files of them, or --nodes) are checked in parallel."
  static override examples = [
    '<%= config.bin %> <%= command.id %> /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAm…',
    '<%= config.bin %> <%= command.id %> enr:-QE… --expect relay,store --cluster 1 --shard 0 --target-timeout 10',
    '<%= config.bin %> <%= command.id %> --nodes nodes.json --expect relay --target-timeout 5 --timeout 120 --json',
  ]
  static override strict = false
  static override args = {targets: Args.string({description: 'multiaddrs with /p2p/<peer id> or ENRs; a file of them (one a line, nodes.json or crawl NDJSON); - for stdin'})}
  static override flags = {
    expect: Flags.string({char: 'e', description: `protocols that must be offered (comma-separated): ${CAPABILITIES.join(', ')}`, multiple: true}),
    cluster: Flags.integer({description: 'cluster id the metadata answer must name', min: 0, max: 65535}),
    shard: Flags.string({description: 'shard(s) the metadata answer must include (comma-separated, repeatable)', multiple: true}),
    nodes: Flags.string({description: 'also check every record of this node set (nodes.json, crawl NDJSON or ENR list)'}),
    concurrency: Flags.integer({description: 'targets checked at once', default: DEFAULT_CONCURRENCY, min: 1, max: 512}),
    'target-timeout': Flags.integer({
      description: `seconds allowed for each target: dial, identify, metadata and ping (default ${DEFAULT_TARGET_TIMEOUT_S}; wakucanary's -t)`,
      env: 'WAKU_DISC_TARGET_TIMEOUT',
      min: 1,
    }),
    'no-ping': Flags.boolean({description: 'skip the libp2p ping'}),
    ndjson: Flags.boolean({description: 'stream one JSON line per target as it completes, then a summary line', exclusive: ['json']}),
  }

  /**
   * The run's deadline (--timeout / WAKU_DISC_TIMEOUT, as in every command) is applied in run(): a
   * `--timeout` typed on the command line without --target-timeout keeps its earlier meaning, each
   * target's budget, so scripts written for it still work (see budgets()).
   */
  static override timeoutCoversWholeRun = false

  async run(): Promise<FleetReport> {
    const {argv, raw} = await this.parse(Caps)
    const capabilities = parseCapabilityList(this.flags.expect)
    const shards = parseShardList(this.flags.shard)
    const {targetMs, runMs, legacy} = this.budgets(raw.some((t) => t.type === 'flag' && t.flag === 'timeout'))
    const signal = runMs > 0 ? AbortSignal.any([this.signal, AbortSignal.timeout(runMs)]) : this.signal
    const args = await readRecords(argv as string[], {signal, accept: ['enr', 'multiaddr']})
    const inputs: TargetInput[] = args.entries.map((e) => ({text: e.text, where: e.where}))
    if (this.flags.nodes) {
      const set = await readRecords([this.flags.nodes], {signal, lenient: true, literals: false, onProblem: (p) => this.progress(`skipped ${p.where}: ${p.message}`)})
      for (const e of latestRecords(set.entries)) inputs.push({text: e.text, where: e.where, lenient: true})
    }
    const {targets, skipped} = targetsFromInputs(inputs)
    if (legacy && targets.length > 1) {
      this.progress(`note: --timeout ${this.flags.timeout} without --target-timeout is each target's budget (its earlier meaning in caps); give --target-timeout for that, and --timeout with it bounds the whole run`)
    }
    const report = await runFleet(
      targets,
      {
        signal,
        timeoutMs: targetMs,
        concurrency: this.flags.concurrency,
        ping: !this.flags['no-ping'],
        expect: {
          ...(capabilities.length ? {capabilities} : {}),
          ...(this.flags.cluster !== undefined ? {cluster: this.flags.cluster} : {}),
          ...(shards.length ? {shards} : {}),
        },
      },
      (event, state) => {
        if (event.type !== 'result') return
        if (this.flags.ndjson) this.ndjson('target', {...event.report})
        else if (targets.length > 1) this.progress(renderFleetProgress(event.report, state.summary.done, state.summary.total))
      },
    )
    if (skipped.length) report.skipped = skipped
    if (this.flags.ndjson) {
      for (const k of skipped) this.ndjson('skipped', {...k})
      const stopped = report.timedOut ? {timedOut: true} : {}
      this.ndjson('summary', {...report.summary, exitCode: report.exitCode, durationMs: report.durationMs, ...stopped})
    } else {
      this.out(renderFleet(report))
    }
    this.resultExitCode = report.exitCode
    return report
  }

  /**
   * Each target's budget and the run's deadline, in ms (0: none). --target-timeout (or
   * WAKU_DISC_TARGET_TIMEOUT) is the budget and --timeout (or WAKU_DISC_TIMEOUT) the deadline; a
   * --timeout on the command line with no --target-timeout is the budget instead, as it was.
   */
  private budgets(timeoutOnCommandLine: boolean): {targetMs: number; runMs: number; legacy: boolean} {
    const timeout = this.flags.timeout ?? 0
    const target = this.flags['target-timeout']
    const legacy = timeoutOnCommandLine && target === undefined && timeout > 0
    if (legacy) return {targetMs: timeout * 1000, runMs: 0, legacy}
    return {targetMs: (target ?? DEFAULT_TARGET_TIMEOUT_S) * 1000, runMs: timeout * 1000, legacy}
  }
}
