/**
 * A local discv5 network on loopback for demos, tests and benchmarks (the `testnet` command and
 * `crawl --testnet`).
 *
 * N nodes, a share of them with Waku ENRs (caps, cluster, shards, multiaddrs), the rest plain;
 * routing tables filled directly (every node `addEnr`s every other record in its own random
 * order, so buckets hold a uniform sample: no warm-up lookups), optional dead nodes (advertised,
 * in tables, never listening) and liars (silent, garbage, wrong distances, NODES floods, records
 * pointing at forbidden addresses). Large networks are spread over worker threads so that a
 * crawler in the main thread keeps its own core.
 */
import {cpus} from 'node:os'
import {Worker} from 'node:worker_threads'

import {BadInputError} from '../errors.js'
import {resolveProtocolId} from '../discv5/protocol.js'
import {LIAR_ROLES, TestnetHost, randomKey, type HostInit, type HostedNodeInfo, type HostedNodeSpec, type NodeRole, type RecordParts} from './host.js'
import {LIBP2P_LIE_ROLES, type Libp2pRole} from './libp2p.js'
import {badTestnetOption, checkFraction, type TestnetOptions} from './options.js'
import {rendezvousSeeder} from './rendezvous.js'
import {startTestnetSources, type RunningSources, type SourceName, type SourceNodeInput, type TestnetSourcesDescription} from './sources.js'
import {randomWakuProfile, seededRandom, WAKU_CAPS} from './records.js'

export {LIAR_ROLES, type NodeRole} from './host.js'
export {badTestnetOption, type TestnetOptions} from './options.js'
export type {SourceName, TestnetSourcesDescription} from './sources.js'
export {LIBP2P_LIE_ROLES, LIBP2P_ROLE_EXPECTATION, TESTNET_AGENT, listenerClaims, type Libp2pRole} from './libp2p.js'


export interface TestnetNode {
  index: number
  nodeId: string
  enr: string
  port: number
  role: NodeRole
  /** True when the node listens (honest or liar). */
  live: boolean
  waku: boolean
  caps?: string[]
  cluster?: number
  shards?: number[]
  /** The node's libp2p listener: how it behaves, and the tcp port its record names. */
  libp2p?: {role: Libp2pRole; tcpPort: number}
  /** Address family of its record: 4, 6, or 'dual' (both). */
  family: 4 | 6 | 'dual'
  /** In no routing table (with dns/px sources): only those sources know the node. */
  hidden?: boolean
  /** Which of the testnet's other sources hold the node, and whether their record is its current one. */
  inSources?: Partial<Record<SourceName, 'current' | 'stale'>>
}

/** What `testnet --json` prints once the network is up. */
export interface TestnetDescription {
  protocolId: string
  host: string
  /** ENR of node 0 (honest, Waku): give it to `crawl --bootnode`. */
  bootnode: string
  counts: {nodes: number; live: number; honest: number; dead: number; liars: number; waku: number; liveWaku: number; libp2p: number}
  liarRoles: Partial<Record<NodeRole, number>>
  libp2pRoles: Partial<Record<Libp2pRole, number>>
  /** With dns/px/rendezvous: where each source listens and what it holds. */
  sources?: TestnetSourcesDescription
  workers: number
  startupMs: number
  nodes: TestnetNode[]
}

export interface Testnet extends TestnetDescription {
  stop(): Promise<void>
  /**
   * A live node re-signs its record with these entries (its seq goes up); every other node's table
   * keeps the old record, so only asking the node itself (FINDNODE [0]) shows the new one.
   */
  updateRecord(nodeId: string, entries: Record<string, Uint8Array>): Promise<{enr: string; seq: string}>
  /** Hosts running in this thread (workers = 0), for tests that inspect nodes. */
  readonly localHosts: readonly TestnetHost[]
}

interface HostHandle {
  start(): Promise<HostedNodeInfo[]>
  seed(records: RecordParts[]): Promise<void>
  update(nodeId: string, entries: Record<string, Uint8Array>): Promise<{enr: string; seq: string} | undefined>
  stop(): Promise<void>
}

const HIDDEN_SHARE = 0.05

function localHandle(init: HostInit, hosts: TestnetHost[]): HostHandle {
  const host = new TestnetHost(init)
  hosts.push(host)
  return {
    start: () => host.start(),
    seed: async (records) => host.seed(records),
    update: async (nodeId, entries) => host.updateRecord(nodeId, entries),
    stop: () => host.stop(),
  }
}

function workerUrl(): {url: URL; execArgv: string[]} {
  const here = import.meta.url
  if (here.endsWith('.ts')) return {url: new URL('./worker.ts', here), execArgv: ['--import', 'tsx']}
  return {url: new URL('./worker.js', here), execArgv: []}
}

function workerHandle(init: HostInit): HostHandle {
  const {url, execArgv} = workerUrl()
  const worker = new Worker(url, {workerData: init, execArgv})
  let exited = false
  worker.once('exit', () => {
    exited = true
  })
  const next = (want: string) =>
    new Promise<{type: string; nodes?: HostedNodeInfo[]; message?: string; result?: {enr: string; seq: string}}>((resolve, reject) => {
      const onMessage = (msg: {type: string; message?: string}) => {
        if (msg.type !== want && msg.type !== 'error') return
        cleanup()
        if (msg.type === 'error') reject(new Error(`testnet worker: ${msg.message}`))
        else resolve(msg)
      }
      const onError = (err: Error) => {
        cleanup()
        reject(err)
      }
      const onExit = (code: number) => {
        cleanup()
        reject(new Error(`testnet worker exited with code ${code}`))
      }
      const cleanup = () => {
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onExit)
      }
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onExit)
    })
  const ready = next('ready')
  ready.catch(() => {})
  return {
    start: async () => (await ready).nodes!,
    seed: async (records) => {
      const done = next('seeded')
      worker.postMessage({type: 'seed', records})
      await done
    },
    update: async (nodeId, entries) => {
      const done = next('updated')
      worker.postMessage({type: 'update', nodeId, entries})
      return (await done).result
    },
    stop: async () => {
      if (exited) return
      const done = next('stopped').catch(() => {})
      worker.postMessage({type: 'stop'})
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))])
      await worker.terminate()
    },
  }
}

function shuffled<T>(items: T[], rand: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Starts a testnet; resolves once every node listens and every routing table is filled. */
export async function startTestnet(options: TestnetOptions): Promise<Testnet> {
  const started = Date.now()
  const n = options.nodes
  if (!Number.isInteger(n) || n < 1 || n > 5000) throw badTestnetOption(['nodes'], 'must be an integer from 1 to 5000', n)
  const wakuShare = checkFraction('wakuShare', options.wakuShare, 0.8)
  const deadShare = checkFraction('dead', options.dead, 0, 0.9)
  const liarShare = checkFraction('liars', options.liars, 0, 0.9)
  if (deadShare + liarShare > 0.95) throw badTestnetOption(['dead', 'liars'], 'must leave some honest nodes (at most 0.95 together)')
  const libp2pShare = checkFraction('libp2p', options.libp2p, 0)
  const libp2pLies = checkFraction('libp2pLies', options.libp2pLies, 0)
  const v6Share = checkFraction('ipv6', options.ipv6, 0)
  const dualShare = checkFraction('dualStack', options.dualStack, 0)
  if (v6Share + dualShare > 1) throw badTestnetOption(['ipv6', 'dualStack'], 'cannot exceed 1')
  const host6 = options.host6 ?? '::1'
  if (host6 !== '::1') throw new BadInputError('TESTNET_NOT_LOOPBACK', `the IPv6 host ${host6} is not ::1`)
  const cluster = options.cluster ?? 1
  const shardCount = options.shards ?? 8
  if (!Number.isInteger(cluster) || cluster < 0 || cluster > 65_535) throw badTestnetOption(['cluster'], 'must be 0–65535', cluster)
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 64) throw badTestnetOption(['shards'], 'must be 1–64', shardCount)
  const protocolId = resolveProtocolId('waku', options.protocolId)
  const host = options.host ?? '127.0.0.1'
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const rand = seededRandom(seed)
  const workers = Math.max(0, Math.min(options.workers ?? (n >= 200 ? 1 : 0), cpus().length * 2, n))

  // Roles: node 0 is the honest Waku bootnode; dead and liar roles go to a random subset of the rest.
  const roles: NodeRole[] = Array.from({length: n}, () => 'honest')
  const others = Array.from({length: n - 1}, (_, i) => i + 1)
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[others[i], others[j]] = [others[j]!, others[i]!]
  }
  const deadCount = Math.round(deadShare * n)
  const liarCount = Math.round(liarShare * n)
  others.slice(0, deadCount).forEach((i) => (roles[i] = 'dead'))
  others.slice(deadCount, deadCount + liarCount).forEach((i, k) => (roles[i] = LIAR_ROLES[k % LIAR_ROLES.length]!))

  const specs: HostedNodeSpec[] = roles.map((role, index) => {
    const isWaku = index === 0 || rand() < wakuShare
    const spec: HostedNodeSpec = {
      index,
      role,
      privateKey: Buffer.from(randomKey()).toString('hex'),
      waku: isWaku ? randomWakuProfile(rand, index, cluster, shardCount) : undefined,
    }
    if (v6Share + dualShare > 0) {
      // The bootnode is dual stack, so a crawler trusts both loopbacks from it.
      const r = rand()
      spec.family = index === 0 ? 'dual' : r < v6Share ? 6 : r < v6Share + dualShare ? 'dual' : 4
    }
    return spec
  })

  // libp2p listeners: a share of the honest Waku nodes; lying roles never on the bootnode.
  const candidates = specs.filter((s) => s.role === 'honest' && s.waku !== undefined)
  const listenerCount = Math.round(libp2pShare * candidates.length)
  const withListener = listenerCount === 0 ? [] : [candidates[0]!, ...shuffled(candidates.slice(1), rand)].slice(0, listenerCount)
  const lieCount = Math.min(Math.round(libp2pLies * listenerCount), Math.max(0, listenerCount - 1))
  withListener.forEach((s, k) => {
    s.libp2p = k >= 1 && k <= lieCount ? LIBP2P_LIE_ROLES[(k - 1) % LIBP2P_LIE_ROLES.length]! : 'truthful'
  })

  const localHosts: TestnetHost[] = []
  const shares = workers === 0 ? [specs] : Array.from({length: workers}, (_, w) => specs.filter((_, i) => i % workers === w))
  const handles = shares.map((nodes, w) => {
    const init: HostInit = {protocolId, host, host6, nodes, seed: seed + w + 1, shardCount, tcpOnlyForListeners: libp2pShare > 0, listenerDelayMs: options.libp2pDelayMs}
    return workers === 0 ? localHandle(init, localHosts) : workerHandle(init)
  })
  const stops: Array<() => Promise<void>> = []
  const stopAll = async () => {
    for (const stop of stops.splice(0)) await stop().catch(() => {})
    await Promise.all(handles.map((h) => h.stop().catch(() => {})))
  }
  try {
    const infos = (await Promise.all(handles.map((h) => h.start()))).flat()
    if (options.signal?.aborted) throw options.signal.reason
    const byIndex = new Map(infos.map((i) => [i.index, i]))
    // With DNS or PX sources, a few live Waku nodes sit in no routing table: only those sources know them.
    const hidden = new Set<number>()
    if (options.dns || options.px) {
      for (const s of specs) if (s.index !== 0 && s.role === 'honest' && s.waku && rand() < HIDDEN_SHARE) hidden.add(s.index)
    }
    const records = specs.filter((s) => !hidden.has(s.index)).map((s) => byIndex.get(s.index)!.parts)
    await Promise.all(handles.map((h) => h.seed(records)))
    if (options.signal?.aborted) throw options.signal.reason

    const nodes: TestnetNode[] = specs.map((s) => {
      const info = byIndex.get(s.index)!
      const node: TestnetNode = {
        index: s.index,
        nodeId: info.nodeId,
        enr: info.enr,
        port: info.port,
        role: s.role,
        live: s.role !== 'dead',
        waku: s.waku !== undefined,
        family: s.family ?? 4,
      }
      if (s.waku) {
        node.caps = WAKU_CAPS.filter((_, bit) => (s.waku!.caps >> bit) & 1)
        node.cluster = s.waku.cluster
        node.shards = s.waku.shards
      }
      if (s.libp2p && info.tcpPort !== undefined) node.libp2p = {role: s.libp2p, tcpPort: info.tcpPort}
      if (hidden.has(s.index)) node.hidden = true
      return node
    })
    const liarRoles: Partial<Record<NodeRole, number>> = {}
    for (const node of nodes) if (node.role !== 'honest' && node.role !== 'dead') liarRoles[node.role] = (liarRoles[node.role] ?? 0) + 1
    const libp2pRoles: Partial<Record<Libp2pRole, number>> = {}
    for (const node of nodes) if (node.libp2p) libp2pRoles[node.libp2p.role] = (libp2pRoles[node.libp2p.role] ?? 0) + 1
    let sources: RunningSources | undefined
    if (options.dns || options.px || options.rendezvous) {
      const inputs: SourceNodeInput[] = nodes.map((x) => ({
        index: x.index,
        nodeId: x.nodeId,
        enr: x.enr,
        privateKey: specs[x.index]!.privateKey,
        live: x.live,
        waku: x.waku,
        ...(x.libp2p && x.libp2p.role === 'truthful' ? {tcpPort: x.libp2p.tcpPort} : {}),
        ...(x.cluster !== undefined ? {cluster: x.cluster, shards: x.shards} : {}),
        ...(x.hidden ? {hidden: true} : {}),
      }))
      sources = await startTestnetSources(inputs, {dns: options.dns, px: options.px, rendezvous: options.rendezvous, host, rand, signal: options.signal}, rendezvousSeeder)
      stops.push(() => sources!.stop())
      for (const [index, held] of sources.membership) nodes[index]!.inSources = held
    }
    const live = nodes.filter((x) => x.live)
    return {
      protocolId,
      host,
      bootnode: nodes[0]!.enr,
      counts: {
        nodes: n,
        live: live.length,
        honest: nodes.filter((x) => x.role === 'honest').length,
        dead: deadCount,
        liars: liarCount,
        waku: nodes.filter((x) => x.waku).length,
        liveWaku: live.filter((x) => x.waku).length,
        libp2p: nodes.filter((x) => x.libp2p).length,
      },
      liarRoles,
      libp2pRoles,
      ...(sources ? {sources: sources.description} : {}),
      workers,
      startupMs: Date.now() - started,
      nodes,
      localHosts,
      stop: stopAll,
      updateRecord: async (nodeId, entries) => {
        for (const h of handles) {
          const r = await h.update(nodeId, entries)
          if (r) return r
        }
        throw new BadInputError('NO_SUCH_NODE', `no live testnet node ${nodeId}`)
      },
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}
