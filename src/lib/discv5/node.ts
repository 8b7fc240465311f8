/**
 * Creating @chainsafe/discv5 11.0.0 instances the way waku-disc needs them: the protocol id, a
 * raised socket receive buffer, and a transport that counts packets and bytes and refuses any
 * destination the admission policy rejects, as a last line of defence below the crawl scheduler.
 * What goes beyond the library's public API comes from ./adapter (checked when a node starts).
 */
import {createSocket, type Socket} from 'node:dgram'

import {Discv5, UDPTransportService, multiaddrFromSocketAddress} from '@chainsafe/discv5'
import {encodePacket, type IPacket} from '@chainsafe/discv5/packet'
import {SignableENR, type ENR} from '@chainsafe/enr'
import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import ipaddr from 'ipaddr.js'

import {BadInputError, UnreachableError} from '../errors.js'
import {DestinationPolicy} from '../net/index.js'
import {assertDiscv5Adapter, freezeRoutingTable, installDiscv5Crypto, installEnrVerifyCache, observeIncoming, socketSlot} from './adapter/index.js'

/** The library's config type (not exported by name from its package entry). */
export type Discv5Config = NonNullable<Parameters<typeof Discv5.create>[0]['config']>

/** The library's multiaddr type (its own @multiformats/multiaddr 12 copy). */
export type LibMultiaddr = Parameters<Discv5['sendFindNode']>[0] & {toOptions(): {family: number; host: string; port: number}}

export interface WireCounters {
  packetsOut: number
  bytesOut: number
  packetsIn: number
  bytesIn: number
  /** Sends refused by the transport's policy (should stay 0: the scheduler filters first). */
  refusedSends: number
  decodeErrors: number
}

export interface SendObservation {
  host: string
  port: number
  bytes: number
}

export interface GuardedTransportInit {
  bindHost: string
  bindPort: number
  /** A second, IPv6 socket beside an IPv4 bindHost (dual stack). */
  bindHost6?: string
  /** Its port: the library refuses two sockets on the same port number, 0 included. */
  bindPort6?: number
  nodeId: string
  protocolId: string
  /** When set, every send is checked against it and refused sends are dropped and counted. */
  policy?: DestinationPolicy
  /** Receive buffer size in bytes (default 4 MiB; the library's default is 20 KiB). */
  recvBufferSize?: number
  /** Called for every datagram actually handed to the socket. */
  onSend?: (send: SendObservation) => void
}

/** Builds a library multiaddr for ip:port/udp. */
export function udpMultiaddr(host: string, port: number): LibMultiaddr {
  const parsed = ipaddr.parse(host)
  const octets = parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).octets : (parsed as ipaddr.IPv6).toByteArray()
  return multiaddrFromSocketAddress({
    ip: {type: parsed.kind() === 'ipv4' ? 4 : 6, octets: Uint8Array.from(octets)},
    port,
  }) as unknown as LibMultiaddr
}

/** UDP transport with counters, a receive-buffer raise and a destination guard. */
export class GuardedTransport extends UDPTransportService {
  readonly counters: WireCounters = {packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0, refusedSends: 0, decodeErrors: 0}
  private readonly guard?: DestinationPolicy
  private readonly recvBufferSize: number
  private readonly onSend?: (send: SendObservation) => void

  constructor(init: GuardedTransportInit) {
    const addr = udpMultiaddr(init.bindHost, init.bindPort)
    const family = ipaddr.parse(init.bindHost).kind()
    if (init.bindHost6 !== undefined && (family !== 'ipv4' || ipaddr.parse(init.bindHost6).kind() !== 'ipv6')) {
      throw new BadInputError('BAD_BIND', `dual stack needs an IPv4 and an IPv6 address, got ${init.bindHost} and ${init.bindHost6}`)
    }
    super({
      bindAddrs: (family === 'ipv4' ? {ip4: addr, ...(init.bindHost6 !== undefined ? {ip6: udpMultiaddr(init.bindHost6, init.bindPort6 ?? 0)} : {})} : {ip6: addr}) as never,
      nodeId: init.nodeId,
      protocolId: init.protocolId,
    })
    this.guard = init.policy
    this.recvBufferSize = init.recvBufferSize ?? 4 * 1024 * 1024
    this.onSend = init.onSend
    observeIncoming(this, (data) => {
      this.counters.packetsIn++
      this.counters.bytesIn += data.length
    })
    ;(this as unknown as NodeJS.EventEmitter).on('decodeError', () => {
      this.counters.decodeErrors++
    })
  }

  /** The bound sockets (after start), the IPv4 one first. */
  get sockets(): Socket[] {
    return [socketSlot(this, 4)?.socket, socketSlot(this, 6)?.socket].filter((s): s is Socket => s !== undefined)
  }

  /** The port actually bound (after start; the IPv4 one when both are). */
  get boundPort(): number {
    const socket = this.sockets[0]
    return socket ? socket.address().port : 0
  }

  /** The IPv6 socket's port when the transport is dual stack (after start). */
  get boundPort6(): number | undefined {
    const socket6 = socketSlot(this, 6)?.socket
    return socketSlot(this, 4) && socket6 ? socket6.address().port : undefined
  }

  /** Which families the transport speaks. */
  get families(): Array<4 | 6> {
    return [...(socketSlot(this, 4) ? [4 as const] : []), ...(socketSlot(this, 6) ? [6 as const] : [])]
  }

  override async start(): Promise<void> {
    await super.start()
    for (const socket of this.sockets) {
      try {
        socket.setRecvBufferSize(this.recvBufferSize)
      } catch {
        // net.core.rmem_max may cap it; the kernel then keeps the largest allowed size.
      }
      // A datagram socket error (e.g. EPERM from a firewall) must not crash the process.
      socket.on('error', () => {})
    }
  }

  override async send(to: LibMultiaddr, toId: string, packet: IPacket): Promise<void> {
    const {host, port, family} = to.toOptions()
    if (this.guard && !this.guard.isAllowed(host, port)) {
      this.counters.refusedSends++
      return
    }
    const socket = socketSlot(this, family === 4 ? 4 : 6)?.socket
    if (!socket) return
    const bytes = encodePacket(toId, packet)
    this.counters.packetsOut++
    this.counters.bytesOut += bytes.length
    this.onSend?.({host, port, bytes: bytes.length})
    socket.send(bytes, port, host)
  }
}

export interface CreateNodeOptions {
  /** 32-byte secp256k1 private key. */
  privateKey: Uint8Array
  protocolId: string
  bindHost: string
  /** With an IPv4 bindHost: also bind this IPv6 address (dual stack). */
  bindHost6?: string
  /** 0 = any free port. */
  bindPort?: number
  /** Advertise ip/udp in the node's own ENR (testnet nodes do; a crawler must not). */
  advertise?: boolean
  /** Extra ENR entries (Waku keys, tcp…), set before the address. */
  enrEntries?: Record<string, Uint8Array>
  /** tcp entry of an advertised record (default: the UDP port; null: no tcp entry). */
  tcpPort?: number | null
  config?: Discv5Config
  policy?: DestinationPolicy
  recvBufferSize?: number
  onSend?: (send: SendObservation) => void
  /**
   * Keep the library from changing the routing table on its own: no insertion of peers that
   * contacted us (which, with full buckets, makes it ping an eviction candidate, a new handshake
   * per contact) and no removal on failures. A crawler keeps its own tables; a testnet node keeps
   * the table it was seeded with.
   */
  staticTable?: boolean
}

export interface StartedNode {
  discv5: Discv5
  transport: GuardedTransport
  port: number
  /** The node's own ENR text (after the address was set). */
  enrText: string
  nodeId: string
  stop(): Promise<void>
}

/** Largest setInterval delay Node accepts; used to switch the library's periodic pings off. */
const NEVER_MS = 2_147_483_647

/**
 * Creates and starts a discv5 node. Throws UnreachableError when the port cannot be bound (the
 * library itself never settles start() on a bind error in 11.0.0).
 */
export async function startNode(options: CreateNodeOptions): Promise<StartedNode> {
  assertDiscv5Adapter()
  installEnrVerifyCache()
  await installDiscv5Crypto()
  await probeBind(options.bindHost, options.bindPort ?? 0)
  const enr = SignableENR.createV4(options.privateKey, options.enrEntries ?? {})
  const transport = new GuardedTransport({
    bindHost: options.bindHost,
    bindHost6: options.bindHost6,
    ...(options.bindHost6 !== undefined ? {bindPort6: await freeUdpPort(options.bindHost6, options.bindPort ?? 0)} : {}),
    bindPort: options.bindPort ?? 0,
    nodeId: enr.nodeId,
    protocolId: options.protocolId,
    policy: options.policy,
    recvBufferSize: options.recvBufferSize,
    onSend: options.onSend,
  })
  const discv5 = Discv5.create({
    enr,
    privateKey: privateKeyFromRaw(options.privateKey) as never,
    bindAddrs: (ipaddr.parse(options.bindHost).kind() === 'ipv4'
      ? {ip4: transport.bindAddrs[0]!, ...(transport.bindAddrs[1] ? {ip6: transport.bindAddrs[1]} : {})}
      : {ip6: transport.bindAddrs[0]!}) as never,
    transport,
    config: {
      protocolId: options.protocolId,
      enrUpdate: false,
      pingInterval: NEVER_MS,
      ...options.config,
    },
  })
  if (options.staticTable) freezeRoutingTable(discv5)
  await discv5.start()
  const port = transport.boundPort
  if (options.advertise) {
    const tcp = options.tcpPort === null ? undefined : (options.tcpPort ?? port)
    if (ipaddr.parse(options.bindHost).kind() === 'ipv4') {
      enr.ip = options.bindHost
      enr.udp = port
      if (tcp !== undefined) enr.tcp = tcp
    } else {
      enr.ip6 = options.bindHost
      enr.udp6 = port
      if (tcp !== undefined) enr.tcp6 = tcp
    }
    if (options.bindHost6 !== undefined && transport.boundPort6 !== undefined) {
      enr.ip6 = options.bindHost6
      // No tcp6: a listener beside a dual-stack node binds the IPv4 host only.
      enr.udp6 = transport.boundPort6
    }
  }
  return {
    discv5,
    transport,
    port,
    enrText: enr.encodeTxt(),
    nodeId: enr.nodeId,
    async stop() {
      await discv5.stop()
    },
  }
}

/** A free UDP port on `host` other than `not` (the library needs distinct ports per family). */
async function freeUdpPort(host: string, not: number): Promise<number> {
  for (;;) {
    const socket = createSocket('udp6')
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, host, () => resolve(socket.address().port))
    }).finally(() => new Promise<void>((resolve) => socket.close(() => resolve())))
    if (port !== not) return port
  }
}

/**
 * 11.0.0 binds without an error listener: an in-use port leaves start() pending forever. Probe the
 * port first so the user gets a typed error instead of a hang.
 */
async function probeBind(host: string, port: number): Promise<void> {
  if (port === 0) return
  const socket = createSocket(ipaddr.parse(host).kind() === 'ipv4' ? 'udp4' : 'udp6')
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(port, host, () => resolve())
    })
  } catch (error) {
    throw new UnreachableError('BIND_FAILED', `cannot bind UDP ${host}:${port}: ${(error as Error).message}`, {
      hint: 'choose another port, or 0 for any free port',
    })
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
