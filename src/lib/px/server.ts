/**
 * `px serve`: a peer-exchange responder that hands out random records from a node set the way nwaku
 * does (waku/waku_peer_exchange/protocol.nim): at most `min(numPeers, maxPeers)` records chosen at
 * random, status 200 / 400 (unreadable request) / 429 (per-peer rate limit) / 503 (nothing to give),
 * one length-prefixed answer, then the stream is closed.
 */
import type {Connection, PrivateKey, Stream} from '@libp2p/interface'

import {BadInputError, ConfigError} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {PEER_EXCHANGE_PROTOCOL} from '../libp2p/protocols.js'
import {readFrame, writeFrame} from '../libp2p/stream.js'
import {PX_STATUS, decodeRpc, encodeResponse, pxStatusName} from './codec.js'

/** nwaku's MaxPeersCacheSize: never more than 60 records per answer. */
export const NWAKU_MAX_PX_PEERS = 60
/** A request is a few bytes; nwaku allows a whole RPC but nothing legitimate needs more than this. */
const MAX_REQUEST_BYTES = 1024

export interface RateLimit {
  /** Requests allowed per peer in each period. */
  requests: number
  periodMs: number
}

/** Parses nwaku's rate-limit syntax `<volume>/<n><h|m|s|ms>` (e.g. `10/1m`, `5/30s`). */
export function parseRateLimit(text: string): RateLimit {
  const m = /^\s*(\d+)\s*\/\s*(\d+)?\s*(ms|s|m|h)\s*$/.exec(text)
  if (!m) throw new BadInputError('BAD_RATE_LIMIT', `rate limit must look like 10/1m or 5/30s (nwaku's <volume>/<period>), got ${JSON.stringify(text)}`)
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[m[3] as 'ms' | 's' | 'm' | 'h']
  const periodMs = Number(m[2] ?? '1') * unit
  const requests = Number(m[1])
  if (requests < 1 || periodMs < 1) throw new BadInputError('BAD_RATE_LIMIT', `rate limit ${text}: volume and period must be positive`)
  return {requests, periodMs}
}

export interface PxServeEvent {
  type: 'request'
  at: string
  peer: string
  remoteAddr: string
  requested?: string
  served: number
  status: number
  statusName: string
  error?: string
}

export interface PxServerOptions {
  /** Records to serve, as RLP bytes (from a node set). */
  records: readonly Uint8Array[]
  listen: string[]
  privateKey?: PrivateKey
  /** Cap per answer (default 60, like nwaku). */
  maxPeers?: number
  rateLimit?: RateLimit
  /** Random source in [0, 1) (tests inject a seeded one). */
  random?: () => number
  now?: () => number
  onEvent?: (event: PxServeEvent) => void
  /** Time allowed for the request to arrive. */
  requestTimeoutMs?: number
  /** What the node answers on Waku metadata (default: echo the asking peer's cluster, so nwaku keeps us). */
  metadata?: {clusterId?: number; shards?: number[]}
}

export interface PxServer {
  node: ProbeNode
  peerId: string
  /** Listen addresses with /p2p/<peer id>. */
  addresses: string[]
  stats(): PxServeStats
  stop(): Promise<void>
}

export interface PxServeStats {
  requests: number
  served: number
  byStatus: Record<string, number>
}

/** Picks `k` distinct items at random (partial Fisher–Yates). */
export function sample<T>(items: readonly T[], k: number, random: () => number = Math.random): T[] {
  const copy = [...items]
  const n = Math.min(k, copy.length)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, n)
}

/** Starts the responder on its own libp2p node (tcp and ws as given in `listen`). */
export async function startPxServer(options: PxServerOptions): Promise<PxServer> {
  if (options.listen.length === 0) throw new ConfigError('NO_LISTEN', 'px serve needs at least one --listen multiaddr')
  const node = await createProbeNode({listen: options.listen, privateKey: options.privateKey, agentVersion: 'waku-disc px serve', metadata: options.metadata ?? {}})
  const maxPeers = options.maxPeers ?? NWAKU_MAX_PX_PEERS
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  const windows = new Map<string, {start: number; count: number}>()
  const stats: PxServeStats = {requests: 0, served: 0, byStatus: {}}

  const limited = (peer: string): boolean => {
    const limit = options.rateLimit
    if (!limit) return false
    const t = now()
    // Forget finished windows now and then, so a stream of fresh peer ids cannot grow the map forever.
    if (windows.size > 10_000) for (const [k, v] of windows) if (t - v.start >= limit.periodMs) windows.delete(k)
    const w = windows.get(peer)
    if (!w || t - w.start >= limit.periodMs) {
      windows.set(peer, {start: t, count: 1})
      return false
    }
    w.count++
    return w.count > limit.requests
  }

  const handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const event: PxServeEvent = {type: 'request', at: new Date(now()).toISOString(), peer, remoteAddr: connection.remoteAddr.toString(), served: 0, status: 0, statusName: ''}
    let answer: Uint8Array
    try {
      const frame = await readFrame(stream, {maxBytes: MAX_REQUEST_BYTES, signal: AbortSignal.timeout(options.requestTimeoutMs ?? 5000), what: 'peer-exchange request'})
      const rpc = decodeRpc(frame.message, 'peer-exchange request')
      if (!rpc.query) throw new Error('request has no query (field 1)')
      event.requested = rpc.query.numPeers.toString()
      if (limited(peer)) {
        event.status = PX_STATUS.TOO_MANY_REQUESTS
        answer = encodeResponse({enrs: [], statusCode: PX_STATUS.TOO_MANY_REQUESTS, statusDesc: 'exceeds the rate limit'})
      } else {
        const want = Number(rpc.query.numPeers > BigInt(maxPeers) ? BigInt(maxPeers) : rpc.query.numPeers)
        const chosen = sample(options.records, want, random)
        event.served = chosen.length
        event.status = chosen.length > 0 ? PX_STATUS.SUCCESS : PX_STATUS.SERVICE_UNAVAILABLE
        answer = encodeResponse({
          enrs: chosen,
          statusCode: event.status,
          ...(chosen.length === 0 ? {statusDesc: 'no records to share'} : {}),
        })
      }
    } catch (err) {
      event.status = PX_STATUS.BAD_REQUEST
      event.error = (err as Error).message
      answer = encodeResponse({enrs: [], statusCode: PX_STATUS.BAD_REQUEST, statusDesc: 'malformed request'})
    }
    event.statusName = pxStatusName(event.status) ?? String(event.status)
    try {
      await writeFrame(stream, answer, AbortSignal.timeout(5000))
      await stream.close({signal: AbortSignal.timeout(5000)})
    } catch (err) {
      event.error ??= `answer not delivered: ${(err as Error).message}`
      stream.abort(err as Error)
    }
    stats.requests++
    stats.served += event.served
    stats.byStatus[event.status] = (stats.byStatus[event.status] ?? 0) + 1
    options.onEvent?.(event)
  }
  await node.handle(PEER_EXCHANGE_PROTOCOL, handler, {maxInboundStreams: 64})
  const peerId = node.peerId.toString()
  return {
    node,
    peerId,
    addresses: node.getMultiaddrs().map((a) => a.toString()),
    stats: () => ({...stats, byStatus: {...stats.byStatus}}),
    stop: async () => {
      await node.stop()
    },
  }
}
