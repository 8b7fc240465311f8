/**
 * Asks one DNS server directly: UDP first (several sockets used in turn, retransmission with a
 * shorter first wait), TCP when the answer comes back truncated or when asked to.
 */
import dgram from 'node:dgram'
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import net from 'node:net'
import {randomInt} from 'node:crypto'

import dnsPacket from 'dns-packet'

import {BadInputError, ProtocolError, UnreachableError, abortError} from '../errors.js'
import {txtOf, unreachable, type ResolverCounters, type TxtQueryOptions, type TxtResolver} from './txt-resolver.js'

export interface ServerAddress {
  host: string
  port: number
}

/** Parses `HOST:PORT`, `[v6]:PORT` or `HOST` (port 53). */
export function parseServerAddress(text: string, options: {allowPortZero?: boolean} = {}): ServerAddress {
  const t = text.trim()
  let host: string
  let port = 53
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t)
  if (v6) {
    host = v6[1]!
    if (v6[2]) port = Number(v6[2])
  } else if (isIP(t) === 6) {
    host = t
  } else {
    const i = t.lastIndexOf(':')
    host = i === -1 ? t : t.slice(0, i)
    if (i !== -1) port = Number(t.slice(i + 1))
  }
  if (!host || !Number.isInteger(port) || port < (options.allowPortZero ? 0 : 1) || port > 65535) {
    throw new BadInputError('DNS_BAD_SERVER', `invalid server address ${JSON.stringify(text)}`, {hint: 'use HOST:PORT, e.g. 127.0.0.1:5353'})
  }
  return {host, port}
}

interface Pending {
  name: string
  resolve: (records: string[]) => void
  reject: (error: Error) => void
  timer?: NodeJS.Timeout
  attempt: number
  packet: Buffer
  cleanup: () => void
}

export interface ServerResolverOptions {
  /** Per-attempt timeout in ms (default 2500; geth uses 5 s per lookup). */
  timeoutMs?: number
  /** UDP attempts before giving up (default 3; the first waits at most 1 s). */
  attempts?: number
  /** UDP sockets used in turn (default 4). */
  sockets?: number
  /** Always use TCP. */
  tcpOnly?: boolean
}

/** Asks one DNS server directly: UDP first, TCP when the answer comes back truncated. */
export class ServerTxtResolver implements TxtResolver {
  readonly counters: ResolverCounters = {queries: 0, tcpFallbacks: 0, retransmits: 0, bytesReceived: 0}
  readonly description: string
  /** Several UDP sockets, used in turn: each has its own kernel receive buffer, so a burst of
   *  answers arriving while the event loop is busy is less likely to be dropped. */
  private sockets: Array<Promise<dgram.Socket>> = []
  private open: dgram.Socket[] = []
  private next = 0
  private readonly pending = new Map<number, Pending>()
  private socketError?: Error
  private resolvedHost?: Promise<string>
  private readonly timeoutMs: number
  private readonly attempts: number

  constructor(
    readonly server: ServerAddress,
    private readonly options: ServerResolverOptions = {},
  ) {
    this.description = `server ${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`
    this.timeoutMs = options.timeoutMs ?? 2500
    this.attempts = options.attempts ?? 3
  }

  async resolveTxt(name: string, options: TxtQueryOptions = {}): Promise<string[]> {
    if (options.signal?.aborted) throw abortError(options.signal, `TXT lookup of ${name}`)
    if (this.options.tcpOnly) return this.viaTcp(name, options.signal)
    const response = await this.viaUdp(name, options.signal)
    if (response === 'truncated') {
      this.counters.tcpFallbacks++
      return this.viaTcp(name, options.signal)
    }
    return response
  }

  private ensureSocket(): Promise<dgram.Socket> {
    const want = Math.max(1, this.options.sockets ?? 4)
    if (this.sockets.length < want) this.sockets.push(this.hostAddress().then((address) => this.openSocket(address)))
    return this.sockets[this.next++ % this.sockets.length]!
  }

  /** The server's IP address: the host itself, or its name looked up once (an unknown name is unreachable, not a socket error). */
  private hostAddress(): Promise<string> {
    if (isIP(this.server.host) !== 0) return Promise.resolve(this.server.host)
    this.resolvedHost ??= lookup(this.server.host, {order: 'ipv4first'}).then(
      (a) => a.address,
      (error: NodeJS.ErrnoException) => {
        throw new UnreachableError('DNS_UNREACHABLE', `${this.description} cannot be reached: host name ${this.server.host} does not resolve (${error.code ?? 'ERROR'})`, {cause: error})
      },
    )
    return this.resolvedHost
  }

  private openSocket(address: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket({type: isIP(address) === 6 ? 'udp6' : 'udp4', recvBufferSize: 1 << 20})
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo))
    socket.unref()
    this.open.push(socket)
    return new Promise((resolve) => {
      socket.on('error', (error) => {
        this.socketError = error
        for (const p of [...this.pending.values()]) p.reject(unreachable(this.description, error))
        resolve(socket)
      })
      socket.connect(this.server.port, address, () => resolve(socket))
    })
  }

  private async viaUdp(name: string, signal?: AbortSignal): Promise<string[] | 'truncated'> {
    const socket = await this.ensureSocket()
    let id = randomInt(0, 0x10000)
    while (this.pending.has(id)) id = randomInt(0, 0x10000)
    const packet = dnsPacket.encode({type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{type: 'TXT', name, class: 'IN'}]})
    return new Promise((resolve, reject) => {
      const onAbort = (): void => p.reject(abortError(signal!, `TXT lookup of ${name}`))
      const p: Pending = {
        name,
        attempt: 0,
        packet,
        resolve: (v) => {
          p.cleanup()
          resolve(v as string[])
        },
        reject: (e) => {
          p.cleanup()
          reject(e)
        },
        cleanup: () => {
          if (p.timer) clearTimeout(p.timer)
          this.pending.delete(id)
          signal?.removeEventListener('abort', onAbort)
        },
      }
      signal?.addEventListener('abort', onAbort, {once: true})
      this.pending.set(id, p)
      const send = (): void => {
        p.attempt++
        this.counters.queries++
        if (p.attempt > 1) this.counters.retransmits++
        const sendIt = (): void =>
          socket.send(packet, (error) => {
            if (error) p.reject(unreachable(this.description, error))
          })
        // A connected socket may still be connecting on first use.
        try {
          sendIt()
        } catch (error) {
          p.reject(unreachable(this.description, error as Error))
          return
        }
        // The first attempt gives up sooner (lost datagrams are the common case on a busy host).
        const wait = p.attempt === 1 && this.attempts > 1 ? Math.min(this.timeoutMs, 1000) : this.timeoutMs
        p.timer = setTimeout(() => {
          if (p.attempt >= this.attempts) p.reject(new UnreachableError('DNS_TIMEOUT', `${this.description} did not answer the TXT query for ${name} (${p.attempt} attempts, ${this.timeoutMs} ms each)`))
          else send()
        }, wait)
      }
      if (this.socketError) p.reject(unreachable(this.description, this.socketError))
      else send()
    }) as Promise<string[] | 'truncated'>
  }

  private onMessage(msg: Buffer, _rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) return
    const id = msg.readUInt16BE(0)
    const p = this.pending.get(id)
    if (!p) return
    this.counters.bytesReceived += msg.length
    let decoded: dnsPacket.Packet
    try {
      decoded = dnsPacket.decode(msg)
    } catch (error) {
      p.reject(new ProtocolError('DNS_BAD_RESPONSE', `${this.description} sent an undecodable answer for ${p.name}: ${(error as Error).message}`))
      return
    }
    if (decoded.type !== 'response' || (decoded.questions?.[0]?.name ?? '').toLowerCase() !== p.name.toLowerCase()) return // not ours: keep waiting
    if (((decoded.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0) {
      ;(p.resolve as (v: unknown) => void)('truncated')
      return
    }
    try {
      p.resolve(txtOf(decoded, p.name, this.description))
    } catch (error) {
      p.reject(error as Error)
    }
  }

  private viaTcp(name: string, signal?: AbortSignal): Promise<string[]> {
    this.counters.queries++
    const id = randomInt(0, 0x10000)
    const packet = dnsPacket.streamEncode({type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{type: 'TXT', name, class: 'IN'}]})
    return new Promise((resolve, reject) => {
      const socket = net.connect({host: this.server.host, port: this.server.port})
      let buf = Buffer.alloc(0)
      const timer = setTimeout(() => finish(new UnreachableError('DNS_TIMEOUT', `${this.description} (TCP) did not answer the TXT query for ${name} within ${this.timeoutMs * this.attempts} ms`)), this.timeoutMs * this.attempts)
      const onAbort = (): void => finish(abortError(signal!, `TXT lookup of ${name}`))
      signal?.addEventListener('abort', onAbort, {once: true})
      const finish = (error?: Error, value?: string[]): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        socket.destroy()
        if (error) reject(error)
        else resolve(value!)
      }
      socket.on('connect', () => socket.write(packet))
      socket.on('error', (error) => finish(unreachable(`${this.description} (TCP)`, error)))
      socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk])
        if (buf.length > 70_000) return finish(new ProtocolError('DNS_BAD_RESPONSE', `${this.description} sent an oversized TCP answer for ${name}`))
        if (buf.length < 2 || buf.length < buf.readUInt16BE(0) + 2) return
        this.counters.bytesReceived += buf.length
        try {
          const decoded = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)))
          if (decoded.id !== id) return finish(new ProtocolError('DNS_BAD_RESPONSE', `${this.description} answered with the wrong id over TCP`))
          finish(undefined, txtOf(decoded, name, this.description))
        } catch (error) {
          finish(error instanceof Error && 'exitCode' in error ? error : new ProtocolError('DNS_BAD_RESPONSE', `${this.description} sent an undecodable TCP answer for ${name}: ${(error as Error).message}`))
        }
      })
      socket.on('end', () => finish(new ProtocolError('DNS_BAD_RESPONSE', `${this.description} closed the TCP connection without a full answer for ${name}`)))
    })
  }

  async close(): Promise<void> {
    for (const p of [...this.pending.values()]) p.reject(new UnreachableError('DNS_CLOSED', 'resolver closed'))
    const open = this.open
    this.open = []
    this.sockets = []
    await Promise.all(open.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))))
  }
}
