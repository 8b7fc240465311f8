import {writeFile} from 'node:fs/promises'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ENTRY_TTL, ROOT_TTL, formatTxtJson, formatZoneFile, loadSignedTree} from '../../lib/dns/index.js'
import {BadInputError} from '../../lib/errors.js'

export default class DnsTreeTxt extends BaseCommand<typeof DnsTreeTxt> {
  static override description = 'Print the TXT records of a signed tree: JSON like geth\'s `devp2p dns to-txt` (name → text), or a BIND zone file.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./tree --json',
    '<%= config.bin %> <%= command.id %> ./tree --zone-file -',
    '<%= config.bin %> <%= command.id %> ./tree --zone-file tree.zone --entry-ttl 86400',
  ]
  static override args = {dir: Args.string({required: true, description: 'signed tree directory'})}
  static override flags = {
    'zone-file': Flags.string({description: 'write a BIND zone file (absolute names) to this path, or - for stdout'}),
    'root-ttl': Flags.integer({description: 'TTL of the root record in the zone file', default: ROOT_TTL, min: 0}),
    'entry-ttl': Flags.integer({description: 'TTL of the other records in the zone file', default: ENTRY_TTL, min: 0}),
  }

  async run(): Promise<Record<string, string>> {
    const signed = await loadSignedTree(this.args.dir, {signal: this.signal})
    const f = this.flags
    if (f['zone-file'] !== undefined) {
      const zone = formatZoneFile(signed.txt, {domain: signed.domain, rootTtl: f['root-ttl'], entryTtl: f['entry-ttl'], comment: `EIP-1459 tree ${signed.url} seq ${signed.tree.seq}`})
      if (f['zone-file'] === '-') this.out(zone.trimEnd())
      else {
        try {
          await writeFile(f['zone-file'], zone)
        } catch (error) {
          throw new BadInputError('DNS_UNWRITABLE', `${f['zone-file']}: cannot write (${(error as NodeJS.ErrnoException).code})`)
        }
        this.progress(`wrote ${Object.keys(signed.txt).length} records to ${f['zone-file']}`)
      }
    } else {
      this.out(formatTxtJson(signed.txt))
    }
    return Object.fromEntries(Object.keys(signed.txt).sort().map((k) => [k, signed.txt[k]!]))
  }
}
