/**
 * Census: one FINDNODE per node at a rotating distance (the fastest full node list), a few more
 * buckets from the first nodes while the queue is short, and, in the tail, more buckets from
 * nodes that answered while the sightings say nodes are still unseen (Chao1).
 */
import type {CrawlEntry, StrategyHost} from '../crawl-entry.js'

export class CensusStrategy {
  private rotation = 0
  private boosts = 0

  constructor(private readonly host: StrategyHost) {}

  /**
   * Distances the census rotates over: the buckets that are full in a network this size (bucket
   * 256 − k holds about N / 2^(k+1) candidates, so about log2(N / 16) of them are full). Deeper
   * buckets answer with a few records at most, nearly all known already: rotating over them too
   * (as before, log2(N) − 1 distances) spent a third of a census's requests on them, and a node
   * held by few tables was then missed in one crawl in ten of a 1,000-node testnet.
   */
  distance(): number {
    const known = Math.max(this.host.entries.size, 16)
    const span = Math.min(16, Math.max(3, Math.round(Math.log2(known / 16))))
    const d = 256 - (this.rotation % span)
    this.rotation++
    return d
  }

  /** A node's census visit: its first contact, one bucket. */
  async visit(entry: CrawlEntry): Promise<void> {
    const host = this.host
    const d = this.distance()
    const enrs = await host.findNode(entry, [d], 0)
    if (enrs === undefined) {
      if (host.requeue(entry)) return
      if (!host.aborted) entry.status = 'unresponsive'
    } else {
      host.absorb(entry, enrs)
      // The first few nodes are asked a few more buckets while the queue is short: the session
      // exists, so these cost no handshake (the census's budget), and the queue fills at once.
      const early = this.boosts++ < 16
      for (let extra = 1; early && extra <= 3 && !host.aborted && host.queued < 64; extra++) {
        const more = await host.findNode(entry, [d - extra >= 240 ? d - extra : 256 - extra], 0)
        if (more === undefined) break
        host.absorb(entry, more)
      }
    }
    if (!host.aborted) host.finalize(entry)
  }

  /** Census tail: one more bucket from a node that answered, over its session. */
  async askAgain(entry: CrawlEntry): Promise<void> {
    if (this.host.aborted || !entry.hasSession) return
    const enrs = await this.host.findNode(entry, [this.distance()], 0)
    if (enrs !== undefined) this.host.absorb(entry, enrs)
  }

  /**
   * Chao1 estimate of nodes no reply has listed yet, from the nodes listed once (f1) and twice
   * (f2): f1² / 2·f2. Under load, fewer buckets come back and a node held by few tables can be
   * missed; singletons among the sightings are the sign of it. Only answering nodes' listings
   * count (a liar's inventions are listed once and would keep the estimate up forever).
   */
  unseenEstimate(): number {
    let f1 = 0
    let f2 = 0
    for (const e of this.host.entries.values()) {
      if (e.status !== 'responsive') continue
      if (e.seenBy === 1) f1++
      else if (e.seenBy === 2) f2++
    }
    return f2 > 0 ? (f1 * f1) / (2 * f2) : (f1 * (f1 - 1)) / 2
  }
}
