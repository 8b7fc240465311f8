import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {resolverFlags, resolverFrom} from '../../cli/dns-tree-flags.js'
import {verifyTree, type VerifyReport} from '../../lib/dns/index.js'
import {ExitCode} from '../../lib/errors.js'
import {renderVerifyReport} from '../../ui/dns.js'

export default class DnsTreeVerify extends BaseCommand<typeof DnsTreeVerify> {
  static override description = 'Verify a tree directory (every record, seq/id consistency, the signature against the URL key) or a live enrtree:// tree (signature, every hash, structure: loops, missing entries, mixed subtrees). Exit 3 when it fails.'
  static override examples = ['<%= config.bin %> <%= command.id %> ./tree', '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --server 127.0.0.1:5353']
  static override args = {target: Args.string({required: true, description: 'tree directory or enrtree:// URL'})}
  static override flags = {...resolverFlags}

  async run(): Promise<VerifyReport> {
    const f = this.flags
    const needsResolver = this.args.target.startsWith('enrtree://')
    const resolver = needsResolver ? resolverFrom(f) : undefined
    try {
      const report = await verifyTree(this.args.target, {signal: this.signal, resolver, resolveOptions: {concurrency: f.concurrency, rateLimit: f.rate}})
      this.out(renderVerifyReport(report))
      if (!report.ok) this.resultExitCode = ExitCode.checkFailed
      return report
    } finally {
      await resolver?.close()
    }
  }
}
