/**
 * libp2p listeners for testnet nodes (`testnet --libp2p`): the peers a crawl's visits dial. A
 * truthful listener announces exactly the protocols its ENR's waku2 bits promise and answers Waku
 * metadata with the record's cluster and shards. The others plant one lie or one dial failure
 * each, so tests and users can see every finding and failure class come back with its code.
 */
import {createServer, type Server, type Socket} from 'node:net'
import {randomBytes} from 'node:crypto'

import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {generateKeyPair, privateKeyFromRaw} from '@libp2p/crypto/keys'
import {identify} from '@libp2p/identify'
import type {Libp2p} from '@libp2p/interface'
import {mplex} from '@libp2p/mplex'
import {ping} from '@libp2p/ping'
import {tcp} from '@libp2p/tcp'
import {createLibp2p} from 'libp2p'

import {decodeMetadata, encodeMetadata} from '../caps/metadata-codec.js'
import {IDENTIFY_PROTOCOL, METADATA_PROTOCOL, WAKU_PROTOCOLS} from '../libp2p/protocols.js'
import {readFrame, writeFrame} from '../libp2p/stream.js'
import {WAKU_CAPS, type WakuProfile} from './records.js'

/** How a node's libp2p side behaves. */
export type Libp2pRole =
  | 'truthful'
  | 'wrong-claims'
  | 'wrong-cluster'
  | 'wrong-peer-id'
  | 'closed-port'
  | 'silent-tcp'
  | 'garbage-tcp'
  | 'slow-identify'

export const LIBP2P_LIE_ROLES: readonly Libp2pRole[] = ['wrong-claims', 'wrong-cluster', 'wrong-peer-id', 'closed-port', 'silent-tcp', 'garbage-tcp', 'slow-identify']

/** What each role makes a visit report (the tests check these; the README lists them). */
export const LIBP2P_ROLE_EXPECTATION: Record<Libp2pRole, {finding?: string; errorClass?: string}> = {
  truthful: {},
  'wrong-claims': {finding: 'ENR_PROTOCOL_MISSING'},
  'wrong-cluster': {finding: 'CLUSTER_MISMATCH'},
  'wrong-peer-id': {errorClass: 'peer-id-mismatch'},
  'closed-port': {errorClass: 'connection-refused'},
  'silent-tcp': {errorClass: 'timeout'},
  'garbage-tcp': {errorClass: 'negotiation-failed'},
  'slow-identify': {errorClass: 'timeout'},
}

export const TESTNET_AGENT = 'waku-disc-testnet/1.0'

/** Protocol ids for waku2 bits (the current version of each). */
const BIT_PROTOCOLS: Record<(typeof WAKU_CAPS)[number], string[]> = {
  relay: [WAKU_PROTOCOLS.relay],
  store: [WAKU_PROTOCOLS.storeV3],
  filter: [WAKU_PROTOCOLS.filterSubscribe],
  lightpush: [WAKU_PROTOCOLS.lightpushV3],
  sync: [WAKU_PROTOCOLS.syncReconciliation, WAKU_PROTOCOLS.syncTransfer],
}

export interface ListenerSpec {
  role: Libp2pRole
  /** The node's key (hex); the libp2p identity is the ENR's unless the role lies about it. */
  privateKey: string
  profile: WakuProfile
  host: string
  /** Shards the testnet draws from (a wrong-claims listener serves one outside the record). */
  shardCount: number
  /** Wait this long before each metadata answer (benchmarks: a stand-in for WAN latency). */
  answerDelayMs?: number
}

export interface RunningListener {
  role: Libp2pRole
  /** The port the ENR's tcp field gets. */
  port: number
  stop(): Promise<void>
}

/** What a listener announces and serves for its role: [protocol ids, metadata cluster, metadata shards]. */
export function listenerClaims(spec: Pick<ListenerSpec, 'role' | 'profile' | 'shardCount'>): {protocols: string[]; clusterId: number; shards: number[]} {
  const claimed = WAKU_CAPS.filter((_, bit) => (spec.profile.caps >> bit) & 1)
  let served: string[] = [...claimed]
  let shards = [...spec.profile.shards]
  let clusterId = spec.profile.cluster
  if (spec.role === 'wrong-claims') {
    // Drops the last capability the record claims, serves one it does not, and swaps a shard.
    served = claimed.slice(0, -1)
    const unclaimed = WAKU_CAPS.find((c) => !claimed.includes(c))
    if (unclaimed) served.push(unclaimed)
    shards = [...shards.slice(1), spec.shardCount]
  }
  if (spec.role === 'wrong-cluster') clusterId = (clusterId + 1) % 65_536
  const protocols = served.flatMap((c) => BIT_PROTOCOLS[c as keyof typeof BIT_PROTOCOLS])
  return {protocols: [...protocols, METADATA_PROTOCOL], clusterId, shards}
}

export async function startListener(spec: ListenerSpec): Promise<RunningListener> {
  switch (spec.role) {
    case 'closed-port': {
      // A port that was free a moment ago: the host answers, nothing listens (RST).
      const server = await listenRaw(spec.host, () => {})
      const port = portOf(server)
      await new Promise<void>((resolve) => server.close(() => resolve()))
      return {role: spec.role, port, stop: async () => {}}
    }
    case 'silent-tcp':
    case 'garbage-tcp': {
      const sockets = new Set<Socket>()
      const server = await listenRaw(spec.host, (socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
        socket.on('close', () => sockets.delete(socket))
        if (spec.role === 'garbage-tcp') socket.end(randomBytes(96))
      })
      return {
        role: spec.role,
        port: portOf(server),
        stop: async () => {
          for (const s of sockets) s.destroy()
          await new Promise<void>((resolve) => server.close(() => resolve()))
        },
      }
    }
    default:
      return startLibp2pListener(spec)
  }
}

async function startLibp2pListener(spec: ListenerSpec): Promise<RunningListener> {
  const privateKey = spec.role === 'wrong-peer-id' ? await generateKeyPair('secp256k1') : privateKeyFromRaw(Uint8Array.from(Buffer.from(spec.privateKey, 'hex')))
  const slow = spec.role === 'slow-identify'
  const node: Libp2p = await createLibp2p({
    privateKey,
    addresses: {listen: [`/${spec.host.includes(':') ? 'ip6' : 'ip4'}/${spec.host}/tcp/0`]},
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    connectionMonitor: {enabled: false},
    connectionManager: {inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000},
    nodeInfo: {userAgent: TESTNET_AGENT},
    services: {
      ...(slow ? {} : {identify: identify({runOnConnectionOpen: false})}),
      ping: ping(),
    },
  })
  const claims = listenerClaims(spec)
  for (const id of claims.protocols) {
    if (id === METADATA_PROTOCOL) continue
    await node.handle(id, async (stream) => void (await stream.close().catch(() => undefined)))
  }
  await node.handle(METADATA_PROTOCOL, async (stream) => {
    try {
      const signal = AbortSignal.timeout(5000)
      const frame = await readFrame(stream, {maxBytes: 1024, signal, what: 'metadata request'})
      decodeMetadata(frame.message, 'metadata request')
      if (spec.answerDelayMs) await new Promise((resolve) => setTimeout(resolve, spec.answerDelayMs))
      await writeFrame(stream, encodeMetadata(claims.clusterId, claims.shards, 'nwaku'), signal)
      await stream.close({signal})
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  if (slow) {
    // Accepts identify and never answers: the visitor's budget must end it.
    await node.handle(IDENTIFY_PROTOCOL, async (stream) => {
      await new Promise((resolve) => setTimeout(resolve, 60_000).unref())
      stream.abort(new Error('slow identify gave up'))
    })
  }
  const addr = node.getMultiaddrs().map(String).find((a) => a.includes('/tcp/'))!
  return {role: spec.role, port: Number(/\/tcp\/(\d+)/.exec(addr)![1]), stop: async () => {
      await node.stop()
    }}
}

async function listenRaw(host: string, onSocket: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onSocket)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  return server
}

function portOf(server: Server): number {
  const a = server.address()
  return typeof a === 'object' && a ? a.port : 0
}
