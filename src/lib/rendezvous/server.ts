/**
 * A rendezvous point on its own libp2p node, following nim-libp2p's GenericRendezVous (which
 * nwaku runs with WakuPeerRecord): REGISTER checks the namespace (1–255 bytes), the TTL bounds,
 * the signed record (its peer id must be the registering connection's peer) and a per-peer cap, in
 * that order; UNREGISTER gets no answer; DISCOVER pages through registrations in arrival order with
 * nim-libp2p's cookie (cookie.ts) so nim clients can page too. One request per stream, like nwaku.
 * The registrations themselves are kept by registry.ts; the client side of REGISTER and UNREGISTER
 * is register.ts.
 */
import type {Connection, PrivateKey, Stream} from '@libp2p/interface'

import {BadInputError, ConfigError, isWakuDiscError} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {readFrame, writeFrame} from '../libp2p/stream.js'
import {LIBP2P_RENDEZVOUS_PROTOCOL, MAX_NAMESPACE_LENGTH, MAX_RENDEZVOUS_LIMIT, MIN_NAMESPACE_LENGTH, WAKU_RENDEZVOUS_PROTOCOL} from './client.js'
import {
  RENDEZVOUS_MESSAGE_TYPE,
  RENDEZVOUS_STATUS,
  decodeRendezvousMessage,
  encodeDiscoverResponse,
  encodeRegisterResponse,
  rendezvousMessageTypeName,
  rendezvousStatusName,
  type RendezvousRegister,
} from './codec.js'
import {openWakuPeerRecord, type OpenedWakuPeerRecord} from './record.js'
import {RendezvousRegistry, type RendezvousRegistrationInfo} from './registry.js'

/** The Waku spec's registration lifetime, and what nwaku grants a REGISTER without a ttl. */
export const DEFAULT_WAKU_RENDEZVOUS_TTL_SECONDS = 60
/** nim-libp2p's MinimumAcceptedDuration (lowered from the libp2p spec's 2 h for Waku). */
export const MIN_RENDEZVOUS_TTL_SECONDS = 60
/** The libp2p spec's and nim-libp2p's maximum: 72 h. */
export const MAX_RENDEZVOUS_TTL_SECONDS = 72 * 3600
/** nim-libp2p's RegistrationLimitPerPeer. */
export const DEFAULT_MAX_REGISTRATIONS_PER_PEER = 1000
/** nwaku reads a request with readLp(4096). */
export const MAX_RENDEZVOUS_REQUEST_BYTES = 4096

export interface RendezvousServeEvent {
  type: 'register' | 'unregister' | 'discover' | 'invalid'
  at: string
  peer: string
  remoteAddr: string
  protocol: string
  namespace?: string
  status?: number
  statusName?: string
  statusText?: string
  /** Registrations sent (discover). */
  served?: number
  error?: string
}

export interface RendezvousServerOptions {
  listen: string[]
  privateKey?: PrivateKey
  /** Granted to a REGISTER without a ttl (default 60 s, the Waku spec's). */
  defaultTtlSeconds?: number
  /** Default 60 s (nim-libp2p's lower bound for Waku). */
  minTtlSeconds?: number
  /** Default 72 h. */
  maxTtlSeconds?: number
  /** Live registrations one peer may hold (default 1000). */
  maxRegistrationsPerPeer?: number
  /** Most registrations per DISCOVER page (default 1000). */
  maxDiscoverLimit?: number
  /** Protocol ids served (default both /vac/waku/rendezvous/1.0.0 and /rendezvous/1.0.0). */
  protocols?: string[]
  acceptLegacyPayloadType?: boolean
  /** Clock in ms (tests inject one to expire registrations). */
  now?: () => number
  onEvent?: (event: RendezvousServeEvent) => void
  requestTimeoutMs?: number
  metadata?: {clusterId?: number; shards?: number[]}
}

export interface RendezvousServeStats {
  requests: number
  registered: number
  discovered: number
  byStatus: Record<string, number>
}

export interface RendezvousServer {
  node: ProbeNode
  peerId: string
  /** Listen addresses with /p2p/<peer id>. */
  addresses: string[]
  protocols: string[]
  /** Seeds a registration without a connection (the record is still verified). */
  add(namespace: string, signedPeerRecord: Uint8Array, ttlSeconds?: number): Promise<RendezvousRegistrationInfo>
  registrations(namespace?: string): RendezvousRegistrationInfo[]
  stats(): RendezvousServeStats
  stop(): Promise<void>
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new BadInputError('BAD_OPTION', `${name} must be a positive integer, got ${value}`)
  return value
}

class RegisterRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** Starts a rendezvous point on its own libp2p node. */
export async function startRendezvousServer(options: RendezvousServerOptions): Promise<RendezvousServer> {
  if (options.listen.length === 0) throw new ConfigError('NO_LISTEN', 'a rendezvous point needs at least one --listen multiaddr')
  const minTtl = positiveInteger(options.minTtlSeconds ?? MIN_RENDEZVOUS_TTL_SECONDS, 'minimum TTL')
  const maxTtl = positiveInteger(options.maxTtlSeconds ?? MAX_RENDEZVOUS_TTL_SECONDS, 'maximum TTL')
  const defaultTtl = positiveInteger(options.defaultTtlSeconds ?? Math.max(minTtl, Math.min(DEFAULT_WAKU_RENDEZVOUS_TTL_SECONDS, maxTtl)), 'default TTL')
  if (minTtl > maxTtl) throw new BadInputError('BAD_OPTION', `minimum TTL ${minTtl} s exceeds the maximum ${maxTtl} s`)
  if (defaultTtl < minTtl || defaultTtl > maxTtl) throw new BadInputError('BAD_OPTION', `default TTL ${defaultTtl} s is outside ${minTtl}–${maxTtl} s`)
  const maxPerPeer = positiveInteger(options.maxRegistrationsPerPeer ?? DEFAULT_MAX_REGISTRATIONS_PER_PEER, 'registrations per peer')
  const maxLimit = positiveInteger(options.maxDiscoverLimit ?? MAX_RENDEZVOUS_LIMIT, 'discover limit')
  const protocols = options.protocols ?? [WAKU_RENDEZVOUS_PROTOCOL, LIBP2P_RENDEZVOUS_PROTOCOL]
  if (protocols.length === 0 || protocols.some((p) => !p.startsWith('/'))) throw new BadInputError('BAD_PROTOCOL', 'protocol ids must start with /')
  const now = options.now ?? Date.now
  const registry = new RendezvousRegistry(now)
  const stats: RendezvousServeStats = {requests: 0, registered: 0, discovered: 0, byStatus: {}}
  const open = (bytes: Uint8Array) => openWakuPeerRecord(bytes, {acceptLegacyPayloadType: options.acceptLegacyPayloadType ?? false})

  /** The nim-libp2p checks, in its order; resolves to the registration or a refusal with its status. */
  const admit = async (register: RendezvousRegister, peer: string | undefined): Promise<RendezvousRegistrationInfo & {ttlSeconds: number}> => {
    const nsLength = new TextEncoder().encode(register.ns).length
    if (nsLength < MIN_NAMESPACE_LENGTH || nsLength > MAX_NAMESPACE_LENGTH) {
      throw new RegisterRefusal(RENDEZVOUS_STATUS.E_INVALID_NAMESPACE, `namespace must be ${MIN_NAMESPACE_LENGTH}–${MAX_NAMESPACE_LENGTH} bytes, got ${nsLength}`)
    }
    const ttl = register.ttl ?? BigInt(defaultTtl)
    if (ttl < BigInt(minTtl) || ttl > BigInt(maxTtl)) throw new RegisterRefusal(RENDEZVOUS_STATUS.E_INVALID_TTL, `ttl ${ttl} s is outside ${minTtl}–${maxTtl} s`)
    let record: OpenedWakuPeerRecord
    try {
      record = await open(register.signedPeerRecord)
    } catch (err) {
      if (!isWakuDiscError(err)) throw err
      throw new RegisterRefusal(RENDEZVOUS_STATUS.E_INVALID_SIGNED_PEER_RECORD, err.message)
    }
    if (peer !== undefined && record.peerId !== peer) {
      throw new RegisterRefusal(RENDEZVOUS_STATUS.E_INVALID_SIGNED_PEER_RECORD, `the record is for ${record.peerId}, not the registering peer ${peer}`)
    }
    const replacing = registry.list(register.ns).some((r) => r.peerId === record.peerId)
    if (!replacing && registry.countFor(record.peerId) >= maxPerPeer) {
      throw new RegisterRefusal(RENDEZVOUS_STATUS.E_NOT_AUTHORIZED, `registration limit (${maxPerPeer}) reached`)
    }
    return registry.put(register.ns, register.signedPeerRecord, record, Number(ttl))
  }

  const count = (status: number) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
  }

  const handler = async (stream: Stream, connection: Connection, protocol: string): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const event: RendezvousServeEvent = {type: 'invalid', at: new Date(now()).toISOString(), peer, remoteAddr: connection.remoteAddr.toString(), protocol}
    const signal = AbortSignal.timeout(options.requestTimeoutMs ?? 5000)
    let answer: Uint8Array | undefined
    try {
      const frame = await readFrame(stream, {maxBytes: MAX_RENDEZVOUS_REQUEST_BYTES, signal, what: 'rendezvous request'})
      stats.requests++
      const message = decodeRendezvousMessage(frame.message, 'rendezvous request')
      if (message.type === RENDEZVOUS_MESSAGE_TYPE.REGISTER && message.register) {
        event.type = 'register'
        event.namespace = message.register.ns
        try {
          const admitted = await admit(message.register, peer)
          event.status = RENDEZVOUS_STATUS.OK
          stats.registered++
          answer = encodeRegisterResponse({status: RENDEZVOUS_STATUS.OK, ttl: BigInt(admitted.ttlSeconds)})
        } catch (err) {
          if (!(err instanceof RegisterRefusal)) throw err
          event.status = err.status
          event.statusText = err.message
          answer = encodeRegisterResponse({status: err.status, statusText: err.message})
        }
      } else if (message.type === RENDEZVOUS_MESSAGE_TYPE.UNREGISTER && message.unregister) {
        event.type = 'unregister'
        event.namespace = message.unregister.ns
        event.served = registry.remove(message.unregister.ns, peer)
      } else if (message.type === RENDEZVOUS_MESSAGE_TYPE.DISCOVER) {
        // Every Discover field is optional, so a missing body is a request for everything.
        const discover = message.discover ?? {}
        event.type = 'discover'
        if (discover.ns !== undefined) event.namespace = discover.ns
        const outcome = registry.discover(discover, maxLimit)
        event.status = outcome.status
        if (outcome.statusText) event.statusText = outcome.statusText
        event.served = outcome.registrations.length
        stats.discovered += outcome.registrations.length
        answer = encodeDiscoverResponse(outcome)
      } else {
        // Like nwaku: an answer type, or a request without its body, is dropped without a reply.
        event.error = `unexpected ${rendezvousMessageTypeName(message.type) ?? `message type ${message.type}`}${message.type === RENDEZVOUS_MESSAGE_TYPE.REGISTER || message.type === RENDEZVOUS_MESSAGE_TYPE.UNREGISTER ? ' without its body' : ''}`
      }
    } catch (err) {
      event.error = (err as Error).message
    }
    if (event.status !== undefined) {
      event.statusName = rendezvousStatusName(event.status) ?? String(event.status)
      count(event.status)
    }
    try {
      if (answer) await writeFrame(stream, answer, signal)
      await stream.close({signal})
    } catch (err) {
      event.error ??= `answer not delivered: ${(err as Error).message}`
      stream.abort(err as Error)
    }
    options.onEvent?.(event)
  }

  const node = await createProbeNode({listen: options.listen, privateKey: options.privateKey, agentVersion: 'waku-disc rendezvous', metadata: options.metadata ?? {}})
  for (const protocol of protocols) {
    await node.handle(protocol, (stream, connection) => handler(stream, connection, protocol), {maxInboundStreams: 64})
  }
  return {
    node,
    peerId: node.peerId.toString(),
    addresses: node.getMultiaddrs().map((a) => a.toString()),
    protocols: [...protocols],
    add: async (namespace, signedPeerRecord, ttlSeconds) => {
      try {
        return await admit({ns: namespace, signedPeerRecord, ...(ttlSeconds !== undefined ? {ttl: BigInt(ttlSeconds)} : {})}, undefined)
      } catch (err) {
        if (!(err instanceof RegisterRefusal)) throw err
        throw new BadInputError(`RENDEZVOUS_${rendezvousStatusName(err.status) ?? err.status}`, `cannot add the registration to ${namespace}: ${err.message}`)
      }
    },
    registrations: (namespace) => registry.list(namespace),
    stats: () => ({...stats, byStatus: {...stats.byStatus}}),
    stop: async () => {
      await node.stop()
    },
  }
}
