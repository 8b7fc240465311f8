import dgram from 'node:dgram'
import {isIP} from 'node:net'

import {BadInputError, UnreachableError} from '../errors.js'
import {formatHostPort, type HostPort} from './endpoint.js'
import {
  StunAttr,
  CHANGE_IP,
  CHANGE_PORT,
  decodeStunMessage,
  encodeAddress,
  encodeStunMessage,
  errorCodeValue,
  formatAddress,
  StunMethod,
  xorKey,
  type StunAttribute,
  type StunMessage,
  type TransportAddress,
} from './message.js'

export interface StunServerOptions {
  listen: HostPort
  /** Second address (other IP, other port) for RFC 5780; without it CHANGE-REQUEST gets error 420. */
  alt?: HostPort
  /** Called for every handled or dropped datagram (logging). */
  onEvent?: (e: StunServerEvent) => void
}

export interface StunServerEvent {
  kind: 'response' | 'error-response' | 'dropped'
  from: string
  via: string
  reason?: string
  mapped?: string
}

export interface StunServerStats {
  requests: number
  responses: number
  errorResponses: number
  dropped: number
}

export interface StunServerInfo {
  /** Primary address (A1:P1). */
  primary: string
  /** The RFC 5780 alternate address (A2:P2), when configured. */
  alternate?: string
  /** Every bound socket. */
  sockets: string[]
  rfc5780: boolean
}

export interface StunServer {
  info: StunServerInfo
  stats: StunServerStats
  close(): Promise<void>
}

/** Comprehension-required attributes we read or may safely ignore in a Binding request. */
const UNDERSTOOD = new Set<number>([StunAttr.CHANGE_REQUEST, StunAttr.USERNAME, StunAttr.MESSAGE_INTEGRITY, StunAttr.PADDING, 0x0024, 0x0025, 0x001c])

interface Sock {
  socket: dgram.Socket
  ip: 0 | 1
  port: 0 | 1
  address: TransportAddress
}

function bindSocket(host: string, port: number): Promise<dgram.Socket> {
  const type = isIP(host) === 6 ? 'udp6' : 'udp4'
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({type, ipv6Only: type === 'udp6'})
    const onError = (err: NodeJS.ErrnoException) => {
      s.close()
      reject(err)
    }
    s.once('error', onError)
    s.bind({address: host, port, exclusive: true}, () => {
      s.off('error', onError)
      resolve(s)
    })
  })
}

function addrOf(s: dgram.Socket): TransportAddress {
  const a = s.address()
  return {family: a.family === 'IPv6' ? 6 : 4, address: a.address, port: a.port}
}

/**
 * Binds the RFC 5780 socket square (A1:P1, A1:P2, A2:P1, A2:P2). With port 0 the OS picks P1/P2;
 * if the same port is taken on the other IP we retry with new ones.
 */
async function bindAll(listen: HostPort, alt?: HostPort): Promise<Sock[]> {
  if (!isIP(listen.host)) throw new BadInputError('BAD_ADDRESS', `--listen must be an IP address, got "${listen.host}"`)
  if (!alt) {
    const s = await bindSocket(listen.host, listen.port).catch((err: Error) => {
      throw new UnreachableError('BIND_FAILED', `cannot listen on ${formatHostPort(listen)}: ${err.message}`, {cause: err})
    })
    return [{socket: s, ip: 0, port: 0, address: addrOf(s)}]
  }
  if (!isIP(alt.host)) throw new BadInputError('BAD_ADDRESS', `--alt must be an IP address, got "${alt.host}"`)
  if (isIP(alt.host) !== isIP(listen.host)) throw new BadInputError('BAD_ADDRESS', '--listen and --alt must be of the same IP family')
  if (alt.host === listen.host) throw new BadInputError('BAD_ADDRESS', '--alt must use a different IP address than --listen (RFC 5780 needs two)')
  if (alt.port !== 0 && alt.port === listen.port) throw new BadInputError('BAD_ADDRESS', '--alt must use a different port than --listen (RFC 5780 needs two)')
  const attempts = listen.port === 0 || alt.port === 0 ? 20 : 1
  let lastErr: Error | undefined
  for (let i = 0; i < attempts; i++) {
    const socks: Sock[] = []
    try {
      const s11 = await bindSocket(listen.host, listen.port)
      socks.push({socket: s11, ip: 0, port: 0, address: addrOf(s11)})
      const p1 = addrOf(s11).port
      const s12 = await bindSocket(listen.host, alt.port)
      socks.push({socket: s12, ip: 0, port: 1, address: addrOf(s12)})
      const p2 = addrOf(s12).port
      const s21 = await bindSocket(alt.host, p1)
      socks.push({socket: s21, ip: 1, port: 0, address: addrOf(s21)})
      const s22 = await bindSocket(alt.host, p2)
      socks.push({socket: s22, ip: 1, port: 1, address: addrOf(s22)})
      return socks
    } catch (err) {
      lastErr = err as Error
      for (const s of socks) s.socket.close()
    }
  }
  throw new UnreachableError('BIND_FAILED', `cannot listen on ${formatHostPort(listen)} and ${formatHostPort(alt)}: ${lastErr?.message}`, {cause: lastErr})
}

/**
 * Starts a STUN server: RFC 5389 Binding (XOR-MAPPED-ADDRESS, plus MAPPED-ADDRESS for old clients),
 * RFC 5780 (OTHER-ADDRESS, RESPONSE-ORIGIN, CHANGE-REQUEST) when given a second address, and
 * RFC 3489 classic requests (MAPPED-, SOURCE-, CHANGED-ADDRESS). It never answers anything but a
 * well-formed Binding request, and does not support RESPONSE-ADDRESS (it would let anyone aim our
 * answers at a third party): that gets error 420. RESPONSE-PORT is honoured (same IP only).
 */
export async function startStunServer(options: StunServerOptions): Promise<StunServer> {
  const socks = await bindAll(options.listen, options.alt)
  const stats: StunServerStats = {requests: 0, responses: 0, errorResponses: 0, dropped: 0}
  const rfc5780 = socks.length === 4
  const find = (ip: 0 | 1, port: 0 | 1) => socks.find((s) => s.ip === ip && s.port === port)!
  const emit = (e: StunServerEvent) => options.onEvent?.(e)

  const handle = (via: Sock, buf: Buffer, rinfo: dgram.RemoteInfo) => {
    const from: TransportAddress = {family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port}
    const drop = (reason: string) => {
      stats.dropped++
      emit({kind: 'dropped', from: formatAddress(from), via: formatAddress(via.address), reason})
    }
    let req: StunMessage
    try {
      req = decodeStunMessage(buf)
    } catch (err) {
      return drop((err as Error).message)
    }
    if (req.cls !== 'request') return drop(`not a request (${req.cls})`)
    if (req.method !== StunMethod.binding) return drop(`unsupported method 0x${req.method.toString(16)}`)
    stats.requests++
    let change = 0
    let responsePort: number | undefined
    const unknown: number[] = []
    const hadFingerprint = req.attributes.some((a) => a.type === StunAttr.FINGERPRINT)
    for (const a of req.attributes) {
      if (a.type === StunAttr.CHANGE_REQUEST) {
        if (a.value.length !== 4) return drop(`CHANGE-REQUEST is ${a.value.length} bytes, expected 4`)
        change = a.value[3]! & (CHANGE_IP | CHANGE_PORT)
      } else if (a.type === StunAttr.RESPONSE_PORT) {
        // RFC 5780 §7.5: answer to this port on the requester's own IP (never another IP, so it adds no reflection target).
        if (a.value.length !== 4) return drop(`RESPONSE-PORT is ${a.value.length} bytes, expected 4`)
        responsePort = (a.value[0]! << 8) | a.value[1]!
        if (responsePort === 0) return drop('RESPONSE-PORT is 0')
      } else if (a.type < 0x8000 && !UNDERSTOOD.has(a.type)) unknown.push(a.type)
    }
    const reply = (out: Sock, cls: 'success' | 'error', attributes: StunAttribute[]) => {
      const packet = encodeStunMessage({method: StunMethod.binding, cls, transactionId: req.transactionId, rfc5389: req.rfc5389, attributes}, {fingerprint: hadFingerprint})
      out.socket.send(packet, cls === 'success' && responsePort ? responsePort : from.port, from.address)
    }
    if (unknown.length || (change && !rfc5780)) {
      const types = unknown.length ? unknown : [StunAttr.CHANGE_REQUEST]
      const ua = new Uint8Array(types.length * 2 + (types.length % 2 ? 2 : 0))
      types.forEach((t, i) => new DataView(ua.buffer).setUint16(i * 2, t))
      if (types.length % 2) new DataView(ua.buffer).setUint16(types.length * 2, types[types.length - 1]!)
      reply(via, 'error', [
        {type: StunAttr.ERROR_CODE, value: errorCodeValue(420, 'Unknown Attribute')},
        {type: StunAttr.UNKNOWN_ATTRIBUTES, value: ua},
      ])
      stats.errorResponses++
      emit({kind: 'error-response', from: formatAddress(from), via: formatAddress(via.address), reason: change && !rfc5780 ? 'CHANGE-REQUEST without --alt' : `unknown attribute ${unknown.map((t) => '0x' + t.toString(16).padStart(4, '0')).join(', ')}`})
      return
    }
    const out = find((change & CHANGE_IP ? 1 - via.ip : via.ip) as 0 | 1, (change & CHANGE_PORT ? 1 - via.port : via.port) as 0 | 1)
    const other = rfc5780 ? find((1 - via.ip) as 0 | 1, (1 - via.port) as 0 | 1).address : undefined
    const attributes: StunAttribute[] = []
    if (req.rfc5389) {
      attributes.push({type: StunAttr.XOR_MAPPED_ADDRESS, value: encodeAddress(from, xorKey(req.transactionId))})
      attributes.push({type: StunAttr.MAPPED_ADDRESS, value: encodeAddress(from)})
      if (rfc5780) {
        attributes.push({type: StunAttr.RESPONSE_ORIGIN, value: encodeAddress(out.address)})
        attributes.push({type: StunAttr.OTHER_ADDRESS, value: encodeAddress(other!)})
      }
    } else {
      attributes.push({type: StunAttr.MAPPED_ADDRESS, value: encodeAddress(from)})
      attributes.push({type: StunAttr.SOURCE_ADDRESS, value: encodeAddress(out.address)})
      if (rfc5780) attributes.push({type: StunAttr.CHANGED_ADDRESS, value: encodeAddress(other!)})
    }
    reply(out, 'success', attributes)
    stats.responses++
    emit({kind: 'response', from: formatAddress(from), via: formatAddress(out.address), mapped: formatAddress(from)})
  }

  for (const s of socks) {
    s.socket.on('message', (buf, rinfo) => handle(s, buf, rinfo))
    s.socket.on('error', () => {
      // ICMP port unreachable from a vanished client: nothing to do.
    })
  }
  const primary = socks[0]!.address
  const info: StunServerInfo = {
    primary: formatAddress(primary),
    sockets: socks.map((s) => formatAddress(s.address)),
    rfc5780,
  }
  if (rfc5780) info.alternate = formatAddress(find(1, 1).address)
  let closed = false
  return {
    info,
    stats,
    async close() {
      if (closed) return
      closed = true
      await Promise.all(socks.map((s) => new Promise<void>((r) => s.socket.close(() => r()))))
    },
  }
}
