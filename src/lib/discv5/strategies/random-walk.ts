/**
 * Random walk: Kademlia lookups toward random targets from the crawler's own k-buckets (α = 3,
 * k = 16, three distances per request), as Waku nodes discover today. Each lookup that ends
 * with enough responsive nodes gives a sample for the network-size estimator.
 */
import {randomBytes} from 'node:crypto'

import {log2Distance} from '@chainsafe/discv5'

import {normalizedDistance} from '../analysis.js'
import type {CrawlEntry, StrategyHost} from '../crawl-entry.js'

export interface RandomWalkOptions {
  /** Stop after this many ms of the crawl (undefined: no time limit). */
  durationMs?: number
  maxLookups?: number
  walkers: number
}

export interface RandomWalkOutcome {
  lookups: number
  /** The walk ended on its time limit. */
  timeLimit: boolean
  /** Per lookup with ≥ k/2 responsive nodes found: their normalized distances to the target. */
  sizeSamples: number[][]
}

export class RandomWalk {
  /** The crawler's own routing table (k-buckets around its id), as a Waku node keeps one. */
  private readonly table = new Map<number, string[]>()
  private lookups = 0
  private readonly sizeSamples: number[][] = []

  constructor(
    private readonly host: StrategyHost,
    private readonly options: RandomWalkOptions,
  ) {}

  get lookupCount(): number {
    return this.lookups
  }

  insert(entry: CrawlEntry): void {
    const d = log2Distance(this.host.selfId, entry.nodeId)
    const bucket = this.table.get(d) ?? []
    if (bucket.includes(entry.nodeId)) return
    if (bucket.length < 16) bucket.push(entry.nodeId)
    this.table.set(d, bucket)
  }

  private closest(target: string, count: number): CrawlEntry[] {
    const all: CrawlEntry[] = []
    for (const ids of this.table.values()) for (const id of ids) all.push(this.host.entries.get(id)!)
    return all.sort((a, b) => normalizedDistance(a.nodeId, target) - normalizedDistance(b.nodeId, target)).slice(0, count)
  }

  async run(): Promise<RandomWalkOutcome> {
    const host = this.host
    const deadline = this.options.durationMs !== undefined ? host.elapsed() + this.options.durationMs : Number.POSITIVE_INFINITY
    const maxLookups = this.options.maxLookups ?? Number.POSITIVE_INFINITY
    for (const entry of host.entries.values()) if (entry.status === 'known') this.insert(entry)
    let started = 0
    const walker = async () => {
      while (!host.aborted && started < maxLookups && host.elapsed() < deadline) {
        started++
        await this.lookup(randomBytes(32).toString('hex'), deadline)
        this.lookups++
        if (this.table.size === 0) break
      }
    }
    await Promise.all(Array.from({length: this.options.walkers}, () => walker()))
    const timeLimit = !host.aborted && host.elapsed() >= deadline
    for (const entry of host.entries.values()) host.finalize(entry)
    return {lookups: this.lookups, timeLimit, sizeSamples: this.sizeSamples}
  }

  /** One Kademlia lookup (α = 3, k = 16, three distances per request, like geth and nwaku). */
  private async lookup(target: string, deadline: number): Promise<void> {
    const host = this.host
    const k = 16
    const alpha = 3
    const candidates = new Map<string, CrawlEntry>()
    for (const e of this.closest(target, k)) candidates.set(e.nodeId, e)
    const asked = new Set<string>()
    const failed = new Set<string>()
    const byDistance = () =>
      [...candidates.values()].filter((e) => !failed.has(e.nodeId)).sort((a, b) => normalizedDistance(a.nodeId, target) - normalizedDistance(b.nodeId, target))
    const step = async (entry: CrawlEntry) => {
      asked.add(entry.nodeId)
      const d = Math.max(1, log2Distance(target, entry.nodeId))
      const distances = [d, d + 1, d - 1].filter((x) => x >= 1 && x <= 256)
      // Lookups route around silent nodes instead of retrying them (as geth and nim-eth do).
      const enrs = await host.findNode(entry, distances, 0)
      if (enrs === undefined) {
        if (!host.aborted && entry.status !== 'responsive') {
          entry.status = 'unresponsive'
          host.finalize(entry)
        }
        failed.add(entry.nodeId)
        return
      }
      this.insert(entry)
      // Stream the node now that it answered (a walk has no end to wait for).
      host.finalize(entry)
      for (const enr of enrs) {
        host.learn(enr, entry.nodeId, 'discv5')
        const e = host.entries.get(enr.nodeId)
        if (e && (e.status === 'known' || e.status === 'responsive')) candidates.set(e.nodeId, e)
      }
    }
    const running = new Set<Promise<void>>()
    for (;;) {
      if (host.aborted || host.elapsed() >= deadline) break
      const closest = byDistance().slice(0, k)
      const next = closest.filter((e) => !asked.has(e.nodeId))
      if (next.length === 0 && running.size === 0) break
      while (running.size < alpha && next.length > 0) {
        const e = next.shift()!
        const p = step(e).finally(() => running.delete(p))
        running.add(p)
      }
      if (running.size === 0) break
      await Promise.race(running)
    }
    await Promise.allSettled([...running])
    const found = byDistance()
      .filter((e) => asked.has(e.nodeId) && e.status === 'responsive')
      .slice(0, k)
      .map((e) => normalizedDistance(e.nodeId, target))
    if (found.length >= k / 2) this.sizeSamples.push(found)
  }
}
