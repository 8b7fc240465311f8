/**
 * The libp2p node waku-disc dials (and, for `px serve` and the test peers, listens) with:
 * tcp and websockets (ws, wss) transports, dns4/dns6 addresses, noise, yamux and mplex (js-waku
 * and older nwaku speak only mplex), identify and ping.
 */
import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {generateKeyPair} from '@libp2p/crypto/keys'
import {identify, type Identify} from '@libp2p/identify'
import type {Libp2p, PrivateKey} from '@libp2p/interface'
import {mplex} from '@libp2p/mplex'
import {ping, type Ping} from '@libp2p/ping'
import {tcp} from '@libp2p/tcp'
import {webSockets} from '@libp2p/websockets'
import {multiaddr} from '@multiformats/multiaddr'
import {createLibp2p} from 'libp2p'

import {encodeMetadata, decodeMetadata} from '../caps/metadata-codec.js'
import {BadInputError, ConfigError, UnreachableError} from '../errors.js'
import {METADATA_PROTOCOL} from './protocols.js'
import {readFrame, writeFrame} from './stream.js'

export type ProbeServices = {identify: Identify; ping: Ping}
export type ProbeNode = Libp2p<ProbeServices>

/** js-libp2p's own cap (8 KiB); also what go-libp2p allows for a signed identify. */
export const MAX_IDENTIFY_BYTES = 8 * 1024

export interface ProbeNodeOptions {
  /** Addresses to listen on (none for a pure client). */
  listen?: string[]
  /** The node's key; a fresh secp256k1 key (like Waku nodes) by default. */
  privateKey?: PrivateKey
  /** identify's agent string. */
  agentVersion?: string
  /** Per-dial timeout inside libp2p (our own AbortSignals also apply). */
  dialTimeoutMs?: number
  /** TLS options for a wss listener (`/ws` listeners stay plain). */
  https?: {cert: string; key: string}
  /**
   * Answer Waku metadata requests (nwaku drops peers that don't, and peers whose cluster differs).
   * `clusterId` undefined = echo the cluster the remote announces in its request.
   */
  metadata?: {clusterId?: number; shards?: number[]} | false
}

export const DEFAULT_AGENT = 'waku-disc'

/** Creates and starts a node. Call `node.stop()` when done. */
export async function createProbeNode(options: ProbeNodeOptions = {}): Promise<ProbeNode> {
  for (const a of options.listen ?? []) {
    try {
      multiaddr(a)
    } catch (err) {
      throw new BadInputError('BAD_LISTEN_ADDRESS', `--listen ${a}: not a valid multiaddr (${(err as Error).message})`, {
        cause: err,
        hint: 'e.g. /ip4/127.0.0.1/tcp/60000 or /ip4/127.0.0.1/tcp/60001/ws',
      })
    }
  }
  const privateKey = options.privateKey ?? (await generateKeyPair('secp256k1'))
  let node: ProbeNode
  try {
    node = await createLibp2p({
      privateKey,
      addresses: {listen: options.listen ?? []},
      transports: [tcp(), webSockets(options.https ? {https: options.https} : {})],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux(), mplex()],
      connectionManager: {
        dialTimeout: options.dialTimeoutMs ?? 10_000,
        // A fleet check opens many connections to many hosts at once, often all on loopback.
        maxConnections: 1024,
        maxParallelDials: 256,
        inboundConnectionThreshold: 1000,
        maxIncomingPendingConnections: 256,
      },
      connectionMonitor: {enabled: false},
      nodeInfo: {userAgent: options.agentVersion ?? DEFAULT_AGENT},
      services: {
        // We run identify ourselves, under our deadline, instead of on every new connection.
        identify: identify({runOnConnectionOpen: false, maxMessageSize: MAX_IDENTIFY_BYTES, timeout: 10_000}),
        ping: ping(),
      },
    })
  } catch (err) {
    throw listenError(err)
  }
  if (options.metadata !== false) await serveMetadata(node, options.metadata ?? {})
  return node
}

/**
 * libp2p reports listen failures as one multi-line message with a stack per address; turn it into
 * one line per failed address (bind failures exit 4 like every other server of ours).
 */
function listenError(err: unknown): Error {
  const message = (err as Error)?.message ?? String(err)
  const failed = [...message.matchAll(/^\s*(\/\S+): (?:\w*Error: )?(.+)$/gm)].map((m) => `${m[1]}: ${m[2]!.replace(/^listen /, '')}`)
  if (failed.length > 0 && failed.every((f) => /No transport/i.test(f))) {
    return new BadInputError('UNSUPPORTED_LISTEN_ADDRESS', `cannot listen on ${failed.map((f) => f.split(': ')[0]).join(', ')}: only tcp and tcp/ws(s) listeners are supported`, {cause: err})
  }
  if (failed.length > 0) {
    return new UnreachableError('BIND_FAILED', `cannot listen on ${failed.join('; ')}`, {
      cause: err,
      hint: 'pick a free port (0 = any) on an address of this host',
    })
  }
  return new ConfigError('LISTEN_FAILED', `cannot start the libp2p node: ${message.split('\n')[0]}`, {
    cause: err,
    hint: 'check the --listen multiaddrs (e.g. /ip4/127.0.0.1/tcp/60000 and /ip4/127.0.0.1/tcp/60001/ws)',
  })
}

/** Largest metadata message (nwaku's RpcResponseMaxBytes). */
export const MAX_METADATA_BYTES = 1024

async function serveMetadata(node: ProbeNode, mine: {clusterId?: number; shards?: number[]}): Promise<void> {
  await node.handle(METADATA_PROTOCOL, async (stream) => {
    try {
      const signal = AbortSignal.timeout(5000)
      const frame = await readFrame(stream, {maxBytes: MAX_METADATA_BYTES, signal, what: 'metadata request'})
      const theirs = decodeMetadata(frame.message, 'metadata request')
      const clusterId = mine.clusterId ?? theirs.clusterId
      await writeFrame(stream, encodeMetadata(clusterId, mine.shards ?? (mine.clusterId === undefined ? theirs.shards : []), 'nwaku'), signal)
      await stream.close({signal})
    } catch (err) {
      stream.abort(err as Error)
    }
  })
}
