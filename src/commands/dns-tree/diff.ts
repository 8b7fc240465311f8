import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {resolverFlags, resolverFrom} from '../../cli/dns-tree-flags.js'
import {diffTrees, type DiffReport} from '../../lib/dns/index.js'
import {renderDiff} from '../../ui/dns.js'

export default class DnsTreeDiff extends BaseCommand<typeof DnsTreeDiff> {
  static override description = 'Compare two trees (directories, or a directory and a live enrtree:// URL): nodes added, removed and changed, links, the record changes a publish would make; warns when seq does not increase.'
  static override examples = ['<%= config.bin %> <%= command.id %> ./old-tree ./new-tree', '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org ./tree --server 127.0.0.1:5353']
  static override args = {
    a: Args.string({required: true, description: 'the old tree: directory or enrtree:// URL'}),
    b: Args.string({required: true, description: 'the new tree: directory or enrtree:// URL'}),
  }
  static override flags = {...resolverFlags}

  async run(): Promise<DiffReport> {
    const f = this.flags
    const needsResolver = [this.args.a, this.args.b].some((t) => t.startsWith('enrtree://'))
    const resolver = needsResolver ? resolverFrom(f) : undefined
    try {
      const report = await diffTrees(this.args.a, this.args.b, {signal: this.signal, resolver, resolveOptions: {concurrency: f.concurrency, rateLimit: f.rate}})
      this.out(renderDiff(report))
      for (const w of report.warnings) this.progress(`warning: ${w}`)
      return report
    } finally {
      await resolver?.close()
    }
  }
}
