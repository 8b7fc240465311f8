/**
 * Publishing by RFC 2136 dynamic update, authenticated with TSIG (RFC 8945, HMAC-SHA256).
 * dns-packet writes the header and zone section; the update records and the TSIG record are
 * written here because dns-packet can encode neither class NONE/ANY deletions with empty RDATA
 * nor TSIG, and no maintained npm package signs DNS messages with TSIG.
 */
import {createHmac, randomInt, timingSafeEqual} from 'node:crypto'
import net from 'node:net'

import dnsPacket from 'dns-packet'

import {ConfigError, ProtocolError, UnreachableError, abortError} from '../../errors.js'
import {splitTxt} from '../directory.js'
import {ROOT_PREFIX, isValidHash, parseEntry} from '../tree.js'
import {ServerTxtResolver, parseServerAddress, type ServerAddress} from '../resolvers.js'
import type {ExistingRecord, PhaseName, PublishChange, PublishTarget} from './types.js'

export interface TsigKey {
  name: string
  algorithm: 'hmac-sha256'
  secret: Uint8Array
}

const CLASS_IN = 1
const CLASS_NONE = 254
const CLASS_ANY = 255
const TYPE_TXT = 16
const TYPE_TSIG = 250
const OPCODE_UPDATE = 5
const FUDGE = 300

/**
 * Reads a TSIG key: `[hmac-sha256:]name:base64secret` (knsupdate -y / nsupdate -y form), a BIND
 * `key "name" { algorithm hmac-sha256; secret "…"; };` block, or Knot's `id:/algorithm:/secret:`.
 */
export function parseTsigKey(text: string, source = 'TSIG key'): TsigKey {
  const t = text.trim()
  let name: string | undefined
  let algorithm = 'hmac-sha256'
  let secret: string | undefined
  const bind = /key\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/s.exec(t)
  if (bind) {
    name = bind[1]
    algorithm = /algorithm\s+"?([\w-]+)"?\s*;/.exec(bind[2]!)?.[1] ?? algorithm
    secret = /secret\s+"([^"]+)"\s*;/.exec(bind[2]!)?.[1]
  } else if (/^\s*-?\s*id:/m.test(t)) {
    name = /id:\s*(\S+)/.exec(t)?.[1]
    algorithm = /algorithm:\s*(\S+)/.exec(t)?.[1] ?? algorithm
    secret = /secret:\s*(\S+)/.exec(t)?.[1]
  } else {
    const parts = t.split(':')
    if (parts.length === 3) [algorithm, name, secret] = parts as [string, string, string]
    else if (parts.length === 2) [name, secret] = parts as [string, string]
  }
  algorithm = algorithm.toLowerCase().replace(/\.$/, '')
  if (!name || !secret) throw new ConfigError('DNS_TSIG_KEY', `${source}: not a TSIG key (expected [hmac-sha256:]name:secret or a BIND key block)`)
  if (algorithm !== 'hmac-sha256') throw new ConfigError('DNS_TSIG_KEY', `${source}: algorithm ${algorithm} is not supported (use hmac-sha256)`)
  const bytes = Buffer.from(secret, 'base64')
  if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== secret.replace(/=+$/, '')) {
    throw new ConfigError('DNS_TSIG_KEY', `${source}: the secret is not base64`)
  }
  return {name: name.toLowerCase().replace(/\.$/, ''), algorithm: 'hmac-sha256', secret: new Uint8Array(bytes)}
}

/** Uncompressed, lowercase wire form of a name (TSIG requires canonical names). */
function wireName(name: string): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean)
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])])
}

/** Length of an uncompressed wire name at `offset`. */
function wireNameLength(buf: Buffer, offset: number): number {
  let i = offset
  while (i < buf.length && buf[i] !== 0) i += buf[i]! + 1
  return i - offset + 1
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

function u48(n: number): Buffer {
  const b = Buffer.alloc(6)
  b.writeUIntBE(n, 0, 6)
  return b
}

function txtRdata(value: string): Buffer {
  return Buffer.concat(splitTxt(value).map((s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)])))
}

function rr(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(10)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(klass, 2)
  head.writeUInt32BE(ttl, 4)
  head.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([wireName(name), head, rdata])
}

/** The TSIG variables and MAC (RFC 8945 §4.3), for a request (no prior MAC) or a response. */
function tsigMac(key: TsigKey, message: Buffer, timeSigned: number, error: number, requestMac?: Buffer): Buffer {
  const variables = Buffer.concat([wireName(key.name), u16(CLASS_ANY), Buffer.alloc(4), wireName(key.algorithm), u48(timeSigned), u16(FUDGE), u16(error), u16(0)])
  const hmac = createHmac('sha256', key.secret)
  if (requestMac) hmac.update(Buffer.concat([u16(requestMac.length), requestMac]))
  hmac.update(message)
  hmac.update(variables)
  return hmac.digest()
}

/** Appends a TSIG record to a message; returns the signed message and the MAC (to check the answer). */
export function signTsig(message: Buffer, key: TsigKey, now = Math.floor(Date.now() / 1000)): {signed: Buffer; mac: Buffer} {
  const mac = tsigMac(key, message, now, 0)
  const id = message.readUInt16BE(0)
  const rdata = Buffer.concat([wireName(key.algorithm), u48(now), u16(FUDGE), u16(mac.length), mac, u16(id), u16(0), u16(0)])
  const signed = Buffer.concat([message, rr(key.name, TYPE_TSIG, CLASS_ANY, 0, rdata)])
  signed.writeUInt16BE(signed.readUInt16BE(10) + 1, 10)
  return {signed, mac}
}

/** Verifies the TSIG on a response to a request whose MAC was `requestMac`. */
export function verifyTsigResponse(response: Buffer, key: TsigKey, requestMac: Buffer): {ok: boolean; error: number} {
  try {
    return checkTsigResponse(response, key, requestMac)
  } catch {
    return {ok: false, error: -1} // malformed answer or TSIG record: not verified
  }
}

function checkTsigResponse(response: Buffer, key: TsigKey, requestMac: Buffer): {ok: boolean; error: number} {
  const decoded = dnsPacket.decode(response)
  const tsig = decoded.additionals?.at(-1) as {type?: string; data?: Buffer} | undefined
  if (!tsig || tsig.type !== 'TSIG' || !tsig.data) return {ok: false, error: -1}
  const rdata = Buffer.from(tsig.data)
  const rrLength = 10 + rdata.length
  const nameWire = wireName(key.name)
  let start = response.length - rrLength - nameWire.length
  if (start < 12 || !response.subarray(start, start + nameWire.length).equals(nameWire)) start = response.length - rrLength - 2
  const algLen = wireNameLength(rdata, 0)
  const timeSigned = rdata.readUIntBE(algLen, 6)
  const macSize = rdata.readUInt16BE(algLen + 8)
  const mac = rdata.subarray(algLen + 10, algLen + 10 + macSize)
  const originalId = rdata.readUInt16BE(algLen + 10 + macSize)
  const error = rdata.readUInt16BE(algLen + 12 + macSize)
  const unsigned = Buffer.from(response.subarray(0, start))
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10)
  unsigned.writeUInt16BE(originalId, 0)
  const want = tsigMac(key, unsigned, timeSigned, error, requestMac)
  const ok = mac.length === want.length && timingSafeEqual(mac, want)
  return {ok, error}
}

/** Sends one DNS message over TCP and returns the answer. */
export function tcpExchange(server: ServerAddress, message: Buffer, options: {signal?: AbortSignal; timeoutMs?: number} = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: server.host, port: server.port})
    let buf = Buffer.alloc(0)
    const where = `${server.host}:${server.port}`
    const timer = setTimeout(() => done(new UnreachableError('DNS_TIMEOUT', `${where} did not answer within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000)
    const onAbort = (): void => done(abortError(options.signal!, `DNS exchange with ${where}`))
    options.signal?.addEventListener('abort', onAbort, {once: true})
    const done = (error?: Error, value?: Buffer): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (error) reject(error)
      else resolve(value!)
    }
    socket.on('connect', () => socket.write(Buffer.concat([u16(message.length), message])))
    socket.on('error', (error: NodeJS.ErrnoException) => done(new UnreachableError('DNS_UNREACHABLE', `${where} cannot be reached (${error.code ?? error.message})`, {cause: error})))
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)))
    })
    socket.on('end', () => done(new ProtocolError('DNS_BAD_RESPONSE', `${where} closed the connection without an answer`)))
  })
}

export interface UpdateRecord {
  name: string
  /** IN = add, NONE = delete this value, ANY = delete the whole TXT RRset. */
  op: 'add' | 'delete-value' | 'delete-rrset'
  value?: string
  ttl?: number
}

/** A prerequisite "this TXT RRset exists with exactly these values" (RFC 2136 §2.4.2). */
export interface RrsetPrerequisite {
  name: string
  values: string[]
}

/** An RFC 2136 UPDATE message for `zone` (unsigned). */
export function encodeUpdate(zone: string, records: UpdateRecord[], id = randomInt(0, 0x10000), prerequisites: RrsetPrerequisite[] = []): Buffer {
  const head = dnsPacket.encode({type: 'query', id, flags: OPCODE_UPDATE << 11, questions: [{name: zone, type: 'SOA', class: 'IN'}]})
  const prereqs = prerequisites.flatMap((p) => p.values.map((v) => rr(p.name, TYPE_TXT, CLASS_IN, 0, txtRdata(v))))
  const updates = records.map((r) => {
    if (r.op === 'add') return rr(r.name, TYPE_TXT, CLASS_IN, r.ttl ?? 0, txtRdata(r.value!))
    if (r.op === 'delete-value') return rr(r.name, TYPE_TXT, CLASS_NONE, 0, txtRdata(r.value!))
    return rr(r.name, TYPE_TXT, CLASS_ANY, 0, Buffer.alloc(0))
  })
  const message = Buffer.concat([head, ...prereqs, ...updates])
  message.writeUInt16BE(prereqs.length, 6) // ANCOUNT = prerequisite section
  message.writeUInt16BE(updates.length, 8) // NSCOUNT = update section
  return message
}

const RCODES: Record<number, string> = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE'}

export interface Rfc2136Options {
  server: string
  /** Zone apex; found with a SOA query when not given. */
  zone?: string
  key?: TsigKey
  timeoutMs?: number
  /** Largest UPDATE message in bytes (TCP allows 65535). */
  maxMessageBytes?: number
}

export class Rfc2136Target implements PublishTarget {
  readonly description: string
  private readonly server: ServerAddress
  private zone?: string
  private readonly resolver: ServerTxtResolver
  /** Messages sent (for tests and the report). */
  messages = 0
  /** The TXT values at the tree's domain when listed: the root switch is conditional on them. */
  private apex: {name: string; values: string[]} | undefined

  constructor(private readonly options: Rfc2136Options) {
    this.server = parseServerAddress(options.server)
    this.zone = options.zone?.toLowerCase().replace(/\.$/, '')
    this.description = `RFC 2136 ${options.server}${options.key ? ` (TSIG ${options.key.name})` : ''}`
    this.resolver = new ServerTxtResolver(this.server, {timeoutMs: options.timeoutMs ?? 3000})
  }

  /** The tree's current records as the server serves them: the root, then every entry reachable from it. */
  async list(domain: string, signal?: AbortSignal): Promise<ExistingRecord[]> {
    if (!this.zone) this.zone = await this.findZone(domain, signal)
    const out: ExistingRecord[] = []
    const rootValues = await this.resolver.resolveTxt(domain, {signal})
    this.apex = {name: domain, values: rootValues}
    for (const value of rootValues) out.push({name: domain, value, ttl: 0})
    const root = rootValues.find((v) => v.startsWith(ROOT_PREFIX))
    if (!root) return out
    const hashes = [...root.matchAll(/\b[el]=(\S+)/g)].map((m) => m[1]!).filter(isValidHash)
    const seen = new Set<string>()
    while (hashes.length) {
      const batch = hashes.splice(0, 32).filter((h) => !seen.has(h))
      batch.forEach((h) => seen.add(h))
      const answers = await Promise.all(batch.map((h) => this.resolver.resolveTxt(`${h}.${domain}`, {signal}).then((v) => [h, v] as const)))
      for (const [hash, values] of answers) {
        for (const value of values) {
          out.push({name: `${hash.toLowerCase()}.${domain}`, value, ttl: 0})
          try {
            const entry = parseEntry(value, {verifySignature: false})
            if (entry.type === 'branch') for (const c of entry.children) if (!seen.has(c)) hashes.push(c)
          } catch {
            // Not a tree entry: left for computeChanges to ignore.
          }
        }
      }
    }
    return out
  }

  private async findZone(domain: string, signal?: AbortSignal): Promise<string> {
    const query = dnsPacket.encode({type: 'query', id: randomInt(0, 0x10000), questions: [{name: domain, type: 'SOA', class: 'IN'}]})
    const raw = await tcpExchange(this.server, query, {signal, timeoutMs: this.options.timeoutMs})
    let answer: dnsPacket.Packet
    try {
      answer = dnsPacket.decode(raw)
    } catch (error) {
      throw new ProtocolError('DNS_BAD_RESPONSE', `${this.options.server} sent an undecodable answer to the SOA query for ${domain}: ${(error as Error).message}`)
    }
    const soa = [...(answer.answers ?? []), ...(answer.authorities ?? [])].find((a) => a.type === 'SOA')
    if (!soa) throw new ConfigError('DNS_NO_ZONE', `${this.options.server} is not authoritative for ${domain} (no SOA); pass --zone`)
    return soa.name.toLowerCase()
  }

  async apply(phase: PhaseName, changes: PublishChange[], signal?: AbortSignal): Promise<void> {
    const records: UpdateRecord[] = []
    for (const c of changes) {
      if (c.action === 'delete') records.push({name: c.name, op: 'delete-value', value: c.value})
      else {
        if (c.old) records.push({name: c.name, op: 'delete-value', value: c.old.value})
        records.push({name: c.name, op: 'add', value: c.value, ttl: c.ttl})
      }
    }
    // The root switch must be one message (atomic); entries and deletions are batched.
    const max = this.options.maxMessageBytes ?? 60_000
    const batches: UpdateRecord[][] = []
    let current: UpdateRecord[] = []
    let size = 100
    for (const r of records) {
      const s = r.name.length + (r.value?.length ?? 0) + 20
      if (current.length && size + s > max && phase !== 'root') {
        batches.push(current)
        current = []
        size = 100
      }
      current.push(r)
      size += s
    }
    if (current.length) batches.push(current)
    // The root switch is a compare-and-swap: it applies only if the apex TXT set is still what we
    // listed (a concurrent publisher makes it fail with NXRRSET instead of being overwritten).
    const prerequisites = phase === 'root' && this.apex && this.apex.values.length > 0 ? [this.apex] : []
    for (const batch of batches) await this.send(batch, signal, prerequisites)
  }

  private async send(records: UpdateRecord[], signal?: AbortSignal, prerequisites: RrsetPrerequisite[] = []): Promise<void> {
    const message = encodeUpdate(this.zone!, records, undefined, prerequisites)
    const {signed, mac} = this.options.key ? signTsig(message, this.options.key) : {signed: message, mac: undefined}
    this.messages++
    const response = await tcpExchange(this.server, signed, {signal, timeoutMs: this.options.timeoutMs})
    if (response.length < 12) throw new ProtocolError('DNS_BAD_RESPONSE', `${this.options.server} answered the update with ${response.length} bytes, shorter than a DNS header`)
    const rcode = response.readUInt16BE(2) & 0xf
    const name = RCODES[rcode] ?? `RCODE${rcode}`
    if (this.options.key && mac && rcode !== 9) {
      const check = verifyTsigResponse(response, this.options.key, mac)
      if (!check.ok) throw new ProtocolError('DNS_TSIG_RESPONSE', `${this.options.server}: the answer's TSIG does not verify`)
    }
    if (rcode === 0) return
    if (rcode === 9) throw new ConfigError('DNS_TSIG_REJECTED', `${this.options.server} refused the TSIG key ${this.options.key?.name ?? '(none)'} (NOTAUTH)`, {hint: 'check the key name, algorithm and secret'})
    if (rcode === 8) throw new ProtocolError('DNS_CONCURRENT_UPDATE', `${this.options.server}: the TXT records at the tree's domain changed since they were read (NXRRSET); another publisher is at work — rerun to publish over the new state`)
    if (rcode === 5) throw new ConfigError('DNS_UPDATE_REFUSED', `${this.options.server} refused the update for zone ${this.zone} (REFUSED)`, {hint: 'the server must allow updates from this key (ACL)'})
    throw new ProtocolError('DNS_UPDATE_FAILED', `${this.options.server} answered ${name} to the update`)
  }

  async confirmRoot(domain: string, value: string, signal?: AbortSignal): Promise<boolean> {
    return (await this.resolver.resolveTxt(domain, {signal})).includes(value)
  }

  async close(): Promise<void> {
    await this.resolver.close()
  }
}

