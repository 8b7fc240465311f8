import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {protectRecordArguments} from '../../cli/flags.js'
import {BadInputError} from '../../lib/errors.js'
import {decodeBatchSummary, decodeEnrLines, type EnrDecodeEntry, type EnrStatus} from '../../lib/enr/index.js'
import {readInputLines} from '../../lib/input/lines.js'
import {renderEnrCard} from '../../ui/enr.js'

export default class EnrDecode extends BaseCommand<typeof EnrDecode> {
  static override description = `Decode Ethereum Node Records (EIP-778) with every field: identity, endpoints, Waku keys (waku2, multiaddrs, rs/rsv), eth2, derived peer id, dialable multiaddrs and pubsub topics.

Records come from arguments, files (one per line) or stdin ("-"): "enr:" text, base64url without the prefix, or hex RLP. Lint findings are shown as warnings.
Exit 0 when every record is valid, 2 when an input cannot be parsed, 3 when a record parses but fails validation (signature, size, field lengths).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8',
    '<%= config.bin %> <%= command.id %> --json - < records.txt',
    '<%= config.bin %> <%= command.id %> --ndjson nodes.txt',
  ]

  static override usage = 'enr decode [--json | --ndjson] ENR|FILE|- …'
  static override strict = false
  static override args = {}
  static override flags = {
    ndjson: Flags.boolean({description: 'Print one JSON object per record and line, as they are decoded.', exclusive: ['json']}),
  }

  public override async init(): Promise<void> {
    this.argv = protectRecordArguments(this.argv)
    await super.init()
  }

  async run(): Promise<EnrDecodeEntry[]> {
    const {argv} = await this.parse(EnrDecode)
    const inputs = argv as string[]
    if (inputs.length === 0) throw new BadInputError('ENR_NO_INPUT', 'give at least one record, file, or "-" for stdin')
    const entries: EnrDecodeEntry[] = []
    const statuses: EnrStatus[] = []
    for await (const {status, entry} of decodeEnrLines(readInputLines(inputs), {signal: this.signal})) {
      statuses.push(status)
      if (this.flags.ndjson) this.ndjson('record', entry)
      else {
        if (entries.length > 0) this.out('')
        this.out(renderEnrCard(entry).trimEnd())
      }
      entries.push(entry)
    }
    if (entries.length === 0) throw new BadInputError('ENR_NO_INPUT', 'no records in the input (only blank or comment lines)')
    const summary = decodeBatchSummary(statuses)
    if (this.flags.ndjson) this.ndjson('summary', summary)
    this.resultExitCode = summary.exitCode
    return entries
  }
}
