/**
 * Creating @chainsafe/discv5 11.0.0 instances the way waku-disc needs them: the patched protocol id
 * (patches/@chainsafe+discv5+11.0.0.patch), a raised socket receive buffer, and a transport that
 * counts packets and bytes and refuses any destination the admission policy rejects, as a last
 * line of defence below the crawl scheduler.
 */
import {createSocket, type Socket} from 'node:dgram'

import {Discv5, UDPTransportService, multiaddrFromSocketAddress} from '@chainsafe/discv5'
import {encodePacket, type IPacket} from '@chainsafe/discv5/packet'
import {SignableENR, type ENR} from '@chainsafe/enr'
import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import ipaddr from 'ipaddr.js'

import {BadInputError, UnreachableError} from '../errors.js'
import {DestinationPolicy} from '../net/index.js'
import {installDiscv5Crypto, installEnrVerifyCache} from './crypto-cache.js'

/** The library's multiaddr type (its own @multiformats/multiaddr 12 copy). */
/** The library's config type (not exported by name from its package entry). */
export type Discv5Config = NonNullable<Parameters<typeof Discv5.create>[0]['config']>

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

interface SocketSlot {
  socket?: Socket
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
    const self = this as unknown as {handleIncoming: (data: Buffer, rinfo: {address: string}) => void}
    const original = self.handleIncoming
    self.handleIncoming = (data, rinfo) => {
      this.counters.packetsIn++
      this.counters.bytesIn += data.length
      original(data, rinfo)
    }
    ;(this as unknown as NodeJS.EventEmitter).on('decodeError', () => {
      this.counters.decodeErrors++
    })
  }

  private get slots(): SocketSlot[] {
    const self = this as unknown as {ip4?: SocketSlot; ip6?: SocketSlot}
    return [self.ip4, self.ip6].filter((s): s is SocketSlot => s !== undefined)
  }

  /** The bound sockets (after start). */
  get sockets(): Socket[] {
    return this.slots.map((s) => s.socket).filter((s): s is Socket => s !== undefined)
  }

  /** The port actually bound (after start; the IPv4 one when both are). */
  get boundPort(): number {
    const socket = this.sockets[0]
    return socket ? socket.address().port : 0
  }

  /** The IPv6 socket's port when the transport is dual stack (after start). */
  get boundPort6(): number | undefined {
    const self = this as unknown as {ip4?: SocketSlot; ip6?: SocketSlot}
    return self.ip4 && self.ip6?.socket ? self.ip6.socket.address().port : undefined
  }

  /** Which families the transport speaks. */
  get families(): Array<4 | 6> {
    const self = this as unknown as {ip4?: SocketSlot; ip6?: SocketSlot}
    return [...(self.ip4 ? [4 as const] : []), ...(self.ip6 ? [6 as const] : [])]
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
    const slot = (this as unknown as {ip4?: SocketSlot; ip6?: SocketSlot})[family === 4 ? 'ip4' : 'ip6']
    const socket = slot?.socket
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
  if (options.staticTable) {
    ;(discv5 as unknown as {connectionUpdated: () => void}).connectionUpdated = () => {}
  }
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

interface TimeoutMapLike {
  timeouts: Map<unknown, NodeJS.Timeout>
  onTimeout?: (key: unknown, value: unknown) => void
  has(key: unknown): boolean
  get(key: unknown): unknown
  delete(key: unknown): boolean
  setTimeout(key: unknown, timeout: number): void
}

/** Which stage a timed-out request had reached. */
export type TimeoutPhase = 'challenge' | 'handshake' | 'session'

export interface RequestTimerOptions {
  /**
   * Timeout (ms) of a first contact still waiting for the remote's WHOAREYOU (the random packet's
   * answer, which costs the remote no crypto). Called per request with its node id; undefined or
   * a value ≥ the request timeout keeps the request timeout.
   */
  challengeTimeoutMs?: (nodeId: string) => number | undefined
  /** A WHOAREYOU answered our random packet after this many ms. */
  onChallenge?: (nodeId: string, rttMs: number) => void
  /** A request timed out at this stage. */
  onTimeout?: (nodeId: string, phase: TimeoutPhase) => void
}

interface RequestCallLike {
  initiatingSession?: boolean
  handshakeSent?: boolean
}

/**
 * Makes the library's request timeouts tolerant of a busy event loop. Node runs expired timers
 * before it reads the socket in each loop turn, so after a long busy stretch a request whose
 * answer is already waiting in the socket buffer times out anyway. Here an expired request
 * first lets one I/O phase run (setImmediate), and while the loop is lagging (lagMs() above
 * 100 ms) it is given up to three short extensions. Replaces `setTimeout` on the session
 * service's request map of this one instance.
 *
 * With `options.challengeTimeoutMs`, a first contact that has not had its WHOAREYOU yet times out
 * sooner than an established request: a silent (dead) address is then given up on without holding
 * the whole request timeout, while a live node, once it has answered the challenge, gets the full
 * timeout for the handshake and its reply.
 */
export function makeTimeoutsLagTolerant(discv5: Discv5, lagMs: () => number, options: RequestTimerOptions = {}): void {
  const map = (discv5 as unknown as {sessionService: {activeRequests: TimeoutMapLike}}).sessionService.activeRequests
  const extensions = new Map<unknown, number>()
  const challengeSentAt = new Map<unknown, number>()
  const nodeIdOf = (key: unknown) => String(key).split(':', 1)[0]!
  map.setTimeout = function (this: TimeoutMapLike, key: unknown, timeout: number) {
    const call = this.get(key) as RequestCallLike | undefined
    if (!call) return
    clearTimeout(this.timeouts.get(key))
    const awaitingChallenge = call.initiatingSession === true && call.handshakeSent !== true
    if (awaitingChallenge) {
      challengeSentAt.set(key, performance.now())
      const limit = options.challengeTimeoutMs?.(nodeIdOf(key))
      if (limit !== undefined && limit > 0 && limit < timeout) timeout = limit
    } else {
      const sentAt = challengeSentAt.get(key)
      if (sentAt !== undefined) {
        challengeSentAt.delete(key)
        if (call.handshakeSent === true) options.onChallenge?.(nodeIdOf(key), performance.now() - sentAt)
      }
    }
    const fire = () => {
      setImmediate(() => {
        if (!this.has(key)) {
          extensions.delete(key)
          challengeSentAt.delete(key)
          return
        }
        const used = extensions.get(key) ?? 0
        const lag = lagMs()
        if (lag > 100 && used < 3) {
          extensions.set(key, used + 1)
          this.timeouts.set(key, setTimeout(fire, Math.min(1000, 2 * lag)))
          return
        }
        extensions.delete(key)
        challengeSentAt.delete(key)
        const value = this.get(key) as RequestCallLike | undefined
        this.delete(key)
        options.onTimeout?.(nodeIdOf(key), value?.handshakeSent ? 'handshake' : value?.initiatingSession ? 'challenge' : 'session')
        this.onTimeout?.(key, value)
      })
    }
    this.timeouts.set(key, setTimeout(fire, timeout))
  }
}

/**
 * FINDNODE over a chosen address family. 11.0.0 always contacts a dual-stack record over IPv6
 * (createNodeContact reads the service's ipMode, IPv6 first); the crawler picks per node, so the
 * mode is narrowed for the one synchronous call that builds the contact, then restored.
 */
export function sendFindNodeVia(discv5: Discv5, enr: ENR, distances: number[], family: 4 | 6 | undefined): Promise<ENR[]> {
  const service = discv5 as unknown as {ipMode: {ip4: boolean; ip6: boolean}}
  const mode = service.ipMode
  if (family === undefined || !mode?.[family === 4 ? 'ip4' : 'ip6']) return discv5.sendFindNode(enr, distances)
  service.ipMode = {ip4: family === 4, ip6: family === 6}
  try {
    return discv5.sendFindNode(enr, distances)
  } finally {
    service.ipMode = mode
  }
}
