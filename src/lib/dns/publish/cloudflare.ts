/**
 * Publishing through the Cloudflare API v4 (zones, dns_records): list with pagination, POST new
 * records, PATCH changed ones, DELETE stale ones, each phase finished before the next. Unlike
 * geth's deployer (bare suffix match, deletes interleaved with creates), only the tree's own
 * records are touched and nothing is deleted before the new root is live.
 */
import {ConfigError, ProtocolError} from '../../errors.js'
import {ENTRY_TTL_CLOUDFLARE, ROOT_TTL} from '../directory.js'
import {httpRequest, parseJson, type HttpOptions} from '../../net/http.js'
import type {ExistingRecord, PhaseName, PublishChange, PublishTarget} from './types.js'

export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4'

export interface CloudflareOptions {
  token: string
  zoneId?: string
  /** API base URL (a local fake in tests). */
  apiUrl?: string
  /** Requests in flight at once within a phase (default 4). */
  concurrency?: number
  http?: Pick<HttpOptions, 'retries' | 'backoffMs' | 'maxRetryAfterMs' | 'onRetry'>
}

interface CfRecord {
  id: string
  type: string
  name: string
  content: string
  ttl: number
}

export class CloudflareTarget implements PublishTarget {
  readonly description: string
  readonly defaultTtl = {root: ROOT_TTL, entry: ENTRY_TTL_CLOUDFLARE}
  private zoneId?: string
  private readonly api: string
  /** Requests made, by method (for tests and reports). */
  readonly requests: string[] = []

  constructor(private readonly options: CloudflareOptions) {
    if (!options.token) throw new ConfigError('DNS_NO_TOKEN', 'no Cloudflare API token', {hint: 'set CLOUDFLARE_API_TOKEN or pass --token-file'})
    this.api = (options.apiUrl ?? CLOUDFLARE_API).replace(/\/$/, '')
    this.zoneId = options.zoneId
    this.description = `Cloudflare${options.apiUrl ? ` (${this.api})` : ''}`
  }

  private async call(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<any> {
    const what = `Cloudflare ${method} ${path.replace(/\?.*$/, '')}`
    this.requests.push(`${method} ${path}`)
    const r = await httpRequest(`${this.api}${path}`, what, {
      ...this.options.http,
      method,
      signal,
      headers: {authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json'},
      ...(body === undefined ? {} : {body: JSON.stringify(body)}),
    })
    const json = parseJson(r.text, what)
    if (r.status >= 400 || json?.success === false) {
      const errors = Array.isArray(json?.errors) ? json.errors.map((e: any) => `${e.code}: ${e.message}`).join('; ') : `HTTP ${r.status}`
      throw new ProtocolError('DNS_API_ERROR', `${what} failed: ${errors}`)
    }
    return json
  }

  private async zone(domain: string, signal?: AbortSignal): Promise<string> {
    if (this.zoneId) return this.zoneId
    const labels = domain.split('.')
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join('.')
      const json = await this.call('GET', `/zones?name=${encodeURIComponent(candidate)}`, undefined, signal)
      const zone = (json.result ?? []).find((z: any) => typeof z?.name === 'string' && z.name.toLowerCase() === candidate)
      if (zone) {
        this.zoneId = String(zone.id)
        return this.zoneId
      }
    }
    throw new ConfigError('DNS_NO_ZONE', `no Cloudflare zone holds ${domain} (the token may lack zone:read)`, {hint: 'pass --zone-id'})
  }

  async list(domain: string, signal?: AbortSignal): Promise<ExistingRecord[]> {
    const zone = await this.zone(domain, signal)
    const out: ExistingRecord[] = []
    for (let page = 1; ; page++) {
      const json = await this.call('GET', `/zones/${zone}/dns_records?type=TXT&per_page=100&page=${page}`, undefined, signal)
      for (const r of (json.result ?? []) as CfRecord[]) {
        const name = String(r.name).toLowerCase().replace(/\.$/, '')
        if (name === domain || name.endsWith(`.${domain}`)) out.push({name, value: unquote(String(r.content)), ttl: Number(r.ttl), id: String(r.id)})
      }
      const info = json.result_info
      if (!info || page >= Number(info.total_pages ?? 1) || (json.result ?? []).length === 0) break
    }
    return out
  }

  async apply(_phase: PhaseName, changes: PublishChange[], signal?: AbortSignal): Promise<void> {
    const zone = this.zoneId!
    const queue = [...changes]
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        if (c.action === 'create') await this.call('POST', `/zones/${zone}/dns_records`, {type: 'TXT', name: c.name, content: c.value, ttl: c.ttl}, signal)
        else if (c.action === 'update') await this.call('PATCH', `/zones/${zone}/dns_records/${c.old!.id}`, {content: c.value, ttl: c.ttl}, signal)
        else await this.call('DELETE', `/zones/${zone}/dns_records/${c.old!.id}`, undefined, signal)
      }
    }
    await Promise.all(Array.from({length: Math.max(1, Math.min(this.options.concurrency ?? 4, changes.length))}, worker))
  }

  async confirmRoot(domain: string, value: string, signal?: AbortSignal): Promise<boolean> {
    const json = await this.call('GET', `/zones/${this.zoneId}/dns_records?type=TXT&name=${encodeURIComponent(domain)}`, undefined, signal)
    return ((json.result ?? []) as CfRecord[]).some((r) => unquote(r.content) === value)
  }
}

/** Cloudflare may return long TXT content as quoted strings ("a" "b"); join them back. */
function unquote(content: string): string {
  const t = content.trim()
  if (!t.startsWith('"')) return content
  const parts = [...t.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'))
  return parts.length ? parts.join('') : content
}
