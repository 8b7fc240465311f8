/**
 * Our Waku endpoints: js-waku relay nodes (@waku/sdk 0.0.27, installed as `waku-relay-sdk`: the
 * current @waku/sdk has no relay node). A signalling endpoint listens nowhere, discovers nothing and
 * has no bootstrap list: it dials the one node it is given and relays on one pubsub topic. A
 * local network (`webrtc waku-net`) is N such nodes listening on loopback WebSockets, dialled in a
 * line.
 */
import {multiaddr} from '@multiformats/multiaddr'
import ipaddr from 'ipaddr.js'
import {createDecoder, createEncoder, type IDecodedMessage} from 'waku-relay-sdk'
import {createRelayNode} from 'waku-relay-sdk/relay'

import {abortError, BadInputError, UnreachableError} from '../../errors.js'
import {dialableMultiaddrs, parseEnr} from '../../enr/index.js'
import {pause} from '../../pause.js'

export const DEFAULT_CLUSTER = 1
export const DEFAULT_SHARD = 0

export function pubsubTopicOf(cluster: number, shard: number): string {
  if (!Number.isInteger(cluster) || cluster < 0 || cluster > 65535) throw new BadInputError('BAD_CLUSTER', `--cluster must be 0-65535, got ${cluster}`)
  if (!Number.isInteger(shard) || shard < 0 || shard > 1023) throw new BadInputError('BAD_SHARD', `--shard must be 0-1023, got ${shard}`)
  return `/waku/2/rs/${cluster}/${shard}`
}

const isWebsocket = (ma: string) => /\/(ws|wss|tls\/ws)(\/|$)/.test(ma)

/**
 * `--waku-node`: a multiaddr with /p2p/ over WebSockets, or an ENR one of whose addresses
 * (`multiaddrs`, or ip+tcp) is a WebSocket one. Returns the multiaddr to dial.
 */
export function parseWakuNode(input: string): string {
  const text = input.trim()
  if (text.startsWith('enr:')) {
    let candidates: string[]
    try {
      candidates = dialableMultiaddrs(parseEnr(text))
    } catch (err) {
      throw new BadInputError('BAD_WAKU_NODE', `--waku-node ENR does not parse: ${(err as Error).message.slice(0, 120)}`)
    }
    const ws = candidates.filter(isWebsocket)
    if (!ws.length) {
      throw new BadInputError('WAKU_NODE_NO_WEBSOCKET', `--waku-node ENR has no WebSocket address (it has ${candidates.join(', ') || 'no addresses'}); js-waku in Node dials only /ws or /wss`, {
        hint: 'give the node’s WebSocket multiaddr, e.g. /ip4/HOST/tcp/8000/ws/p2p/<peer id>',
      })
    }
    return ws[0]!
  }
  let ma
  try {
    ma = multiaddr(text)
  } catch (err) {
    throw new BadInputError('BAD_WAKU_NODE', `--waku-node must be a multiaddr (/ip4/HOST/tcp/PORT/ws/p2p/ID) or an ENR: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`)
  }
  const s = ma.toString()
  if (!/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(s)) throw new BadInputError('WAKU_NODE_NO_PEER_ID', `--waku-node ${s} must end in /p2p/<peer id>`)
  if (!isWebsocket(s)) throw new BadInputError('WAKU_NODE_NO_WEBSOCKET', `--waku-node ${s} is not a WebSocket address (js-waku in Node dials only /ws or /wss)`)
  return s
}

/** The parts of js-waku 0.0.27's KeepAliveManager that stop() works around (see there). */
interface KeepAliveInternals {
  start: (peerId: unknown) => void
  pingKeepAliveTimers?: Map<unknown, NodeJS.Timeout>
  relayKeepAliveTimers?: Map<unknown, NodeJS.Timeout[]>
}

export interface WakuEndpoint {
  peerId: string
  /** Where it listens (with /p2p/), empty for a signalling endpoint. */
  multiaddrs: string[]
  pubsubTopic: string
  publish(contentTopic: string, payload: Uint8Array): Promise<number>
  subscribe(contentTopic: string, onMessage: (payload: Uint8Array, contentTopic: string) => void): () => void
  /** Our addresses as the nodes we are connected to reported them (libp2p identify). */
  observedAddresses(): string[]
  meshPeers(): string[]
  /** Dials a node and waits until it is in our relay mesh for the pubsub topic. */
  connect(target: string, options?: {signal?: AbortSignal; timeoutMs?: number}): Promise<void>
  stop(): Promise<void>
}

export interface WakuEndpointOptions {
  cluster?: number
  shard?: number
  /** Listen addresses, e.g. `/ip4/127.0.0.1/tcp/0/ws` (none for a signalling endpoint). */
  listen?: string[]
}


export async function startWakuEndpoint(options: WakuEndpointOptions = {}): Promise<WakuEndpoint> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER
  const shard = options.shard ?? DEFAULT_SHARD
  const pubsubTopic = pubsubTopicOf(cluster, shard)
  const node = await createRelayNode({
    networkConfig: {clusterId: cluster, shards: [shard]},
    defaultBootstrap: false,
    libp2p: {
      addresses: {listen: options.listen ?? []},
      peerDiscovery: [],
      // js-waku's default filter dials only wss; and without this it prints banners on the console.
      filterMultiaddrs: false,
      hideWebSocketInfo: true,
    },
  })
  const observed = new Set<string>()
  node.libp2p.addEventListener('peer:identify', (e) => {
    const a = e.detail.observedAddr?.toString()
    const m = a && /^\/ip[46]\/([^/]+)\/tcp\/(\d+)/.exec(a)
    if (!m) return
    let ip = m[1]!
    if (ipaddr.isValid(ip)) {
      const parsed = ipaddr.parse(ip)
      ip = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address().toString() : parsed.toString()
    }
    observed.add(ip.includes(':') ? `[${ip}]:${m[2]}` : `${ip}:${m[2]}`)
  })
  // js-waku 0.0.27 leaks per-peer keep-alive intervals (see stop()): make each one unref'd as it
  // is made, so none can keep the process alive whatever path leaks it.
  const keepAlive = (node as unknown as {connectionManager?: {keepAliveManager?: KeepAliveInternals}}).connectionManager?.keepAliveManager
  if (keepAlive) {
    const start = keepAlive.start.bind(keepAlive)
    keepAlive.start = (peer) => {
      start(peer)
      for (const t of keepAlive.pingKeepAliveTimers?.values() ?? []) t.unref()
      for (const ts of keepAlive.relayKeepAliveTimers?.values() ?? []) for (const t of ts) t.unref()
    }
  }
  await node.start()
  const relay = node.relay!
  const peerId = node.libp2p.peerId.toString()
  return {
    peerId,
    multiaddrs: node.libp2p.getMultiaddrs().map((m) => m.toString()),
    pubsubTopic,
    async publish(contentTopic, payload) {
      // Ephemeral: store nodes on a real network do not keep signalling messages.
      const r = await relay.send(createEncoder({contentTopic, pubsubTopic, ephemeral: true}), {payload}).catch((err: Error) => ({successes: [], failures: [{error: err.message}]}))
      if (r.failures?.length && !r.successes.length) throw new UnreachableError('WAKU_PUBLISH_FAILED', `publishing on ${contentTopic} failed: ${String(r.failures[0]!.error)}`)
      return r.successes.length
    },
    subscribe(contentTopic, onMessage) {
      const decoder = createDecoder(contentTopic, pubsubTopic)
      const unsubscribe = relay.subscribeWithUnsubscribe([decoder], (m: IDecodedMessage) => {
        if (m.payload) onMessage(m.payload, m.contentTopic)
      })
      return () => {
        void Promise.resolve(unsubscribe).then((u) => u())
      }
    },
    observedAddresses: () => [...observed],
    meshPeers: () => relay.getMeshPeers(pubsubTopic),
    async connect(target, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 15_000
      const deadline = Date.now() + timeoutMs
      const targetPeer = /\/p2p\/([^/]+)$/.exec(target)?.[1]
      try {
        await Promise.race([
          node.dial(target),
          pause(timeoutMs, opts.signal).then(() => {
            throw opts.signal?.aborted ? abortError(opts.signal, 'connecting to the Waku node') : new UnreachableError('WAKU_UNREACHABLE', `no connection to the Waku node ${target} within ${Math.round(timeoutMs / 1000)} s`)
          }),
        ])
      } catch (err) {
        if (err instanceof UnreachableError || opts.signal?.aborted) throw opts.signal?.aborted ? abortError(opts.signal, 'connecting to the Waku node') : err
        throw new UnreachableError('WAKU_UNREACHABLE', `cannot connect to the Waku node ${target}: ${(err as Error).message.split('\n')[0]!.slice(0, 160)}`, {cause: err})
      }
      // Relay forwards only to mesh peers: wait until the node is in ours (one gossipsub heartbeat).
      while (!relay.getMeshPeers(pubsubTopic).some((p) => !targetPeer || p === targetPeer)) {
        if (opts.signal?.aborted) throw abortError(opts.signal, 'joining the Waku relay mesh')
        if (Date.now() > deadline) {
          throw new UnreachableError('WAKU_NO_MESH', `connected to ${target}, but it did not join our relay mesh for ${pubsubTopic} within ${Math.round(timeoutMs / 1000)} s`, {
            hint: 'is it a relay node on the same cluster and shard (--cluster, --shard)?',
          })
        }
        await pause(100, opts.signal)
      }
    },
    async stop() {
      // js-waku 0.0.27 leaks its per-peer keep-alive intervals (5 min, not unref'd), which would
      // keep the process alive after a run: its stop() removes the peer:disconnect listener that
      // clears them before closing connections, its stopAll() iterates the Maps with
      // Object.values (nothing), and a peer:connect handler still in flight can start one after
      // the disconnect. So: no new timers from now on, hang up, stop, then clear what is left.
      if (keepAlive) keepAlive.start = () => {}
      await Promise.all(node.libp2p.getConnections().map((c) => c.close().catch(() => {})))
      await node.stop().catch(() => {})
      await new Promise((resolve) => setImmediate(resolve))
      for (const t of keepAlive?.pingKeepAliveTimers?.values() ?? []) clearInterval(t)
      for (const ts of keepAlive?.relayKeepAliveTimers?.values() ?? []) for (const t of ts) clearInterval(t)
    },
  }
}

export interface WakuNetwork {
  pubsubTopic: string
  nodes: {peerId: string; multiaddr: string}[]
  stop(): Promise<void>
}

/**
 * A local js-waku relay network: `count` nodes listening on `host` (WebSockets on free ports),
 * node i+1 dialling node i, ready once every link is in both nodes' meshes.
 */
export async function startWakuNetwork(options: {nodes?: number; host?: string; cluster?: number; shard?: number; signal?: AbortSignal} = {}): Promise<WakuNetwork> {
  const count = options.nodes ?? 3
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new BadInputError('BAD_NODE_COUNT', `--nodes must be 1-64, got ${count}`)
  const host = options.host ?? '127.0.0.1'
  const family = host.includes(':') ? 'ip6' : 'ip4'
  if (!/^[0-9.]+$|:/.test(host)) throw new BadInputError('BAD_LISTEN', `--listen must be an IP address, got "${host.slice(0, 60)}"`)
  const endpoints: WakuEndpoint[] = []
  const stop = async () => {
    await Promise.all(endpoints.map((e) => e.stop()))
  }
  try {
    for (let i = 0; i < count; i++) {
      endpoints.push(await startWakuEndpoint({cluster: options.cluster, shard: options.shard, listen: [`/${family}/${host}/tcp/0/ws`]}))
    }
    for (let i = 1; i < count; i++) await endpoints[i]!.connect(endpoints[i - 1]!.multiaddrs[0]!, {signal: options.signal})
  } catch (err) {
    await stop()
    throw err
  }
  return {
    pubsubTopic: endpoints[0]!.pubsubTopic,
    nodes: endpoints.map((e) => ({peerId: e.peerId, multiaddr: e.multiaddrs.find((m) => m.includes('/ws')) ?? e.multiaddrs[0]!})),
    stop,
  }
}
