/**
 * Picks and configures a publish target from plain options (what `dns-tree publish` flags say) and
 * the environment: credentials come only from files or environment variables, never arguments.
 */
import {BadInputError, ConfigError} from '../../errors.js'
import {readSecretFile as readSecret, type SecretFileOptions, type SecretKind} from '../../secrets.js'
import {CloudflareTarget} from './cloudflare.js'
import type {HttpOptions} from '../../net/http.js'
import type {PublishTarget} from './types.js'
import {Rfc2136Target, parseTsigKey} from './rfc2136.js'
import {Route53Target} from './route53.js'
import {ZoneFileTarget} from './zonefile.js'

export type PublishTargetKind = 'zone-file' | 'rfc2136' | 'cloudflare' | 'route53'

export interface PublishTargetOptions {
  to: PublishTargetKind
  /** zone-file: the BIND zone file to update. */
  zoneFile?: string
  bumpSerial?: boolean
  /** rfc2136: primary server HOST:PORT, zone apex (else found by a SOA query), TSIG key file (else WAKU_DISC_TSIG_KEY). */
  server?: string
  zone?: string
  tsigKeyFile?: string
  /** cloudflare: API token file (else CLOUDFLARE_API_TOKEN). */
  tokenFile?: string
  /** route53: AWS credentials file (else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN). */
  awsCredentialsFile?: string
  /** cloudflare/route53: zone id (default: looked up from the domain) and API base URL. */
  zoneId?: string
  apiUrl?: string
  /** route53: ms between GetChange polls. */
  pollMs?: number
  env?: Record<string, string | undefined>
  onRetry?: HttpOptions['onRetry']
  /** Told about risky but allowed settings (e.g. unsigned RFC 2136 updates). */
  onWarning?: (message: string) => void
}

export async function createPublishTarget(options: PublishTargetOptions): Promise<PublishTarget> {
  const env = options.env ?? process.env
  // lib/secrets.ts rules; a file group or others can read is allowed but warned about.
  const secret = (path: string, what: string, kind: SecretKind): Promise<string> =>
    readSecret(path, {what, code: 'DNS_SECRET_FILE', kind, permissions: 'warn', ...(options.onWarning ? {onWarning: options.onWarning} : {})})
  const http = options.onRetry ? {http: {onRetry: options.onRetry}} : {}
  switch (options.to) {
    case 'zone-file':
      if (!options.zoneFile) throw new BadInputError('DNS_NO_ZONE_FILE', '--to zone-file needs --zone-file PATH')
      return new ZoneFileTarget({path: options.zoneFile, bumpSerial: options.bumpSerial})
    case 'rfc2136': {
      if (!options.server) throw new BadInputError('DNS_NO_SERVER', '--to rfc2136 needs --server HOST:PORT')
      const keyText = options.tsigKeyFile ? await secret(options.tsigKeyFile, 'TSIG key file', 'text') : env.WAKU_DISC_TSIG_KEY
      const key = keyText ? parseTsigKey(keyText, options.tsigKeyFile ?? 'WAKU_DISC_TSIG_KEY') : undefined
      if (!key) options.onWarning?.('no TSIG key (--tsig-key-file or WAKU_DISC_TSIG_KEY): sending unsigned updates')
      return new Rfc2136Target({server: options.server, ...(options.zone ? {zone: options.zone} : {}), ...(key ? {key} : {})})
    }
    case 'cloudflare': {
      const token = options.tokenFile ? await secret(options.tokenFile, 'token file', 'line') : env.CLOUDFLARE_API_TOKEN
      if (!token) throw new ConfigError('DNS_NO_TOKEN', 'no Cloudflare API token', {hint: 'set CLOUDFLARE_API_TOKEN or pass --token-file'})
      return new CloudflareTarget({token, ...(options.zoneId ? {zoneId: options.zoneId} : {}), ...(options.apiUrl ? {apiUrl: options.apiUrl} : {}), ...http})
    }
    case 'route53': {
      const creds = options.awsCredentialsFile
        ? parseAwsCredentials(await secret(options.awsCredentialsFile, 'AWS credentials file', 'text'))
        : {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN}
      if (!creds.accessKeyId || !creds.secretAccessKey) {
        throw new ConfigError('DNS_NO_TOKEN', 'no AWS credentials', {hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --aws-credentials-file'})
      }
      return new Route53Target({
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        ...(creds.sessionToken ? {sessionToken: creds.sessionToken} : {}),
        ...(options.zoneId ? {zoneId: options.zoneId} : {}),
        ...(options.apiUrl ? {apiUrl: options.apiUrl} : {}),
        ...(options.pollMs !== undefined ? {pollMs: options.pollMs} : {}),
        ...http,
      })
    }
    default:
      throw new BadInputError('DNS_BAD_TARGET', `unknown publish target ${JSON.stringify(options.to)} (zone-file, rfc2136, cloudflare, route53)`)
  }
}

/**
 * A secret file's text, trimmed; unreadable is a configuration error naming the file (never its content).
 * @deprecated kept for library callers; waku-disc itself reads secrets through lib/secrets.ts (same size cap, empty refused).
 */
export async function readSecretFile(path: string, what: string): Promise<string> {
  const options: SecretFileOptions = {what, code: 'DNS_SECRET_FILE', kind: 'text', permissions: 'ignore'}
  return (await readSecret(path, options)).trim()
}

/** aws_access_key_id / aws_secret_access_key from an AWS credentials file ([default] or the first profile). */
export function parseAwsCredentials(text: string, profile = 'default'): {accessKeyId?: string; secretAccessKey?: string; sessionToken?: string} {
  const sections = text.split(/^\s*\[([^\]]+)\]\s*$/m)
  let body = sections.length > 1 ? '' : text
  for (let i = 1; i < sections.length; i += 2) if (sections[i]!.trim() === profile || (body === '' && i === sections.length - 2)) body = sections[i + 1]!
  const get = (k: string): string | undefined => new RegExp(`^\\s*${k}\\s*=\\s*(\\S+)`, 'mi').exec(body)?.[1]
  return {accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key'), sessionToken: get('aws_session_token')}
}
