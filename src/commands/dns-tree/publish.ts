import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {createPublishTarget, publishTree, type PublishReport, type PublishTargetKind} from '../../lib/dns/index.js'
import {renderPublishReport} from '../../ui/dns.js'

export default class DnsTreePublish extends BaseCommand<typeof DnsTreePublish> {
  static override description = `Publish a signed tree: to a BIND zone file, by RFC 2136 dynamic update with TSIG, or to Cloudflare or Route53. Idempotent (a rerun changes nothing), new entries first, then the root, stale entries deleted only after the new root is live; only the tree's own records are ever touched. --dry-run prints the change set.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./tree --to zone-file --zone-file /etc/knot/example.org.zone --bump-serial',
    'WAKU_DISC_TSIG_KEY=hmac-sha256:update-key:c2VjcmV0… <%= config.bin %> <%= command.id %> ./tree --to rfc2136 --server 127.0.0.1:53',
    'CLOUDFLARE_API_TOKEN=… <%= config.bin %> <%= command.id %> ./tree --to cloudflare --dry-run',
    'AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… <%= config.bin %> <%= command.id %> ./tree --to route53',
  ]
  static override args = {dir: Args.string({required: true, description: 'signed tree directory'})}
  static override flags = {
    to: Flags.string({required: true, options: ['zone-file', 'rfc2136', 'cloudflare', 'route53'], description: 'where to publish'}),
    'dry-run': Flags.boolean({description: 'print the change set without changing anything'}),
    force: Flags.boolean({description: 'publish even if the zone already holds a root with this seq or a higher one'}),
    'keep-stale': Flags.boolean({description: 'do not delete entries of the previous tree'}),
    'stale-delay': Flags.integer({description: 'seconds to wait after the root switch before deleting stale entries (e.g. the root TTL, 1800)', default: 0, min: 0}),
    'root-ttl': Flags.integer({description: 'TTL of the root record (default 1800)', min: 1}),
    'entry-ttl': Flags.integer({description: 'TTL of the other records (default 4 weeks; 1 day on Cloudflare)', min: 1}),
    'zone-file': Flags.string({description: 'zone-file: the BIND zone file to update (the tree goes into a marked block)'}),
    'bump-serial': Flags.boolean({description: 'zone-file: increment the SOA serial found in the file'}),
    server: Flags.string({description: 'rfc2136: the primary server, HOST:PORT', env: 'WAKU_DISC_DNS_UPDATE_SERVER'}),
    zone: Flags.string({description: 'rfc2136: zone apex (default: found with a SOA query)'}),
    'tsig-key-file': Flags.string({description: 'rfc2136: TSIG key file ([hmac-sha256:]name:secret or a BIND key block); else WAKU_DISC_TSIG_KEY'}),
    'token-file': Flags.string({description: 'cloudflare: file with the API token (else CLOUDFLARE_API_TOKEN)'}),
    'zone-id': Flags.string({description: 'cloudflare/route53: zone id (default: looked up from the domain)'}),
    'aws-credentials-file': Flags.string({description: 'route53: AWS credentials file (else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'}),
    'api-url': Flags.string({description: 'cloudflare/route53: API base URL (for testing against a local fake)', env: 'WAKU_DISC_DNS_API_URL'}),
    'poll-interval': Flags.integer({description: 'route53: seconds between GetChange polls', default: 30, min: 0}),
  }

  async run(): Promise<PublishReport> {
    const f = this.flags
    const target = await createPublishTarget({
      to: f.to as PublishTargetKind,
      zoneFile: f['zone-file'],
      bumpSerial: f['bump-serial'],
      server: f.server,
      zone: f.zone,
      tsigKeyFile: f['tsig-key-file'],
      tokenFile: f['token-file'],
      awsCredentialsFile: f['aws-credentials-file'],
      zoneId: f['zone-id'],
      apiUrl: f['api-url'],
      pollMs: f['poll-interval'] * 1000,
      onRetry: (r) => this.progress(`retry ${r.attempt} after ${r.status ?? 'network error'}: waiting ${Math.round(r.waitMs)} ms`),
      onWarning: (message) => this.progress(`warning: ${message}`),
    })
    const report = await publishTree(this.args.dir, target, {
      dryRun: f['dry-run'],
      force: f.force,
      keepStale: f['keep-stale'],
      staleDelayMs: f['stale-delay'] * 1000,
      ...(f['root-ttl'] ? {rootTtl: f['root-ttl']} : {}),
      ...(f['entry-ttl'] ? {entryTtl: f['entry-ttl']} : {}),
      verbose: f.verbose,
      signal: this.signal,
    })
    this.out(renderPublishReport(report))
    if (report.error) {
      this.progress(`Error [${report.error.code}]: ${report.error.message}`)
      this.resultExitCode = report.error.exitCode
    }
    return report
  }
}
