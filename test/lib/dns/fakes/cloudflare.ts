/**
 * A local fake of the Cloudflare API v4 endpoints that `dns-tree publish --to cloudflare` uses,
 * following the documented shapes: GET /zones?name=, GET/POST /zones/:id/dns_records (type, name,
 * page, per_page ≤ 100 with result_info), PATCH/DELETE /zones/:id/dns_records/:rid, the
 * {success, errors, messages, result} envelope, Bearer tokens, TTL ≤ 86400, identical-record
 * rejection (81058). Faults (429 + Retry-After, 5xx) are injected per request. It is a fake
 * because the real API cannot be reached from here.
 */
import {randomBytes} from 'node:crypto'
import http from 'node:http'

import {FaultPlan} from './faults.js'

export interface CfFakeRecord {
  id: string
  type: string
  name: string
  content: string
  ttl: number
}

export interface CloudflareFake {
  url: string
  token: string
  zones: Array<{id: string; name: string}>
  records: Map<string, CfFakeRecord>
  log: Array<{method: string; path: string; status: number; body?: any}>
  faults: FaultPlan
  byName(name: string): CfFakeRecord[]
  close(): Promise<void>
}

export async function startCloudflareFake(options: {token?: string; zones?: string[]} = {}): Promise<CloudflareFake> {
  const token = options.token ?? randomBytes(20).toString('hex')
  const zones = (options.zones ?? ['example.org']).map((name) => ({id: randomBytes(16).toString('hex'), name}))
  const records = new Map<string, CfFakeRecord>()
  const log: CloudflareFake['log'] = []
  const faults = new FaultPlan()

  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const path = url.pathname.replace(/^\/client\/v4/, '')
      const method = req.method ?? 'GET'
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
        log.push({method, path: `${path}${url.search}`, status, ...(body ? {body: JSON.parse(body)} : {})})
        res.writeHead(status, {'content-type': 'application/json', ...headers})
        res.end(JSON.stringify(payload))
      }
      const fail = (status: number, code: number, message: string, headers: Record<string, string> = {}): void =>
        send(status, {success: false, errors: [{code, message}], messages: [], result: null}, headers)
      const ok = (result: unknown, extra: Record<string, unknown> = {}): void => send(200, {success: true, errors: [], messages: [], result, ...extra})

      if (req.headers.authorization !== `Bearer ${token}`) return fail(403, 10000, 'Authentication error')
      const fault = faults.take(method, path)
      if (fault) return fail(fault.status, fault.status === 429 ? 971 : 1000, fault.status === 429 ? 'Please wait and consider throttling your request speed' : 'Internal server error', fault.retryAfter ? {'retry-after': fault.retryAfter} : {})

      if (method === 'GET' && path === '/zones') {
        const name = url.searchParams.get('name')
        const list = zones.filter((z) => !name || z.name === name)
        return ok(list, {result_info: {page: 1, per_page: 20, count: list.length, total_count: list.length, total_pages: 1}})
      }
      const m = /^\/zones\/([0-9a-f]+)\/dns_records(?:\/([0-9a-f]+))?$/.exec(path)
      const zone = m ? zones.find((z) => z.id === m[1]) : undefined
      if (!m || !zone) return fail(404, 7003, 'Could not route to ' + path)
      const inZone = (name: string): boolean => name === zone.name || name.endsWith(`.${zone.name}`)
      if (method === 'GET' && !m[2]) {
        const perPage = Number(url.searchParams.get('per_page') ?? 100)
        if (perPage > 100 || perPage < 5) return fail(400, 1004, 'per_page must be between 5 and 100')
        const page = Number(url.searchParams.get('page') ?? 1)
        const type = url.searchParams.get('type')
        const name = url.searchParams.get('name')
        const all = [...records.values()].filter((r) => inZone(r.name) && (!type || r.type === type) && (!name || r.name === name)).sort((a, b) => (a.name < b.name ? -1 : 1))
        const slice = all.slice((page - 1) * perPage, page * perPage)
        return ok(slice, {result_info: {page, per_page: perPage, count: slice.length, total_count: all.length, total_pages: Math.max(1, Math.ceil(all.length / perPage))}})
      }
      let input: any = {}
      try {
        input = body ? JSON.parse(body) : {}
      } catch {
        return fail(400, 9207, 'Request body is invalid JSON')
      }
      if (method === 'POST' && !m[2]) {
        if (input.type !== 'TXT') return fail(400, 9004, 'unsupported type')
        const name = String(input.name ?? '').toLowerCase()
        if (!inZone(name)) return fail(400, 9005, `Record name ${name} is not in zone ${zone.name}`)
        if (typeof input.content !== 'string' || input.content === '') return fail(400, 9021, 'content is required')
        if (input.ttl !== 1 && (input.ttl < 60 || input.ttl > 86400)) return fail(400, 9003, 'Invalid TTL: must be between 60 and 86400 seconds, or 1 for Automatic')
        if ([...records.values()].some((r) => r.name === name && r.type === 'TXT' && r.content === input.content)) return fail(400, 81058, 'An identical record already exists.')
        const record = {id: randomBytes(16).toString('hex'), type: 'TXT', name, content: input.content, ttl: input.ttl}
        records.set(record.id, record)
        return ok(record)
      }
      const record = m[2] ? records.get(m[2]) : undefined
      if (!record) return fail(404, 81044, 'Record does not exist.')
      if (method === 'PATCH') {
        if (input.ttl !== undefined && (input.ttl < 60 || input.ttl > 86400)) return fail(400, 9003, 'Invalid TTL')
        if (typeof input.content === 'string') record.content = input.content
        if (input.ttl !== undefined) record.ttl = input.ttl
        return ok(record)
      }
      if (method === 'DELETE') {
        records.delete(record.id)
        return ok({id: record.id})
      }
      return fail(405, 10405, 'Method not allowed')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as {port: number}).port
  return {
    url: `http://127.0.0.1:${port}/client/v4`,
    token,
    zones,
    records,
    log,
    faults,
    byName: (name) => [...records.values()].filter((r) => r.name === name),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}

/** Adds a TXT record directly (pre-existing zone content). */
export function seedCloudflare(fake: CloudflareFake, name: string, content: string, ttl = 300): void {
  const id = randomBytes(16).toString('hex')
  fake.records.set(id, {id, type: 'TXT', name, content, ttl})
}
