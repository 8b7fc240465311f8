/**
 * Hosts a share of a testnet's nodes (in the calling thread or inside a worker thread): honest
 * @chainsafe/discv5 responders, dead nodes (advertised, never listening), and misbehaving ones.
 */
import {createSocket, type Socket} from 'node:dgram'
import {randomBytes} from 'node:crypto'

import {log2Distance, type Discv5} from '@chainsafe/discv5'
import {ENR, SignableENR} from '@chainsafe/enr'

import {replaceFindNodeHandler} from '../discv5/adapter/index.js'
import {startNode, type StartedNode} from '../discv5/node.js'
import {startListener, type Libp2pRole, type RunningListener} from './libp2p.js'
import {seededRandom, wakuEntries, type WakuProfile} from './records.js'

/** How a node behaves. Liars answer but lie, stay silent, send garbage or flood. */
export type NodeRole = 'honest' | 'dead' | 'silent' | 'garbage' | 'wrong-distance' | 'flood' | 'bad-address'

export const LIAR_ROLES: readonly NodeRole[] = ['silent', 'garbage', 'wrong-distance', 'flood', 'bad-address']

export interface HostedNodeSpec {
  index: number
  privateKey: string // hex
  role: NodeRole
  waku?: WakuProfile
  /** A libp2p listener (honest discv5 Waku nodes only); its port becomes the record's tcp. */
  libp2p?: Libp2pRole
  /** Address family: IPv4 (default), IPv6 only (host6), or both sockets (dual stack). */
  family?: 4 | 6 | 'dual'
}

export interface HostInit {
  protocolId: string
  host: string
  /** IPv6 loopback for nodes of family 6 or dual (default ::1). */
  host6?: string
  nodes: HostedNodeSpec[]
  seed: number
  /** Shards the Waku profiles draw from (listeners lying about shards serve one beyond). */
  shardCount?: number
  /** Listeners wait this long before each metadata answer (benchmarks). */
  listenerDelayMs?: number
  /** Only nodes with a libp2p listener name a tcp port (set when the testnet runs listeners). */
  tcpOnlyForListeners?: boolean
}

export interface HostedNodeInfo {
  index: number
  enr: string
  nodeId: string
  port: number
  /** The libp2p listener's port (the record's tcp), when the node has one. */
  tcpPort?: number
  /** The record's parts, so other hosts can rebuild it without re-checking our own signature. */
  parts: RecordParts
}

/** An ENR's content (structured-clone safe). */
export interface RecordParts {
  kvs: Array<[string, Uint8Array]>
  seq: bigint
  signature: Uint8Array
}

function partsOf(enr: ENR): RecordParts {
  return {kvs: [...enr.kvs.entries()], seq: enr.seq, signature: enr.signature}
}

/** Addresses a `bad-address` liar advertises for made-up neighbours: all must be refused by default. */
const FORBIDDEN_ENDPOINTS: ReadonlyArray<[string, number]> = [
  ['10.0.0.7', 30303],
  ['192.168.1.20', 9000],
  ['172.16.5.5', 9000],
  ['100.64.0.9', 9000],
  ['169.254.169.254', 9000],
  ['224.0.0.251', 5353],
  ['239.255.255.250', 19000],
  ['255.255.255.255', 9000],
  ['0.0.0.0', 9000],
  ['192.0.2.33', 9000],
  ['198.51.100.8', 9000],
  ['203.0.113.77', 9000],
  ['127.0.0.1', 53],
  ['127.0.0.1', 123],
  ['127.0.0.1', 1024],
  ['240.0.0.1', 9000],
]

interface Hosted {
  spec: HostedNodeSpec
  node?: StartedNode
  socket?: Socket
  listener?: RunningListener
  enr: string
  nodeId: string
  port: number
  parts: RecordParts
}

function keyBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

async function bindRaw(host: string): Promise<Socket> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, host, () => resolve())
  })
  socket.on('error', () => {})
  return socket
}

function staticEnr(spec: HostedNodeSpec, host: string, port: number, withTcp: boolean): ENR {
  const enr = SignableENR.createV4(keyBytes(spec.privateKey), spec.waku ? wakuEntries(spec.waku) : {})
  if (host.includes(':')) {
    enr.ip6 = host
    enr.udp6 = port
    if (withTcp) enr.tcp6 = port
  } else {
    enr.ip = host
    enr.udp = port
    if (withTcp) enr.tcp = port
  }
  return enr.toENR()
}

export class TestnetHost {
  private readonly hosted: Hosted[] = []
  private fakes: ENR[] = []

  constructor(private readonly init: HostInit) {}

  /** Binds every node of this host and returns their records. */
  async start(): Promise<HostedNodeInfo[]> {
    const {protocolId} = this.init
    const host6 = this.init.host6 ?? '::1'
    for (const spec of this.init.nodes) {
      // Dead and raw liars have one socket: a dual-stack one is given the IPv4 one.
      const host = spec.family === 6 ? host6 : this.init.host
      if (spec.role === 'dead' || spec.role === 'silent' || spec.role === 'garbage') {
        const socket = await bindRaw(host)
        const port = socket.address().port
        const enr = staticEnr(spec, host, port, !this.init.tcpOnlyForListeners)
        if (spec.role === 'dead') {
          await new Promise<void>((resolve) => socket.close(() => resolve()))
          this.hosted.push({spec, enr: enr.encodeTxt(), nodeId: enr.nodeId, port, parts: partsOf(enr)})
        } else {
          if (spec.role === 'garbage') {
            socket.on('message', (_msg, rinfo) => {
              const junk = randomBytes(63 + Math.floor(Math.random() * 400))
              socket.send(junk, rinfo.port, rinfo.address)
            })
          }
          this.hosted.push({spec, socket, enr: enr.encodeTxt(), nodeId: enr.nodeId, port, parts: partsOf(enr)})
        }
        continue
      }
      const listener =
        spec.libp2p && spec.waku
          ? await startListener({role: spec.libp2p, privateKey: spec.privateKey, profile: spec.waku, host, shardCount: this.init.shardCount ?? 8, answerDelayMs: this.init.listenerDelayMs})
          : undefined
      // A node with a listener is dialled at its tcp port; its made-up wss name is left out.
      const entries = spec.waku ? wakuEntries(listener ? {...spec.waku, multiaddrs: []} : spec.waku) : {}
      if (listener) delete entries.multiaddrs
      const node = await startNode({
        privateKey: keyBytes(spec.privateKey),
        protocolId,
        bindHost: host,
        ...(spec.family === 'dual' ? {bindHost6: host6} : {}),
        advertise: true,
        staticTable: true,
        enrEntries: entries,
        // Without a listener a record names no tcp port a visit would find closed (when listeners run).
        ...(listener ? {tcpPort: listener.port} : this.init.tcpOnlyForListeners ? {tcpPort: null} : {}),
        // lru-cache preallocates its capacity: keep it small per node (crawlers + a few pings).
        config: {sessionCacheCapacity: 256, requestTimeout: 2000},
        recvBufferSize: 1024 * 1024,
      })
      this.hosted.push({spec, node, listener, enr: node.enrText, nodeId: node.nodeId, port: node.port, parts: partsOf(node.discv5.enr.toENR())})
    }
    return this.hosted.map((h) => ({index: h.spec.index, enr: h.enr, nodeId: h.nodeId, port: h.port, ...(h.listener ? {tcpPort: h.listener.port} : {}), parts: h.parts}))
  }

  /** Fills every live node's routing table with the other records, in a random order per node. */
  seed(records: RecordParts[]): void {
    // Records this testnet signed itself: rebuilt without a second signature check.
    const decoded = records.map((r) => new ENR(new Map(r.kvs), r.seq, r.signature))
    const rand = seededRandom(this.init.seed)
    if (this.hosted.some((h) => h.spec.role === 'bad-address')) this.fakes = makeFakes(rand)
    const order = decoded.map((_, i) => i)
    for (const h of this.hosted) {
      if (!h.node) continue
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1))
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
      for (const i of order) {
        const enr = decoded[i]!
        if (enr.nodeId === h.nodeId) continue
        h.node.discv5.addEnr(enr)
      }
      this.installBehaviour(h)
    }
  }

  private installBehaviour(h: Hosted): void {
    const discv5 = h.node!.discv5
    const role = h.spec.role
    if (role === 'honest') return
    const own = discv5.enr.toENR()
    replaceFindNodeHandler(discv5, (distances, respond) => {
      if (distances.includes(0)) return respond.reply(1, [own])
      const asked = distances[0] ?? 256
      switch (role) {
        case 'wrong-distance': {
          // Neighbours from other buckets than the ones asked for.
          const other = asked === 256 ? 255 : 256
          respond.reply(1, respond.bucket(other).slice(0, 3))
          return
        }
        case 'flood': {
          const real = respond.bucket(asked).slice(0, 3)
          const total = 60
          for (let i = 0; i < total; i++) respond.reply(total, real)
          return
        }
        case 'bad-address': {
          const lies = this.fakes.filter((f) => log2Distance(f.nodeId, h.nodeId) === asked).slice(0, 3)
          respond.reply(2, lies)
          respond.reply(2, respond.bucket(asked).slice(0, 3))
          return
        }
        default:
          return
      }
    })
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.hosted.map(async (h) => {
        if (h.node) await h.node.stop().catch(() => {})
        if (h.listener) await h.listener.stop().catch(() => {})
        if (h.socket) await new Promise<void>((resolve) => h.socket!.close(() => resolve()))
      }),
    )
  }

  /**
   * A live node re-signs its record with these entries (seq goes up); the other nodes' tables keep
   * the old one, as after a restart with a new address. Returns the new record, or undefined when
   * this host does not run that node.
   */
  updateRecord(nodeId: string, entries: Record<string, Uint8Array>): {enr: string; seq: string} | undefined {
    const h = this.hosted.find((x) => x.nodeId === nodeId && x.node)
    if (!h) return undefined
    const enr = h.node!.discv5.enr
    for (const [k, v] of Object.entries(entries)) enr.set(k, v)
    h.enr = enr.encodeTxt()
    return {enr: h.enr, seq: enr.seq.toString()}
  }

  /** The live discv5 instances (tests use them to observe traffic). */
  get liveNodes(): Discv5[] {
    return this.hosted.flatMap((h) => (h.node ? [h.node.discv5] : []))
  }
}

/** Signed records of made-up nodes at forbidden addresses (shared by every bad-address liar). */
function makeFakes(rand: () => number): ENR[] {
  const out: ENR[] = []
  for (let i = 0; i < 96; i++) {
    const [ip, port] = FORBIDDEN_ENDPOINTS[Math.floor(rand() * FORBIDDEN_ENDPOINTS.length)]!
    const enr = SignableENR.createV4(new Uint8Array(randomKey()))
    enr.ip = ip
    enr.udp = port
    out.push(enr.toENR())
  }
  return out
}

/** A random valid secp256k1 private key. */
export function randomKey(): Uint8Array {
  for (;;) {
    const k = randomBytes(32)
    // Reject 0 and values ≥ n (n starts with 0xffff…fffe): astronomically rare, cheap to check.
    if (k.some((b) => b !== 0) && k[0]! < 0xff) return new Uint8Array(k)
  }
}
