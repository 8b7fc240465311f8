/**
 * Discovery sources beside the DHT for a testnet (`testnet --dns --px --rendezvous`): an EIP-1459
 * tree served by our DNS server, a peer-exchange responder, and a Waku rendezvous point, each on
 * loopback and each holding its own subset of the nodes. A share of what the DNS tree and the PX
 * responder hold is stale (the same node, an older seq), as with nwaku's PX handing out a
 * restarted node's old record; a crawl comparing sources must find exactly those.
 */
import {privateKeyFromRaw} from '@libp2p/crypto/keys'

import {startDnsServer, zoneFromTxt, type DnsServerHandle} from '../dns/server.js'
import {makeTree} from '../dns/tree.js'
import {encodeEnr, parseEnr, type EnrRecord} from '../enr/index.js'
import {generatePrivateKey} from '../keys/index.js'
import {startPxServer, type PxServer} from '../px/server.js'

export type SourceName = 'dns' | 'px' | 'rendezvous'

export interface SourceNodeInput {
  index: number
  nodeId: string
  enr: string
  /** Hex secp256k1 key (to sign an older record of the same node). */
  privateKey: string
  live: boolean
  waku: boolean
  /** The libp2p listener's address when it has one (rendezvous registers those). */
  tcpPort?: number
  cluster?: number
  shards?: number[]
  /** In no routing table: the DNS tree (else the PX responder) always holds it. */
  hidden?: boolean
}

export interface TestnetSourcesOptions {
  dns?: boolean
  px?: boolean
  rendezvous?: boolean
  host: string
  rand: () => number
  signal?: AbortSignal
}

/** What the testnet prints for its sources (the crawl's --enrtree/--dns-server/--px/--rendezvous). */
export interface TestnetSourcesDescription {
  dns?: {url: string; server: string; records: number; stale: number}
  px?: {multiaddr: string; records: number; stale: number}
  rendezvous?: {multiaddr: string; registrations: number; namespaces: string[]}
}

export interface RunningSources {
  description: TestnetSourcesDescription
  /** node index → source → what it holds for the node. */
  membership: Map<number, Partial<Record<SourceName, 'current' | 'stale'>>>
  stop(): Promise<void>
}

/** Hook for the rendezvous point (set by rendezvous support; absent = `--rendezvous` refused). */
export interface RendezvousSeeder {
  start(host: string, nodes: SourceNodeInput[], namespacesOf: (n: SourceNodeInput) => string[]): Promise<{multiaddr: string; registrations: number; namespaces: string[]; stop(): Promise<void>}>
}

const DNS_SHARE = 0.6
const PX_SHARE = 0.4
const STALE_SHARE = 0.25
const RENDEZVOUS_SHARE = 0.5

function pick<T>(items: readonly T[], share: number, rand: () => number): T[] {
  return items.filter(() => rand() < share)
}

/** The node's record one seq older (same key, same fields), or undefined when its seq is 0. */
function olderRecord(n: SourceNodeInput): EnrRecord | undefined {
  const current = parseEnr(n.enr)
  if (current.seq === 0n) return undefined
  return encodeEnr({privateKey: Uint8Array.from(Buffer.from(n.privateKey, 'hex')), from: current, seq: current.seq - 1n})
}

export async function startTestnetSources(nodes: SourceNodeInput[], options: TestnetSourcesOptions, rendezvous?: RendezvousSeeder): Promise<RunningSources> {
  const membership = new Map<number, Partial<Record<SourceName, 'current' | 'stale'>>>()
  const mark = (n: SourceNodeInput, source: SourceName, state: 'current' | 'stale') => membership.set(n.index, {...membership.get(n.index), [source]: state})
  const stops: Array<() => Promise<void>> = []
  const description: TestnetSourcesDescription = {}
  // Node 0 (the bootnode) is left out of every source: what a source knows alone must be findable.
  const waku = nodes.filter((n) => n.waku && n.index !== 0)
  const recordsFor = (chosen: SourceNodeInput[], source: SourceName): {records: EnrRecord[]; stale: number} => {
    let stale = 0
    const records = chosen.map((n) => {
      const old = options.rand() < STALE_SHARE ? olderRecord(n) : undefined
      mark(n, source, old ? 'stale' : 'current')
      if (old) stale++
      return old ?? parseEnr(n.enr)
    })
    return {records, stale}
  }
  try {
    const forced = (source: SourceName) => (n: SourceNodeInput) => n.hidden === true && (source === 'dns' || !options.dns)
    if (options.dns) {
      const {records, stale} = recordsFor(waku.filter((n) => forced('dns')(n) || options.rand() < DNS_SHARE), 'dns')
      const domain = 'nodes.testnet.example'
      const tree = makeTree(1n, records, [])
      const url = tree.sign(generatePrivateKey(), domain)
      const server: DnsServerHandle = await startDnsServer([zoneFromTxt(domain, tree.toTxt(domain))], {listen: `${options.host.includes(':') ? `[${options.host}]` : options.host}:0`, signal: options.signal})
      stops.push(() => server.close())
      description.dns = {url, server: `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`, records: records.length, stale}
    }
    if (options.px) {
      const {records, stale} = recordsFor(waku.filter((n) => forced('px')(n) || options.rand() < PX_SHARE), 'px')
      const px: PxServer = await startPxServer({
        records: records.map((r) => r.raw),
        listen: [`/${options.host.includes(':') ? 'ip6' : 'ip4'}/${options.host}/tcp/0`],
        privateKey: privateKeyFromRaw(generatePrivateKey()),
        random: options.rand,
      })
      stops.push(() => px.stop())
      description.px = {multiaddr: px.addresses[0]!, records: records.length, stale}
    }
    if (options.rendezvous) {
      if (!rendezvous) throw new Error('rendezvous support is not available')
      const listening = waku.filter((n) => n.tcpPort !== undefined && n.live)
      const chosen = pick(listening, RENDEZVOUS_SHARE, options.rand)
      for (const n of chosen) mark(n, 'rendezvous', 'current')
      // Every node registers per shard (the older spec); every other one also as a mix node (the current one).
      const namespacesOf = (n: SourceNodeInput) => [...(n.index % 2 === 0 ? [`rs/${n.cluster}/mix`] : []), ...(n.shards ?? []).map((s) => `rs/${n.cluster}/${s}`)]
      const point = await rendezvous.start(options.host, chosen, namespacesOf)
      stops.push(() => point.stop())
      description.rendezvous = {multiaddr: point.multiaddr, registrations: point.registrations, namespaces: point.namespaces}
    }
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined)
    throw err
  }
  return {
    description,
    membership,
    stop: async () => {
      for (const stop of stops) await stop().catch(() => undefined)
    },
  }
}
