/**
 * Publishing through the Amazon Route 53 API (2013-04-01, XML, SigV4 via aws4): record sets
 * listed with pagination, changes ordered and batched exactly like geth's deployer
 * (CREATE < UPSERT < DELETE, then by name; ≤ 32,000 RDATA characters and ≤ 1,000 items per
 * batch, UPSERT counting twice; values split into quoted 253-byte strings of ONE record), but
 * each phase is waited on until INSYNC before the next, and only the tree's records are touched
 * (other TXT values at the apex are kept in the root's record set).
 */
import aws4 from 'aws4'
import {XMLBuilder, XMLParser} from 'fast-xml-parser'

import {ConfigError, ProtocolError, UnreachableError} from '../../errors.js'
import {httpRequest, sleep, type HttpOptions} from '../../net/http.js'
import {isTreeRecord} from './changes.js'
import type {ExistingRecord, PhaseName, PublishChange, PublishTarget} from './types.js'

export const ROUTE53_API = 'https://route53.amazonaws.com'
export const ROUTE53_SIZE_LIMIT = 32_000
export const ROUTE53_COUNT_LIMIT = 1000
const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'PriorRequestNotComplete'])

export interface Route53Options {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  zoneId?: string
  apiUrl?: string
  region?: string
  /** GetChange polling interval (default 30 s like geth) and attempts (default 60). */
  pollMs?: number
  pollAttempts?: number
  http?: Pick<HttpOptions, 'retries' | 'backoffMs' | 'maxRetryAfterMs' | 'onRetry'>
}

export interface Route53Change {
  action: 'CREATE' | 'UPSERT' | 'DELETE'
  name: string
  ttl: number
  /** Quoted RDATA values, e.g. `"enr:…"` or `"abc""def"`. */
  values: string[]
}

/** geth splitTXT: chunks of at most 253 bytes, each Go-quoted, concatenated: `"a""b"`. */
export function splitTxtQuoted(value: string): string {
  let out = ''
  for (let i = 0; i < value.length; i += 253) out += JSON.stringify(value.slice(i, i + 253))
  return out === '' ? '""' : out
}

/** Joins the strings of one quoted RDATA value. */
export function unquoteTxt(value: string): string {
  const parts = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'))
  return parts.length ? parts.join('') : value
}

/** geth sortChanges: CREATE < UPSERT < DELETE, then by name. */
export function sortRoute53Changes(changes: Route53Change[]): Route53Change[] {
  const rank = {CREATE: 1, UPSERT: 2, DELETE: 3}
  return [...changes].sort((a, b) => rank[a.action] - rank[b.action] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** geth splitChanges: batches within the RDATA size and item limits (UPSERT counts twice). */
export function splitRoute53Changes(changes: Route53Change[], sizeLimit = ROUTE53_SIZE_LIMIT, countLimit = ROUTE53_COUNT_LIMIT): Route53Change[][] {
  const batches: Route53Change[][] = []
  let batch: Route53Change[] = []
  let size = 0
  let count = 0
  for (const c of changes) {
    const n = c.action === 'UPSERT' ? 2 : 1
    const s = c.values.reduce((sum, v) => sum + v.length, 0) * n
    if (batch.length > 0 && (size + s > sizeLimit || count + n > countLimit)) {
      batches.push(batch)
      batch = []
      size = 0
      count = 0
    }
    batch.push(c)
    size += s
    count += n
  }
  if (batch.length) batches.push(batch)
  return batches
}

interface RecordSet {
  name: string
  ttl: number
  values: string[]
}

export class Route53Target implements PublishTarget {
  readonly description: string
  private zoneId?: string
  private readonly api: URL
  private sets = new Map<string, RecordSet>()
  private domain = ''
  /** Change batches submitted, in order (for tests and reports). */
  readonly submitted: Route53Change[][] = []
  private readonly xml = new XMLParser({ignoreAttributes: true, parseTagValue: false, isArray: (name) => ['HostedZone', 'ResourceRecordSet', 'ResourceRecord', 'Error'].includes(name)})

  constructor(private readonly options: Route53Options) {
    if (!options.accessKeyId || !options.secretAccessKey) {
      throw new ConfigError('DNS_NO_TOKEN', 'no AWS credentials', {hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --aws-credentials-file'})
    }
    this.api = new URL(options.apiUrl ?? ROUTE53_API)
    this.zoneId = options.zoneId?.replace(/^\/?hostedzone\//, '')
    this.description = `Route53${options.apiUrl ? ` (${this.api.origin})` : ''}`
  }

  private async call(method: 'GET' | 'POST', path: string, body?: string, signal?: AbortSignal): Promise<any> {
    const what = `Route53 ${method} ${path.replace(/\?.*$/, '')}`
    for (let attempt = 0; ; attempt++) {
      const req: aws4.Request & {headers: Record<string, string>} = {
        host: this.api.host,
        path,
        method,
        service: 'route53',
        region: this.options.region ?? 'us-east-1',
        headers: body ? {'content-type': 'application/xml'} : {},
        ...(body ? {body} : {}),
      }
      aws4.sign(req, {accessKeyId: this.options.accessKeyId, secretAccessKey: this.options.secretAccessKey, ...(this.options.sessionToken ? {sessionToken: this.options.sessionToken} : {})})
      const r = await httpRequest(`${this.api.origin}${path}`, what, {...this.options.http, method, headers: req.headers as Record<string, string>, body, signal})
      const doc = r.text.trim() === '' ? {} : this.xml.parse(r.text)
      if (r.status < 400) return doc
      const error = doc?.ErrorResponse?.Error?.[0] ?? {}
      const code = String(error.Code ?? `HTTP${r.status}`)
      if (THROTTLE_CODES.has(code) && attempt < (this.options.http?.retries ?? 5)) {
        const waitMs = Math.min(8000, (this.options.http?.backoffMs ?? 500) * 2 ** attempt)
        this.options.http?.onRetry?.({status: r.status, attempt: attempt + 1, waitMs})
        await sleep(waitMs, signal)
        continue
      }
      if (code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch' || code === 'AccessDenied') throw new ConfigError('DNS_API_AUTH', `${what}: ${code} (${error.Message ?? ''})`)
      throw new ProtocolError('DNS_API_ERROR', `${what} failed: ${code}: ${error.Message ?? r.text.slice(0, 200)}`)
    }
  }

  private async zone(domain: string, signal?: AbortSignal): Promise<string> {
    if (this.zoneId) return this.zoneId
    const labels = domain.split('.')
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join('.')
      const doc = await this.call('GET', `/2013-04-01/hostedzonesbyname?dnsname=${encodeURIComponent(candidate)}&maxitems=1`, undefined, signal)
      const zone = (doc?.ListHostedZonesByNameResponse?.HostedZones?.HostedZone ?? [])[0]
      if (zone && String(zone.Name).toLowerCase().replace(/\.$/, '') === candidate) {
        this.zoneId = String(zone.Id).replace(/^\/?hostedzone\//, '')
        return this.zoneId
      }
    }
    throw new ConfigError('DNS_NO_ZONE', `no Route53 hosted zone holds ${domain}`, {hint: 'pass --zone-id'})
  }

  async list(domain: string, signal?: AbortSignal): Promise<ExistingRecord[]> {
    this.domain = domain
    const zone = await this.zone(domain, signal)
    this.sets = new Map()
    let next: {name: string; type: string} | undefined = {name: domain, type: 'TXT'}
    while (next) {
      const doc = await this.call('GET', `/2013-04-01/hostedzone/${zone}/rrset?name=${encodeURIComponent(next.name)}&type=${next.type}&maxitems=300`, undefined, signal)
      const resp = doc?.ListResourceRecordSetsResponse ?? {}
      let outside = false
      for (const s of resp.ResourceRecordSets?.ResourceRecordSet ?? []) {
        const name = String(s.Name).toLowerCase().replace(/\.$/, '').replace(/\\052/g, '*')
        if (name !== domain && !name.endsWith(`.${domain}`)) {
          outside = true
          continue
        }
        if (s.Type !== 'TXT') continue
        const values = (s.ResourceRecords?.ResourceRecord ?? []).map((r: any) => String(r.Value))
        this.sets.set(name, {name, ttl: Number(s.TTL), values})
      }
      next = String(resp.IsTruncated) === 'true' && !outside ? {name: String(resp.NextRecordName), type: String(resp.NextRecordType ?? 'TXT')} : undefined
    }
    return [...this.sets.values()].flatMap((s) => s.values.map((v) => ({name: s.name, value: unquoteTxt(v), ttl: s.ttl})))
  }

  /** The Route53 changes for publish changes: whole record sets, other values at a name kept. */
  toRoute53(changes: PublishChange[]): Route53Change[] {
    const out: Route53Change[] = []
    for (const c of changes) {
      const set = this.sets.get(c.name)
      const foreign = (set?.values ?? []).filter((v) => !isTreeRecord(this.domain, c.name, unquoteTxt(v)))
      if (c.action === 'create' && !set) out.push({action: 'CREATE', name: c.name, ttl: c.ttl, values: [splitTxtQuoted(c.value)]})
      else if (c.action !== 'delete') out.push({action: 'UPSERT', name: c.name, ttl: c.ttl, values: [...foreign, splitTxtQuoted(c.value)]})
      else if (set && foreign.length === 0) out.push({action: 'DELETE', name: c.name, ttl: set.ttl, values: set.values})
      else if (set) out.push({action: 'UPSERT', name: c.name, ttl: set.ttl, values: foreign})
    }
    return sortRoute53Changes(out)
  }

  async apply(_phase: PhaseName, changes: PublishChange[], signal?: AbortSignal): Promise<void> {
    const zone = this.zoneId!
    for (const batch of splitRoute53Changes(this.toRoute53(changes))) {
      const body = new XMLBuilder({format: false}).build({
        ChangeResourceRecordSetsRequest: {
          '@_xmlns': 'https://route53.amazonaws.com/doc/2013-04-01/',
          ChangeBatch: {
            Comment: 'waku-disc dns-tree publish',
            Changes: {
              Change: batch.map((c) => ({
                Action: c.action,
                ResourceRecordSet: {Name: c.name, Type: 'TXT', TTL: c.ttl, ResourceRecords: {ResourceRecord: c.values.map((v) => ({Value: v}))}},
              })),
            },
          },
        },
      })
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${body.replace('<ChangeResourceRecordSetsRequest @_xmlns=', '<ChangeResourceRecordSetsRequest xmlns=')}`
      const doc = await this.call('POST', `/2013-04-01/hostedzone/${zone}/rrset/`, xml, signal)
      this.submitted.push(batch)
      const id = String(doc?.ChangeResourceRecordSetsResponse?.ChangeInfo?.Id ?? '').replace(/^\/?change\//, '')
      if (!id) throw new ProtocolError('DNS_API_BAD_RESPONSE', 'Route53 did not return a change id')
      await this.waitInSync(id, signal)
      for (const c of batch) {
        if (c.action === 'DELETE') this.sets.delete(c.name)
        else this.sets.set(c.name, {name: c.name, ttl: c.ttl, values: c.values})
      }
    }
  }

  private async waitInSync(id: string, signal?: AbortSignal): Promise<void> {
    const attempts = this.options.pollAttempts ?? 60
    for (let i = 0; i < attempts; i++) {
      const doc = await this.call('GET', `/2013-04-01/change/${id}`, undefined, signal)
      if (String(doc?.GetChangeResponse?.ChangeInfo?.Status) === 'INSYNC') return
      await sleep(this.options.pollMs ?? 30_000, signal)
    }
    throw new UnreachableError('DNS_CHANGE_PENDING', `Route53 change ${id} is not INSYNC after ${attempts} checks; rerun publish to continue`)
  }
}
