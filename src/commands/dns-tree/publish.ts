import {readFile} from 'node:fs/promises'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {
  CloudflareTarget,
  Rfc2136Target,
  Route53Target,
  ZoneFileTarget,
  parseTsigKey,
  publishTree,
  type PublishReport,
  type PublishTarget,
} from '../../lib/dns/index.js'
import {BadInputError, ConfigError} from '../../lib/errors.js'
import {renderPublishReport} from '../../ui/dns.js'

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new ConfigError('DNS_SECRET_FILE', `${what} ${path}: cannot read (${(error as NodeJS.ErrnoException).code})`)
  }
}

/** aws_access_key_id / aws_secret_access_key from an AWS credentials file ([default] or the first profile). */
function parseAwsCredentials(text: string, profile = 'default'): {accessKeyId?: string; secretAccessKey?: string; sessionToken?: string} {
  const sections = text.split(/^\s*\[([^\]]+)\]\s*$/m)
  let body = sections.length > 1 ? '' : text
  for (let i = 1; i < sections.length; i += 2) if (sections[i]!.trim() === profile || (body === '' && i === sections.length - 2)) body = sections[i + 1]!
  const get = (k: string): string | undefined => new RegExp(`^\\s*${k}\\s*=\\s*(\\S+)`, 'mi').exec(body)?.[1]
  return {accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key'), sessionToken: get('aws_session_token')}
}

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

  private async target(): Promise<PublishTarget> {
    const f = this.flags
    switch (f.to) {
      case 'zone-file':
        if (!f['zone-file']) throw new BadInputError('DNS_NO_ZONE_FILE', '--to zone-file needs --zone-file PATH')
        return new ZoneFileTarget({path: f['zone-file'], bumpSerial: f['bump-serial']})
      case 'rfc2136': {
        if (!f.server) throw new BadInputError('DNS_NO_SERVER', '--to rfc2136 needs --server HOST:PORT')
        const keyText = f['tsig-key-file'] ? await readSecretFile(f['tsig-key-file'], 'TSIG key file') : process.env.WAKU_DISC_TSIG_KEY
        const key = keyText ? parseTsigKey(keyText, f['tsig-key-file'] ?? 'WAKU_DISC_TSIG_KEY') : undefined
        if (!key) this.progress('warning: no TSIG key (--tsig-key-file or WAKU_DISC_TSIG_KEY): sending unsigned updates')
        return new Rfc2136Target({server: f.server, ...(f.zone ? {zone: f.zone} : {}), ...(key ? {key} : {})})
      }
      case 'cloudflare': {
        const token = f['token-file'] ? await readSecretFile(f['token-file'], 'token file') : process.env.CLOUDFLARE_API_TOKEN
        if (!token) throw new ConfigError('DNS_NO_TOKEN', 'no Cloudflare API token', {hint: 'set CLOUDFLARE_API_TOKEN or pass --token-file'})
        return new CloudflareTarget({token, ...(f['zone-id'] ? {zoneId: f['zone-id']} : {}), ...(f['api-url'] ? {apiUrl: f['api-url']} : {}), http: {onRetry: (r) => this.progress(`retry ${r.attempt} after ${r.status ?? 'network error'}: waiting ${Math.round(r.waitMs)} ms`)}})
      }
      default: {
        const creds = f['aws-credentials-file']
          ? parseAwsCredentials(await readSecretFile(f['aws-credentials-file'], 'AWS credentials file'))
          : {accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, sessionToken: process.env.AWS_SESSION_TOKEN}
        if (!creds.accessKeyId || !creds.secretAccessKey) throw new ConfigError('DNS_NO_TOKEN', 'no AWS credentials', {hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --aws-credentials-file'})
        return new Route53Target({
          accessKeyId: creds.accessKeyId,
          secretAccessKey: creds.secretAccessKey,
          ...(creds.sessionToken ? {sessionToken: creds.sessionToken} : {}),
          ...(f['zone-id'] ? {zoneId: f['zone-id']} : {}),
          ...(f['api-url'] ? {apiUrl: f['api-url']} : {}),
          pollMs: f['poll-interval'] * 1000,
          http: {onRetry: (r) => this.progress(`retry ${r.attempt} after ${r.status ?? 'network error'}: waiting ${Math.round(r.waitMs)} ms`)},
        })
      }
    }
  }

  async run(): Promise<PublishReport> {
    const f = this.flags
    const report = await publishTree(this.args.dir, await this.target(), {
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
