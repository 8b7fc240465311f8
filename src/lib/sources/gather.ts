/**
 * Gathers peers from the discovery sources beside the DHT, before a crawl: an EIP-1459 tree
 * (resolved with the dns-tree client), peer exchange from given nodes (several queries each: a
 * responder samples at random), and Waku rendezvous points (every namespace asked). Each source
 * reports its records (or, for rendezvous, peer records), its wall time and its errors; one
 * failing source never loses what the others found.
 */
import {createTxtResolver, resolveTree} from '../dns/index.js'
import {parseEnr} from '../enr/index.js'
import {isWakuDiscError, type ErrorJson} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {queryPeerExchange} from '../px/query.js'

/** A peer a source names without an ENR (rendezvous): joined with the crawl by node id. */
export interface SourcePeer {
  nodeId: string
  peerId: string
  /** The source's own sequence (rendezvous: Unix seconds), as a decimal string. */
  seqNo: string
  addresses: string[]
}

export interface SourceResult {
  name: 'dns' | 'px' | 'rendezvous'
  /** What was asked: the tree URL, the PX targets, the rendezvous targets. */
  targets: string[]
  /** ENR text of every record the source gave (deduplicated by node id, highest seq kept). */
  records: string[]
  peers: SourcePeer[]
  queries: number
  ms: number
  errors: ErrorJson[]
}

/** Discovers rendezvous registrations (provided by the rendezvous module). */
export type RendezvousSourceQuery = (target: string, options: {namespaces: string[]; node: ProbeNode; signal?: AbortSignal; timeoutMs: number}) => Promise<{peers: SourcePeer[]; queries: number; errors: ErrorJson[]}>

export interface GatherOptions {
  enrtree?: {url: string; server?: string}
  /** Peer-exchange targets (multiaddr or ENR). */
  px?: string[]
  /** Queries per PX target (default 3) and peers asked per query (default 60, nwaku's cap). */
  pxQueries?: number
  pxPeers?: number
  rendezvous?: string[]
  /** Namespaces asked at each rendezvous point (default: rs/<cluster>/mix and rs/<cluster>/<shard> for shards 0–7). */
  rendezvousNamespaces?: string[]
  discoverRendezvous?: RendezvousSourceQuery
  timeoutMs?: number
  signal?: AbortSignal
}

const errorJson = (err: unknown): ErrorJson =>
  isWakuDiscError(err) ? err.toJSON() : {name: 'Error', code: 'SOURCE_FAILED', exitCode: 1, message: String((err as Error)?.message ?? err)}

/** Keeps the highest seq per node id. */
function dedupe(records: string[]): string[] {
  const best = new Map<string, {seq: bigint; text: string}>()
  for (const text of records) {
    try {
      const r = parseEnr(text)
      const held = best.get(r.nodeId)
      if (!held || r.seq > held.seq) best.set(r.nodeId, {seq: r.seq, text: r.text})
    } catch {
      // Sources only hand over records they parsed; anything else is skipped here.
    }
  }
  return [...best.values()].map((b) => b.text)
}

export async function gatherSources(options: GatherOptions): Promise<SourceResult[]> {
  const timeoutMs = options.timeoutMs ?? 5000
  const jobs: Array<Promise<SourceResult>> = []
  // One client node for PX and rendezvous: the promise is shared, so the two jobs starting at
  // once cannot each create one (and leak the first).
  let node: Promise<ProbeNode> | undefined
  const libp2p = () => (node ??= createProbeNode({dialTimeoutMs: timeoutMs, metadata: {}}))

  if (options.enrtree) {
    const {url, server} = options.enrtree
    jobs.push(
      (async () => {
        const started = performance.now()
        const result: SourceResult = {name: 'dns', targets: [url], records: [], peers: [], queries: 0, ms: 0, errors: []}
        const resolver = createTxtResolver({server})
        try {
          const tree = await resolveTree(url, {resolver, signal: options.signal, lenient: true})
          result.records = dedupe(tree.nodes.map((n) => n.enr))
          result.queries = tree.stats.queries
          for (const p of tree.problems) if (p.severity === 'error') result.errors.push({name: 'TreeProblem', code: p.code, exitCode: 3, message: p.name ? `${p.name}: ${p.message}` : p.message})
        } catch (err) {
          result.errors.push(errorJson(err))
        } finally {
          await resolver.close()
          result.ms = Math.round(performance.now() - started)
        }
        return result
      })(),
    )
  }
  if (options.px && options.px.length > 0) {
    const targets = options.px
    jobs.push(
      (async () => {
        const started = performance.now()
        const result: SourceResult = {name: 'px', targets, records: [], peers: [], queries: 0, ms: 0, errors: []}
        const all: string[] = []
        try {
          const probe = await libp2p()
          await Promise.all(
            targets.map(async (target) => {
              for (let q = 0; q < (options.pxQueries ?? 3); q++) {
                if (options.signal?.aborted) return
                result.queries++
                try {
                  const answer = await queryPeerExchange(target, {numPeers: options.pxPeers ?? 60, node: probe, signal: options.signal, timeouts: {dialMs: timeoutMs, protocolMs: timeoutMs}})
                  for (const p of answer.peers) if (p.ok && p.enr) all.push(p.enr)
                } catch (err) {
                  result.errors.push({...errorJson(err), message: `${target}: ${errorJson(err).message}`})
                }
              }
            }),
          )
        } catch (err) {
          result.errors.push(errorJson(err))
        }
        result.records = dedupe(all)
        result.ms = Math.round(performance.now() - started)
        return result
      })(),
    )
  }
  if (options.rendezvous && options.rendezvous.length > 0) {
    const targets = options.rendezvous
    jobs.push(
      (async () => {
        const started = performance.now()
        const result: SourceResult = {name: 'rendezvous', targets, records: [], peers: [], queries: 0, ms: 0, errors: []}
        try {
          if (!options.discoverRendezvous) throw new Error('rendezvous support is not loaded')
          const probe = await libp2p()
          const namespaces = options.rendezvousNamespaces ?? defaultNamespaces(1)
          const byNode = new Map<string, SourcePeer>()
          for (const target of targets) {
            const found = await options.discoverRendezvous(target, {namespaces, node: probe, signal: options.signal, timeoutMs})
            result.queries += found.queries
            result.errors.push(...found.errors)
            for (const p of found.peers) {
              const held = byNode.get(p.nodeId)
              if (!held || BigInt(p.seqNo) > BigInt(held.seqNo)) byNode.set(p.nodeId, p)
            }
          }
          result.peers = [...byNode.values()]
        } catch (err) {
          result.errors.push(errorJson(err))
        }
        result.ms = Math.round(performance.now() - started)
        return result
      })(),
    )
  }
  try {
    return await Promise.all(jobs)
  } finally {
    if (node) await node.then((n) => n.stop()).catch(() => undefined)
  }
}

/** Waku's rendezvous namespaces for a cluster: the current `rs/<cluster>/mix` and the older per-shard ones. */
export function defaultNamespaces(cluster: number, shards = 8): string[] {
  return [`rs/${cluster}/mix`, ...Array.from({length: shards}, (_, s) => `rs/${cluster}/${s}`)]
}
