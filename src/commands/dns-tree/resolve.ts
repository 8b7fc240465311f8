import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {createTxtResolver, readSeenSeq, recordSeenSeq, resolveTree, writeResolvedTreeDirectory, type ResolvedTree, type TxtResolver} from '../../lib/dns/index.js'
import {decodeEnr, parseEnr, type DecodedEnr} from '../../lib/enr/index.js'
import {BadInputError} from '../../lib/errors.js'
import {formatNodeSet, writeNodeSetFile} from '../../lib/nodeset/index.js'
import {renderDecodedNodes, renderResolved} from '../../ui/dns.js'

/** Resolver flags shared by resolve, verify and diff. */
export const resolverFlags = {
  server: Flags.string({description: 'ask this DNS server directly (HOST:PORT; UDP, TCP when truncated)', env: 'WAKU_DISC_DNS_SERVER', exclusive: ['doh']}),
  doh: Flags.string({description: 'DNS-over-HTTPS endpoint (RFC 8484), e.g. https://cloudflare-dns.com/dns-query', env: 'WAKU_DISC_DOH', exclusive: ['server']}),
  concurrency: Flags.integer({description: 'lookups in flight at once', default: 16, min: 1, max: 1024}),
  rate: Flags.integer({description: 'lookups per second (0 = unlimited; public resolvers throttle, geth uses 3)', default: 100, min: 0}),
  'query-timeout': Flags.integer({description: 'per-lookup timeout in ms', default: 2500, min: 1}),
}

export function resolverFrom(f: {server?: string; doh?: string; 'query-timeout': number}): TxtResolver {
  return createTxtResolver({server: f.server, doh: f.doh, timeoutMs: f['query-timeout']})
}

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

  async run(): Promise<ResolvedTree & {decoded?: DecodedEnr[]}> {
    const f = this.flags
    if (f['min-seq'] !== undefined && !/^\d+$/.test(f['min-seq'])) throw new BadInputError('DNS_BAD_SEQ', `--min-seq ${JSON.stringify(f['min-seq'])} is not a non-negative integer`)
    let minSeq = f['min-seq'] !== undefined ? BigInt(f['min-seq']) : undefined
    if (f.state) {
      const seen = await readSeenSeq(f.state, this.args.url.trim())
      if (seen !== undefined && (minSeq === undefined || seen > minSeq)) minSeq = seen
    }
    const resolver = resolverFrom(f)
    let last = Date.now() // first progress line after a second, not before anything was fetched
    try {
      const result = await resolveTree(this.args.url, {
        resolver,
        signal: this.signal,
        concurrency: f.concurrency,
        rateLimit: f.rate,
        lenient: f.lenient,
        followLinks: f['follow-links'],
        ...(f.random !== undefined ? {random: f.random} : {}),
        ...(minSeq !== undefined ? {minSeq} : {}),
        ...(f.ndjson ? {onNode: (node) => process.stdout.write(JSON.stringify({type: 'node', ...node}) + '\n')} : {}),
        onProgress: (p) => {
          if (Date.now() - last < 1000) return
          last = Date.now()
          this.progress(`fetched ${p.fetched} entries, ${p.nodes} nodes, ${p.pending} pending`)
        },
      })
      if (f.state && !result.problems.some((p) => p.code === 'DNS_SEQ_ROLLBACK')) await recordSeenSeq(f.state, this.args.url.trim(), result.seq)
      if (f.out) await writeResolvedTreeDirectory(f.out, result)
      if (f['nodes-out']) {
        const set = Object.fromEntries(result.nodes.map((n) => [n.nodeId, {seq: n.seq, record: n.enr}]))
        if (f['nodes-out'] === '-' && this.jsonEnabled()) throw new BadInputError('DNS_STDOUT_TAKEN', '--nodes-out - cannot be combined with --json')
        if (f['nodes-out'] === '-') this.out(formatNodeSet(set))
        else await writeNodeSetFile(f['nodes-out'], set, {stdout: process.stdout})
      }
      if (f.ndjson) {
        const {nodes: _nodes, txt: _txt, ...summary} = result
        process.stdout.write(JSON.stringify({type: 'summary', ...summary, nodes: result.nodes.length}) + '\n')
      } else if (f['nodes-out'] !== '-') this.out(renderResolved(result, f.format as 'summary' | 'table' | 'enr'))
      // Interrupted (Ctrl-C: 130) or out of time (--timeout: 4): the partial result is still printed.
      if (result.problems.some((p) => p.code === 'INTERRUPTED')) this.resultExitCode = (this.signal.reason as Error | undefined)?.name === 'TimeoutError' ? 4 : 130
      else if (result.problems.some((p) => p.severity === 'error')) this.resultExitCode = 3
      if (f.decode) {
        const decoded = result.nodes.map((n) => decodeEnr(parseEnr(n.enr, {verifySignature: false})))
        if (!this.jsonEnabled() && !f.ndjson && f.format !== 'enr') this.out(renderDecodedNodes(decoded))
        return {...result, decoded}
      }
      return result
    } finally {
      await resolver.close()
    }
  }
}
