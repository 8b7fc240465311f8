import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {protectRecordArguments} from '../../cli/flags.js'
import {BadInputError} from '../../lib/errors.js'
import {lintBatchSummary, lintEnrLines, type EnrStatus, type LintEntry} from '../../lib/enr/index.js'
import {readInputLines} from '../../lib/input/lines.js'
import {renderLintEntry, renderLintSummary} from '../../ui/enr.js'

export default class EnrLint extends BaseCommand<typeof EnrLint> {
  static override description = `Check records for interop problems that real implementations (geth, nwaku, go-waku, js-waku, sigp) trip on.

Each finding has a stable code naming the field (size.over-limit, seq.over-255, waku2.not-one-byte, rsv.js-waku-bit-order, udp.missing, …), a severity, and one sentence on what breaks and for whom.
Exit 3 when any error-level finding, 2 when an input cannot be parsed.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8',
    '<%= config.bin %> <%= command.id %> --public --json bootnodes.txt',
  ]

  static override usage = 'enr lint [--json | --ndjson] [--public] ENR|FILE|- …'
  static override strict = false
  static override args = {}
  static override flags = {
    public: Flags.boolean({description: 'The records are meant for a public list (DNS tree, bootstrap list): private, loopback and link-local addresses are errors.'}),
    ndjson: Flags.boolean({description: 'Print one JSON object per record and line.', exclusive: ['json']}),
  }

  public override async init(): Promise<void> {
    this.argv = protectRecordArguments(this.argv)
    await super.init()
  }

  async run(): Promise<LintEntry[]> {
    const {argv} = await this.parse(EnrLint)
    const inputs = argv as string[]
    if (inputs.length === 0) throw new BadInputError('ENR_NO_INPUT', 'give at least one record, file, or "-" for stdin')
    const entries: LintEntry[] = []
    const statuses: EnrStatus[] = []
    for await (const {status, entry} of lintEnrLines(readInputLines(inputs), {signal: this.signal, publicList: this.flags.public})) {
      statuses.push(status)
      entries.push(entry)
      if (this.flags.ndjson) this.ndjson('record', entry)
      else this.out(renderLintEntry(entry).trimEnd())
    }
    if (entries.length === 0) throw new BadInputError('ENR_NO_INPUT', 'no records in the input (only blank or comment lines)')
    const summary = lintBatchSummary(statuses, entries)
    if (this.flags.ndjson) this.ndjson('summary', summary)
    else if (entries.length > 1) this.out(renderLintSummary(summary))
    this.resultExitCode = summary.exitCode
    return entries
  }
}
