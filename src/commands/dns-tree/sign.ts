import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyFileFlags} from '../../cli/flags.js'
import {parseSeqText, signTreeDirectory, type SignTreeReport} from '../../lib/dns/index.js'
import {renderSignReport} from '../../ui/dns.js'

export default class DnsTreeSign extends BaseCommand<typeof DnsTreeSign> {
  static override description = 'Sign a tree directory: seq goes up by one (unless --seq), the root is signed (RFC 6979, like geth), re-verified, and written to enrtree-info.json.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./tree --key-file tree.key',
    '<%= config.bin %> <%= command.id %> ./tree --key-file keystore.json --password-file ./password.txt',
    '<%= config.bin %> <%= command.id %> ./tree --key-file tree.key --seq 100',
  ]
  static override args = {dir: Args.string({required: true, description: 'tree directory (from dns-tree build or geth)'})}
  static override flags = {
    'key-file': Flags.string({required: true, description: 'signing key: hex file (geth `devp2p key generate`) or keystore JSON', env: 'WAKU_DISC_KEY_FILE'}),
    ...keyFileFlags,
    seq: Flags.string({description: 'use this sequence number instead of the previous one + 1'}),
    domain: Flags.string({description: 'domain for the URL (default: the one recorded in the directory, else its name)'}),
  }

  async run(): Promise<SignTreeReport> {
    const f = this.flags
    const seq = f.seq !== undefined ? parseSeqText(f.seq, '--seq') : undefined
    const report = await signTreeDirectory(this.args.dir, {
      keyFile: f['key-file'],
      ...(f['password-file'] ? {passwordFile: f['password-file']} : {}),
      ...(f['insecure-key-permissions'] ? {insecurePermissions: true} : {}),
      ...(seq !== undefined ? {seq} : {}),
      ...(f.domain ? {domain: f.domain} : {}),
      signal: this.signal,
    })
    this.out(renderSignReport(report))
    for (const w of report.warnings) this.progress(`warning: ${w}`)
    return report
  }
}
