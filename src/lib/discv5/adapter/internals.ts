/**
 * Every private member of @chainsafe/discv5 11.0.0 that the discv5 crawler and node factory read
 * or replace at run time, each behind one typed accessor, and the start-up test of each
 * (MEMBER_CHECKS, run by check.ts on a node made through the library's own factory). No other
 * file of src/lib names private members: the testnet's misbehaving nodes replace their FINDNODE
 * handler through replaceFindNodeHandler too.
 */
import type {RemoteInfo, Socket} from 'node:dgram'

import type {Discv5, UDPTransportService} from '@chainsafe/discv5'
import type {ENR} from '@chainsafe/enr'

/** The library's per-family socket slot of UDPTransportService (`ip4` / `ip6`, socket set by start()). */
export interface SocketSlot {
  socket?: Socket
}

interface TransportInternals {
  ip4?: SocketSlot
  ip6?: SocketSlot
  /** Bound as the sockets' 'message' listener by start(): an instance property, read at start(). */
  handleIncoming: (data: Buffer, rinfo: RemoteInfo) => void
}

/** The library's TimeoutMap (util/timeoutMap.js) holding the session service's requests in flight. */
export interface RequestTimeoutMap {
  /** Private in the typings: the timer of each key. */
  timeouts: Map<unknown, NodeJS.Timeout>
  onTimeout?: (key: unknown, value: unknown) => void
  has(key: unknown): boolean
  get(key: unknown): unknown
  delete(key: unknown): boolean
  setTimeout(key: unknown, timeout: number): void
}

interface Discv5Internals {
  sessionService: {activeRequests: RequestTimeoutMap; transport: unknown; protocolId?: unknown; sendResponse: (nodeAddr: unknown, message: unknown) => void}
  /** Answers an incoming FINDNODE (an instance-bound handler the session service calls). */
  handleFindNode: (nodeAddr: unknown, message: {id: bigint; distances: number[]}) => void
  kbuckets: {valuesOfDistance: (distance: number) => ENR[]}
  /** Inserts peers that contacted us into the routing table and evicts failing ones. */
  connectionUpdated: (nodeId: string, status: unknown) => void
  /** The address families createNodeContact may use (shared with the transport's ipMode). */
  ipMode: {ip4: boolean; ip6: boolean}
}

const transportOf = (t: UDPTransportService) => t as unknown as TransportInternals
const discv5Of = (d: Discv5) => d as unknown as Discv5Internals

/** The transport's slot for a family, undefined when it does not bind that family. */
export function socketSlot(transport: UDPTransportService, family: 4 | 6): SocketSlot | undefined {
  return transportOf(transport)[family === 4 ? 'ip4' : 'ip6']
}

/** Calls `observe` for every datagram the transport's sockets receive. Call before start(). */
export function observeIncoming(transport: UDPTransportService, observe: (data: Buffer) => void): void {
  const self = transportOf(transport)
  const original = self.handleIncoming
  self.handleIncoming = (data, rinfo) => {
    observe(data)
    original(data, rinfo)
  }
}

/** The session service's requests in flight (their timers are what timeouts.ts replaces). */
export function activeRequestsOf(discv5: Discv5): RequestTimeoutMap {
  return discv5Of(discv5).sessionService.activeRequests
}

/**
 * Keeps the library from changing its routing table on its own: no insertion of peers that
 * contacted us (with full buckets that pings an eviction candidate, one handshake per contact)
 * and no removal on failures. Call before start().
 */
export function freezeRoutingTable(discv5: Discv5): void {
  discv5Of(discv5).connectionUpdated = () => {}
}

/**
 * FINDNODE over a chosen address family. 11.0.0 always contacts a dual-stack record over IPv6
 * (createNodeContact reads the service's ipMode, IPv6 first); the crawler picks per node, so the
 * mode is narrowed for the one synchronous call that builds the contact, then restored.
 */
export function sendFindNodeVia(discv5: Discv5, enr: ENR, distances: number[], family: 4 | 6 | undefined): Promise<ENR[]> {
  const service = discv5Of(discv5)
  const mode = service.ipMode
  if (family === undefined || !mode?.[family === 4 ? 'ip4' : 'ip6']) return discv5.sendFindNode(enr, distances)
  service.ipMode = {ip4: family === 4, ip6: family === 6}
  try {
    return discv5.sendFindNode(enr, distances)
  } finally {
    service.ipMode = mode
  }
}

/** How a replaced FINDNODE handler answers: NODES messages, and the node's own routing table. */
export interface FindNodeResponder {
  /** Sends one NODES message (`total` messages make up the answer) with these records. */
  reply(total: number, enrs: ENR[]): void
  /** The records in the node's own bucket at this log2 distance. */
  bucket(distance: number): ENR[]
}

/**
 * Replaces how a node answers FINDNODE (the testnet's liars: wrong distances, floods, forbidden
 * addresses). The handler gets the requested distances and a responder; call after start().
 */
export function replaceFindNodeHandler(discv5: Discv5, handler: (distances: number[], respond: FindNodeResponder) => void): void {
  const service = discv5Of(discv5)
  service.handleFindNode = (nodeAddr, message) => {
    handler(message.distances, {
      // 4 is the NODES message type of discv5 wire v5.1.
      reply: (total, enrs) => service.sessionService.sendResponse(nodeAddr, {type: 4, id: message.id, total, enrs}),
      bucket: (distance) => service.kbuckets.valuesOfDistance(distance),
    })
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null
const isFunction = (x: unknown): boolean => typeof x === 'function'

/**
 * What the accessors above need, tested on a node made by `Discv5.create` (not started) with an
 * IPv4 bind address and the default transport. Each returns the problem, or undefined.
 */
export const MEMBER_CHECKS: ReadonlyArray<{member: string; check: (discv5: unknown) => string | undefined}> = [
  {
    member: 'Discv5#connectionUpdated',
    check: (d) => (isObject(d) && isFunction(d['connectionUpdated']) ? undefined : 'no method Discv5#connectionUpdated (freezeRoutingTable)'),
  },
  {
    member: 'Discv5#ipMode',
    check: (d) =>
      isObject(d) && isObject(d['ipMode']) && typeof d['ipMode']['ip4'] === 'boolean' && typeof d['ipMode']['ip6'] === 'boolean'
        ? undefined
        : 'no {ip4, ip6} object Discv5#ipMode (sendFindNodeVia)',
  },
  {
    member: 'Discv5#sessionService.activeRequests',
    check: (d) => {
      const map = isObject(d) && isObject(d['sessionService']) ? d['sessionService']['activeRequests'] : undefined
      if (!isObject(map)) return 'no Discv5#sessionService.activeRequests (the request timer)'
      for (const m of ['setTimeout', 'get', 'has', 'delete', 'onTimeout']) {
        if (!isFunction(map[m])) return `no function activeRequests.${m} (the request timer)`
      }
      return map['timeouts'] instanceof Map ? undefined : 'no Map activeRequests.timeouts (the request timer)'
    },
  },
  {
    member: 'Discv5#handleFindNode, #kbuckets and sessionService.sendResponse',
    check: (d) => {
      if (!isObject(d) || !isFunction(d['handleFindNode'])) return 'no method Discv5#handleFindNode (replaceFindNodeHandler)'
      if (!isObject(d['kbuckets']) || !isFunction(d['kbuckets']['valuesOfDistance'])) return 'no Discv5#kbuckets.valuesOfDistance (replaceFindNodeHandler)'
      return isObject(d['sessionService']) && isFunction(d['sessionService']['sendResponse']) ? undefined : 'no function Discv5#sessionService.sendResponse (replaceFindNodeHandler)'
    },
  },
  {
    member: 'UDPTransportService#ip4 and #handleIncoming',
    check: (d) => {
      const t = isObject(d) && isObject(d['sessionService']) ? d['sessionService']['transport'] : undefined
      if (!isObject(t)) return 'no Discv5#sessionService.transport'
      if (!isObject(t['ip4'])) return 'no socket slot UDPTransportService#ip4 (GuardedTransport)'
      return isFunction(t['handleIncoming']) ? undefined : 'no instance function UDPTransportService#handleIncoming (the receive counters)'
    },
  },
]
