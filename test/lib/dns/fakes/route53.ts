/**
 * A local fake of the Route 53 API (2013-04-01) endpoints that `dns-tree publish --to route53`
 * uses, following the documented behaviour: SigV4 checked against the known secret,
 * ListHostedZonesByName, ListResourceRecordSets in DNS order with maxitems ≤ 300 and
 * IsTruncated/NextRecordName/NextRecordType, ChangeResourceRecordSets as one atomic batch
 * (CREATE of an existing set, DELETE of a set that does not match exactly, > 1000 items or
 * > 32,000 RDATA characters, character-strings over 255 bytes → InvalidChangeBatch), GetChange
 * PENDING then INSYNC. Faults (Throttling 400, PriorRequestNotComplete, 5xx) are injected per
 * request. A fake, because the real API cannot be reached from here.
 */
import {randomBytes} from 'node:crypto'
import http from 'node:http'

import aws4 from 'aws4'
import {XMLParser} from 'fast-xml-parser'

import {FaultPlan} from './faults.js'

export interface R53Set {
  name: string
  type: string
  ttl: number
  values: string[]
}

export interface Route53Fake {
  url: string
  accessKeyId: string
  secretAccessKey: string
  zoneId: string
  sets: Map<string, R53Set>
  /** Applied change batches, in order, with the GetChange polls seen before the next batch. */
  batches: Array<{id: string; changes: Array<{action: string; name: string; ttl: number; values: string[]}>; pollsUntilInsync: number}>
  log: Array<{method: string; path: string; status: number; code?: string}>
  faults: FaultPlan
  close(): Promise<void>
}

const key = (name: string, type: string): string => `${name}|${type}`
const reversed = (name: string): string[] => name.split('.').reverse()
function dnsOrder(a: {name: string; type: string}, b: {name: string; type: string}): number {
  const ra = reversed(a.name)
  const rb = reversed(b.name)
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) if (ra[i] !== rb[i]) return ra[i]! < rb[i]! ? -1 : 1
  return ra.length - rb.length || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)
}
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export async function startRoute53Fake(options: {zone?: string; pendingPolls?: number} = {}): Promise<Route53Fake> {
  const accessKeyId = 'AKIA' + randomBytes(8).toString('hex').toUpperCase()
  const secretAccessKey = randomBytes(30).toString('base64')
  const zone = options.zone ?? 'example.org'
  const zoneId = 'Z' + randomBytes(8).toString('hex').toUpperCase()
  const sets = new Map<string, R53Set>()
  const batches: Route53Fake['batches'] = []
  const changes = new Map<string, number>()
  const log: Route53Fake['log'] = []
  const faults = new FaultPlan()
  const parser = new XMLParser({ignoreAttributes: true, parseTagValue: false, isArray: (n) => ['Change', 'ResourceRecord'].includes(n)})
  let port = 0

  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const method = req.method ?? 'GET'
      const send = (status: number, xml: string, code?: string): void => {
        log.push({method, path: url.pathname, status, ...(code ? {code} : {})})
        res.writeHead(status, {'content-type': 'text/xml'})
        res.end(`<?xml version="1.0"?>\n${xml}`)
      }
      const error = (status: number, code: string, message: string): void =>
        send(status, `<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`, code)

      // SigV4: re-sign the same request with the known secret and compare.
      const auth = String(req.headers.authorization ?? '')
      if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`)) return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
      const check: any = {host: `127.0.0.1:${port}`, path: `${url.pathname}${url.search}`, method, service: 'route53', region: 'us-east-1', headers: {'X-Amz-Date': req.headers['x-amz-date'], ...(req.headers['content-type'] ? {'content-type': req.headers['content-type']} : {})}, ...(body ? {body} : {})}
      aws4.sign(check, {accessKeyId, secretAccessKey})
      if (check.headers.Authorization !== auth) return error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')

      const fault = faults.take(method, url.pathname)
      if (fault) return error(fault.status, fault.code ?? (fault.status === 400 ? 'Throttling' : 'ServiceUnavailable'), 'injected fault')

      if (method === 'GET' && url.pathname === '/2013-04-01/hostedzonesbyname') {
        const dnsname = (url.searchParams.get('dnsname') ?? '').replace(/\.$/, '')
        const list = dnsOrder({name: zone, type: ''}, {name: dnsname, type: ''}) >= 0 ? [zone] : []
        return send(200, `<ListHostedZonesByNameResponse><HostedZones>${list.map((z) => `<HostedZone><Id>/hostedzone/${zoneId}</Id><Name>${z}.</Name><CallerReference>x</CallerReference><ResourceRecordSetCount>${sets.size}</ResourceRecordSetCount></HostedZone>`).join('')}</HostedZones><DNSName>${dnsname}</DNSName><IsTruncated>false</IsTruncated><MaxItems>${url.searchParams.get('maxitems') ?? 100}</MaxItems></ListHostedZonesByNameResponse>`)
      }
      const rr = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname)
      if (rr && rr[1] !== zoneId) return error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${rr[1]}`)
      if (rr && method === 'GET') {
        const max = Number(url.searchParams.get('maxitems') ?? 300)
        if (max > 300) return error(400, 'InvalidInput', 'maxitems must be at most 300')
        const start = {name: (url.searchParams.get('name') ?? zone).toLowerCase().replace(/\.$/, ''), type: url.searchParams.get('type') ?? ''}
        const all = [...sets.values()].sort(dnsOrder).filter((s) => dnsOrder(s, start) >= 0)
        const page = all.slice(0, max)
        const next = all[max]
        const xmlSets = page.map((s) => `<ResourceRecordSet><Name>${s.name}.</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`).join('')
        return send(200, `<ListResourceRecordSetsResponse><ResourceRecordSets>${xmlSets}</ResourceRecordSets><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${next ? `<NextRecordName>${next.name}.</NextRecordName><NextRecordType>${next.type}</NextRecordType>` : ''}<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`)
      }
      if (rr && method === 'POST') {
        let doc: any
        try {
          doc = parser.parse(body)
        } catch {
          return error(400, 'InvalidInput', 'malformed XML')
        }
        const list: any[] = doc?.ChangeResourceRecordSetsRequest?.ChangeBatch?.Changes?.Change ?? []
        const parsed = list.map((c) => ({
          action: String(c.Action),
          name: String(c.ResourceRecordSet?.Name ?? '').toLowerCase().replace(/\.$/, ''),
          type: String(c.ResourceRecordSet?.Type ?? ''),
          ttl: Number(c.ResourceRecordSet?.TTL),
          values: (c.ResourceRecordSet?.ResourceRecords?.ResourceRecord ?? []).map((r: any) => String(r.Value)),
        }))
        let count = 0
        let size = 0
        for (const c of parsed) {
          const n = c.action === 'UPSERT' ? 2 : 1
          count += n
          size += c.values.reduce((s: number, v: string) => s + v.length, 0) * n
          for (const v of c.values) for (const m of v.matchAll(/"((?:[^"\\]|\\.)*)"/g)) if (m[1]!.length > 255) return error(400, 'InvalidChangeBatch', `TXT character-string longer than 255 at ${c.name}`)
          if (c.name !== zone && !c.name.endsWith(`.${zone}`)) return error(400, 'InvalidChangeBatch', `RRSet with DNS name ${c.name}. is not permitted in zone ${zone}.`)
        }
        if (count > 1000) return error(400, 'InvalidChangeBatch', 'Number of records limit of 1000 exceeded.')
        if (size > 32000) return error(400, 'InvalidChangeBatch', 'Number of characters in record values limit of 32000 exceeded.')
        // Validate the whole batch against the current state first (atomic).
        const next = new Map(sets)
        for (const c of parsed) {
          const k = key(c.name, c.type)
          const have = next.get(k)
          if (c.action === 'CREATE') {
            if (have) return error(400, 'InvalidChangeBatch', `Tried to create resource record set [name='${c.name}.', type='${c.type}'] but it already exists`)
            next.set(k, {name: c.name, type: c.type, ttl: c.ttl, values: c.values})
          } else if (c.action === 'UPSERT') {
            next.set(k, {name: c.name, type: c.type, ttl: c.ttl, values: c.values})
          } else if (c.action === 'DELETE') {
            if (!have || have.ttl !== c.ttl || have.values.join('\n') !== c.values.join('\n')) return error(400, 'InvalidChangeBatch', `Tried to delete resource record set [name='${c.name}.', type='${c.type}'] but the values provided do not match the current values`)
            next.delete(k)
          } else return error(400, 'InvalidInput', `unknown action ${c.action}`)
        }
        sets.clear()
        for (const [k, v] of next) sets.set(k, v)
        const id = 'C' + randomBytes(8).toString('hex').toUpperCase()
        changes.set(id, 0)
        batches.push({id, changes: parsed.map(({action, name, ttl, values}) => ({action, name, ttl, values})), pollsUntilInsync: 0})
        return send(200, `<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/${id}</Id><Status>PENDING</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`)
      }
      const ch = /^\/2013-04-01\/change\/([^/]+)$/.exec(url.pathname)
      if (ch && method === 'GET') {
        const polls = changes.get(ch[1]!)
        if (polls === undefined) return error(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${ch[1]}`)
        changes.set(ch[1]!, polls + 1)
        const batch = batches.find((b) => b.id === ch[1])!
        const insync = polls + 1 > (options.pendingPolls ?? 1)
        if (!insync) batch.pollsUntilInsync++
        return send(200, `<GetChangeResponse><ChangeInfo><Id>/change/${ch[1]}</Id><Status>${insync ? 'INSYNC' : 'PENDING'}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo></GetChangeResponse>`)
      }
      return error(404, 'NotFound', `no route ${method} ${url.pathname}`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  port = (server.address() as {port: number}).port
  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    zoneId,
    sets,
    batches,
    log,
    faults,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}

export function seedRoute53(fake: Route53Fake, name: string, ttl: number, values: string[], type = 'TXT'): void {
  fake.sets.set(key(name, type), {name, type, ttl, values})
}
