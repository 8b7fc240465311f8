import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {nodeFilterFlags, nodeFilterFrom} from '../../cli/flags.js'
import {buildTreeDirectory, type BuildTreeReport} from '../../lib/dns/index.js'
import {renderBuildReport} from '../../ui/dns.js'

export default class DnsTreeBuild extends BaseCommand<typeof DnsTreeBuild> {
  static override description = 'Build an EIP-1459 tree directory (geth format: enrtree-info.json + nodes.json) from a node set, with Waku filters. Sign it next with `dns-tree sign`.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> nodes.json --domain nodes.example.org --out ./tree',
    '<%= config.bin %> <%= command.id %> crawl.ndjson --domain waku.example.org --waku-only --caps relay,store --cluster 1 --limit 500 --out ./tree',
    '<%= config.bin %> <%= command.id %> enrs.txt --domain a.example.org --link enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@b.example.org --out ./tree',
  ]
  static override args = {
    nodes: Args.string({required: true, description: 'geth nodes.json, NDJSON from `crawl` (one object with "enr" per line), or one ENR per line; - for stdin'}),
  }
  static override flags = {
    domain: Flags.string({required: true, description: 'DNS name the tree will be published at'}),
    link: Flags.string({multiple: true, description: 'enrtree:// URL of another tree to link (repeatable; kept in the given order)'}),
    out: Flags.string({required: true, description: 'tree directory to write (created if missing; an earlier tree\'s seq and URL are kept)'}),
    ...nodeFilterFlags('keep records'),
    limit: Flags.integer({description: 'keep at most N records (highest score first, ties by node id)', min: 0}),
    'min-score': Flags.integer({description: 'keep records with at least this crawler score (geth nodes.json "score"; `crawl` counts the rounds a node answered)'}),
    'min-age': Flags.integer({description: 'keep records seen for at least this many seconds (lastResponse − firstResponse)', min: 0}),
    lenient: Flags.boolean({description: 'skip unparsable input records (listed in the report) instead of failing'}),
  }

  async run(): Promise<BuildTreeReport> {
    const f = this.flags
    const report = await buildTreeDirectory(this.args.nodes, {
      domain: f.domain,
      links: (f.link ?? []).flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean),
      out: f.out,
      lenient: f.lenient,
      signal: this.signal,
      filter: {
        ...nodeFilterFrom(f),
        ...(f.limit !== undefined ? {limit: f.limit} : {}),
        ...(f['min-score'] !== undefined ? {minScore: f['min-score']} : {}),
        ...(f['min-age'] !== undefined ? {minAge: f['min-age']} : {}),
      },
    })
    this.out(renderBuildReport(report))
    return report
  }
}
