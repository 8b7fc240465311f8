/**
 * A small authoritative DNS server (UDP and TCP on one port) answering TXT queries for one or
 * more signed tree directories, for local testing and testnets. UDP answers over 512 bytes (no
 * EDNS) or over the client's EDNS size are sent truncated so clients retry over TCP, as real
 * servers do. An optional per-query delay stands in for network latency (no netem here).
 */
import dgram from 'node:dgram'
import net from 'node:net'
import {isIP} from 'node:net'

import dnsPacket from 'dns-packet'

import {BadInputError, UnreachableError} from '../errors.js'
import {ENTRY_TTL, ROOT_TTL, loadSignedTree, splitTxt} from './directory.js'
import {parseServerAddress} from './server-resolver.js'

export interface Zone {
  domain: string
  /** name (lowercase, no trailing dot) → TXT values. */
  records: Map<string, string[]>
}

export interface ServeOptions {
  /** `HOST:PORT` (port 0 = any free port). */
  listen: string
  /** Added before every answer, in ms. */
  delayMs?: number
  signal?: AbortSignal
}

export interface DnsServerHandle {
  host: string
  port: number
  zones: {domain: string; records: number; url?: string}[]
  /** Queries answered so far, per transport. */
  stats: {udp: number; tcp: number; truncated: number; nxdomain: number; refused: number}
  close(): Promise<void>
}

/** Zones for signed tree directories (the TXT map of each). */
export async function zonesFromDirectories(dirs: string[], options: {signal?: AbortSignal} = {}): Promise<Array<Zone & {url: string}>> {
  const zones: Array<Zone & {url: string}> = []
  for (const dir of dirs) {
    const signed = await loadSignedTree(dir, options)
    zones.push({...zoneFromTxt(signed.domain, signed.txt), url: signed.url})
  }
  return zones
}

export function zoneFromTxt(domain: string, txt: Record<string, string | string[]>): Zone {
  const records = new Map<string, string[]>()
  for (const [name, value] of Object.entries(txt)) records.set(name.toLowerCase().replace(/\.$/, ''), Array.isArray(value) ? value : [value])
  return {domain: domain.toLowerCase().replace(/\.$/, ''), records}
}

/** Starts serving `zones`; resolves once both sockets listen. */
export async function startDnsServer(zones: Zone[], options: ServeOptions): Promise<DnsServerHandle> {
  const {host, port: wantPort} = parseServerAddress(options.listen.includes(':') || options.listen.startsWith('[') ? options.listen : `${options.listen}:53`, {allowPortZero: true})
  const delay = options.delayMs ?? 0
  const seen = new Set<string>()
  for (const z of zones) {
    if (seen.has(z.domain)) throw new BadInputError('DNS_DUPLICATE_ZONE', `two trees for ${z.domain}`)
    seen.add(z.domain)
  }
  const stats = {udp: 0, tcp: 0, truncated: 0, nxdomain: 0, refused: 0}

  const answer = (query: dnsPacket.Packet, maxUdp: number | undefined): Buffer => {
    const q = query.questions?.[0]
    const base = {type: 'response' as const, id: query.id ?? 0, questions: query.questions ?? []}
    if (!q) return dnsPacket.encode({...base, flags: (1 << 15) | (1 /* FORMERR */)})
    const name = q.name.toLowerCase().replace(/\.$/, '')
    const zone = zones.find((z) => name === z.domain || name.endsWith(`.${z.domain}`))
    if (!zone) {
      stats.refused++
      return dnsPacket.encode({...base, flags: 5 /* REFUSED */})
    }
    const soa = {
      name: zone.domain,
      type: 'SOA' as const,
      ttl: 60,
      data: {mname: `ns.${zone.domain}`, rname: `hostmaster.${zone.domain}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60},
    }
    const values = zone.records.get(name)
    if (values === undefined) {
      stats.nxdomain++
      return dnsPacket.encode({...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 /* NXDOMAIN */, authorities: [soa]})
    }
    const answers: dnsPacket.Answer[] =
      q.type === 'TXT' || (q.type as string) === 'ANY'
        ? values.map((v) => ({name: q.name, type: 'TXT' as const, class: 'IN' as const, ttl: name === zone.domain ? ROOT_TTL : ENTRY_TTL, data: splitTxt(v).map((s) => Buffer.from(s))}))
        : []
    const full = dnsPacket.encode({...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers, authorities: answers.length === 0 ? [soa] : []})
    if (maxUdp !== undefined && full.length > maxUdp) {
      stats.truncated++
      return dnsPacket.encode({...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE})
    }
    return full
  }

  const udpSize = (query: dnsPacket.Packet): number => {
    const opt = query.additionals?.find((a) => a.type === 'OPT') as {udpPayloadSize?: number} | undefined
    return Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096))
  }
  // Delayed answers still pending when the server closes are dropped (a send on a closed socket
  // throws from the timer, outside any caller's try).
  const pending = new Set<NodeJS.Timeout>()
  let stopping = false
  const later = (fn: () => void): void => {
    const run = () => {
      if (stopping) return
      try {
        fn()
      } catch {
        // the socket went away between the query and the answer
      }
    }
    if (delay <= 0) return run()
    const t = setTimeout(() => {
      pending.delete(t)
      run()
    }, delay)
    pending.add(t)
  }

  const openUdp = async (bindPort: number): Promise<dgram.Socket> => {
    const udp = dgram.createSocket({type: isIP(host) === 6 ? 'udp6' : 'udp4'})
    udp.on('message', (msg, rinfo) => {
      let query: dnsPacket.Packet
      try {
        query = dnsPacket.decode(msg)
      } catch {
        return // garbage: drop, like real servers do for undecodable packets
      }
      if (query.type !== 'query') return
      stats.udp++
      const reply = answer(query, udpSize(query))
      later(() => udp.send(reply, rinfo.port, rinfo.address, () => {}))
    })
    udp.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(bindPort, host, () => {
        udp.off('error', reject)
        resolve()
      })
    }).catch((error: NodeJS.ErrnoException) => {
      try {
        udp.close()
      } catch {
        // never bound: nothing to release
      }
      throw new UnreachableError('DNS_LISTEN', `cannot listen on UDP ${host}:${bindPort} (${error.code})`, {cause: error})
    })
    return udp
  }

  const sockets = new Set<net.Socket>()
  const tcp = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.setTimeout(10_000, () => socket.destroy())
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        const len = buf.readUInt16BE(0)
        const msg = buf.subarray(2, 2 + len)
        buf = buf.subarray(2 + len)
        let query: dnsPacket.Packet
        try {
          query = dnsPacket.decode(msg)
        } catch {
          socket.destroy()
          return
        }
        stats.tcp++
        const reply = answer(query, undefined)
        const framed = Buffer.alloc(reply.length + 2)
        framed.writeUInt16BE(reply.length, 0)
        reply.copy(framed, 2)
        later(() => {
          if (!socket.destroyed) socket.write(framed)
        })
      }
    })
  })
  // UDP and TCP share one port. With port 0 the kernel picks a free UDP port whose TCP twin may be
  // taken by another process: then both are dropped and another port is tried.
  let udp: dgram.Socket | undefined
  let port = wantPort
  for (let attempt = 1; udp === undefined; attempt++) {
    const candidate = await openUdp(wantPort)
    port = candidate.address().port
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject)
        tcp.listen(port, host, () => {
          tcp.off('error', reject)
          resolve()
        })
      })
      udp = candidate
    } catch (error) {
      candidate.close()
      const code = (error as NodeJS.ErrnoException).code
      if (wantPort !== 0 || code !== 'EADDRINUSE' || attempt >= 20) {
        throw new UnreachableError('DNS_LISTEN', `cannot listen on TCP ${host}:${port} (${code})`, {cause: error})
      }
    }
  }
  const udpSocket = udp

  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    stopping = true
    for (const t of pending) clearTimeout(t)
    pending.clear()
    for (const s of sockets) s.destroy()
    await Promise.all([new Promise<void>((r) => udpSocket.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))])
  }
  options.signal?.addEventListener('abort', () => void close(), {once: true})
  return {
    host,
    port,
    zones: zones.map((z) => ({domain: z.domain, records: z.records.size, ...('url' in z ? {url: (z as {url: string}).url} : {})})),
    stats,
    close,
  }
}

/** `dns-tree serve DIR…`: loads and serves signed tree directories. */
export async function serveTreeDirectories(dirs: string[], options: ServeOptions): Promise<DnsServerHandle> {
  const zones = await zonesFromDirectories(dirs, {signal: options.signal})
  return startDnsServer(zones, options)
}
