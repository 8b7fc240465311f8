import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {resolverFlags, resolverFrom} from '../../cli/dns-tree-flags.js'
import {parseSeqText, resolveTreeReport, resolvedNodeSet, writeResolvedTreeDirectory, type ResolveReport} from '../../lib/dns/index.js'
import {BadInputError} from '../../lib/errors.js'
import {formatNodeSet, writeNodeSetFile} from '../../lib/nodeset/index.js'
import {ndjsonNodeLine, ndjsonSummaryLine, renderDecodedNodes, renderResolved} from '../../ui/dns.js'

export default class DnsTreeResolve extends BaseCommand<typeof DnsTreeResolve> {
  static override description = 'Resolve an enrtree:// tree: verify the root signature against the URL key and every entry hash, fetch in parallel (bounded, rate-limited), optionally follow links; or sample N leaves by random descent like light clients.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im',
    '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --server 127.0.0.1:5353 --json',
    '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --doh https://cloudflare-dns.com/dns-query --format enr',
    '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --random 5',
    '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --lenient --out ./synced',
  ]
  static override args = {url: Args.string({required: true, description: 'enrtree://<key>@<domain>'})}
  static override flags = {
    ...resolverFlags,
    format: Flags.string({description: 'human output: summary, table of nodes, or enr (one record per line)', options: ['summary', 'table', 'enr'], default: 'summary'}),
    'follow-links': Flags.boolean({description: 'also resolve the trees this tree links to (each once, at most 8 levels)'}),
    random: Flags.integer({description: 'random descent: return N distinct leaves, one query at a time', min: 1}),
    lenient: Flags.boolean({description: 'keep going after errors: return the valid part and list every problem (exit 3 if any)'}),
    'min-seq': Flags.string({description: 'reject a root whose seq is below this (replay/rollback protection)'}),
    ndjson: Flags.boolean({description: 'stream one JSON object per node as it is found, then a summary line', exclusive: ['json']}),
    state: Flags.string({description: 'JSON file remembering the highest seq seen per tree URL: an older root is rejected, a newer one recorded'}),
    decode: Flags.boolean({description: 'add every record decoded (Waku capabilities, shards, addresses) to the output'}),
    out: Flags.string({description: 'also write the tree as a directory (enrtree-info.json + nodes.json, like geth dns sync)'}),
    'nodes-out': Flags.string({description: 'also write the nodes as a geth nodes.json (- for stdout)'}),
  }

  async run(): Promise<ResolveReport> {
    const f = this.flags
    const minSeq = f['min-seq'] !== undefined ? parseSeqText(f['min-seq'], '--min-seq') : undefined
    const resolver = resolverFrom(f)
    let last = Date.now() // first progress line after a second, not before anything was fetched
    try {
      const report = await resolveTreeReport(this.args.url, {
        resolver,
        signal: this.signal,
        concurrency: f.concurrency,
        rateLimit: f.rate,
        lenient: f.lenient,
        followLinks: f['follow-links'],
        ...(f.random !== undefined ? {random: f.random} : {}),
        ...(minSeq !== undefined ? {minSeq} : {}),
        ...(f.state ? {statePath: f.state} : {}),
        decode: f.decode,
        ...(f.ndjson ? {onNode: (node) => process.stdout.write(ndjsonNodeLine(node))} : {}),
        onProgress: (p) => {
          if (Date.now() - last < 1000) return
          last = Date.now()
          this.progress(`fetched ${p.fetched} entries, ${p.nodes} nodes, ${p.pending} pending`)
        },
      })
      if (f.out) await writeResolvedTreeDirectory(f.out, report)
      if (f['nodes-out']) {
        const set = resolvedNodeSet(report)
        if (f['nodes-out'] === '-' && this.jsonEnabled()) throw new BadInputError('DNS_STDOUT_TAKEN', '--nodes-out - cannot be combined with --json')
        if (f['nodes-out'] === '-') this.out(formatNodeSet(set))
        else await writeNodeSetFile(f['nodes-out'], set, {stdout: process.stdout})
      }
      if (f.ndjson) process.stdout.write(ndjsonSummaryLine(report))
      else if (f['nodes-out'] !== '-') this.out(renderResolved(report, f.format as 'summary' | 'table' | 'enr'))
      if (report.decoded && !this.jsonEnabled() && !f.ndjson && f.format !== 'enr') this.out(renderDecodedNodes(report.decoded))
      // Interrupted (130) or out of time (4), the partial result is still printed; errors found under --lenient: 3.
      this.resultExitCode = report.exitCode
      return report
    } finally {
      await resolver.close()
    }
  }
}
