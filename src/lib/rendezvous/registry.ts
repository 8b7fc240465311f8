/**
 * The registrations of one rendezvous point: put (replacing the same peer and namespace), remove,
 * expiry by an injectable clock, and DISCOVER pages in arrival order with cookies that stay valid
 * while dead entries are compacted away.
 */
import {MAX_NAMESPACE_LENGTH} from './client.js'
import {RENDEZVOUS_STATUS, type RendezvousDiscover, type RendezvousRegister} from './codec.js'
import {decodeCookie, encodeCookie} from './cookie.js'
import type {OpenedWakuPeerRecord} from './record.js'

interface Entry {
  /** Stable position: cookies are offsets into this sequence. */
  index: number
  ns: string
  peerId: string
  signedPeerRecord: Uint8Array
  record: OpenedWakuPeerRecord
  ttlSeconds: number
  expiresAt: number
  removed: boolean
}

export interface RendezvousRegistrationInfo {
  namespace: string
  peerId: string
  /** Decimal string. */
  seqNo: string
  addresses: string[]
  mixKey?: string
  ttlSeconds: number
  expiresAt: string
}

export interface DiscoverOutcome {
  status: number
  statusText?: string
  registrations: RendezvousRegister[]
  cookie?: Uint8Array
}

/** The registrations of one rendezvous point, with expiry by an injectable clock (ms). */
export class RendezvousRegistry {
  private entries: Entry[] = []
  private nextIndex = 0

  constructor(private readonly now: () => number = Date.now) {}

  private live(e: Entry, t: number): boolean {
    return !e.removed && e.expiresAt > t
  }

  /** Live registrations of a peer, over all namespaces. */
  countFor(peerId: string): number {
    const t = this.now()
    return this.entries.filter((e) => e.peerId === peerId && this.live(e, t)).length
  }

  /** Adds (or replaces, for the same peer and namespace) a registration already checked. */
  put(ns: string, signedPeerRecord: Uint8Array, record: OpenedWakuPeerRecord, ttlSeconds: number): RendezvousRegistrationInfo {
    const t = this.now()
    for (const e of this.entries) if (e.ns === ns && e.peerId === record.peerId) e.removed = true
    const entry: Entry = {index: this.nextIndex++, ns, peerId: record.peerId, signedPeerRecord, record, ttlSeconds, expiresAt: t + ttlSeconds * 1000, removed: false}
    this.entries.push(entry)
    this.compact(t)
    return info(entry)
  }

  remove(ns: string, peerId: string): number {
    let n = 0
    for (const e of this.entries) {
      if (e.ns === ns && e.peerId === peerId && !e.removed) {
        e.removed = true
        n++
      }
    }
    return n
  }

  /** One page: live registrations at or after the cookie's offset, in arrival order. */
  discover(request: RendezvousDiscover, maxLimit: number): DiscoverOutcome {
    const t = this.now()
    const ns = request.ns
    if (ns !== undefined && new TextEncoder().encode(ns).length > MAX_NAMESPACE_LENGTH) {
      return {status: RENDEZVOUS_STATUS.E_INVALID_NAMESPACE, statusText: `namespace longer than ${MAX_NAMESPACE_LENGTH} bytes`, registrations: []}
    }
    let start = 0
    if (request.cookie !== undefined) {
      const cookie = decodeCookie(request.cookie)
      if (!cookie || cookie.offset > BigInt(Number.MAX_SAFE_INTEGER)) return {status: RENDEZVOUS_STATUS.E_INVALID_COOKIE, statusText: 'unreadable cookie', registrations: []}
      // A cookie from another namespace starts that namespace from the beginning (nim-libp2p does the same).
      start = cookie.ns === ns ? Number(cookie.offset) : 0
    }
    const limit = request.limit === undefined ? maxLimit : Number(request.limit > BigInt(maxLimit) ? BigInt(maxLimit) : request.limit)
    const page: Entry[] = []
    for (const e of this.entries) {
      if (page.length >= limit) break
      if (e.index < start || !this.live(e, t) || (ns !== undefined && e.ns !== ns)) continue
      page.push(e)
    }
    const next = page.length > 0 ? page.at(-1)!.index + 1 : start
    return {
      status: RENDEZVOUS_STATUS.OK,
      registrations: page.map((e) => ({ns: e.ns, signedPeerRecord: e.signedPeerRecord, ttl: BigInt(Math.max(0, Math.ceil((e.expiresAt - t) / 1000)))})),
      cookie: encodeCookie({offset: BigInt(next), ...(ns !== undefined ? {ns} : {})}),
    }
  }

  /** Live registrations (one namespace or all). */
  list(ns?: string): RendezvousRegistrationInfo[] {
    const t = this.now()
    return this.entries.filter((e) => this.live(e, t) && (ns === undefined || e.ns === ns)).map(info)
  }

  /** Drops dead entries once they are most of the list (indices stay, so cookies stay valid). */
  private compact(t: number): void {
    if (this.entries.length < 64) return
    const alive = this.entries.filter((e) => this.live(e, t))
    if (alive.length * 2 < this.entries.length) this.entries = alive
  }
}

function info(e: Entry): RendezvousRegistrationInfo {
  return {
    namespace: e.ns,
    peerId: e.peerId,
    seqNo: e.record.seqNo.toString(),
    addresses: e.record.addresses,
    ...(e.record.mixKey !== undefined ? {mixKey: e.record.mixKey} : {}),
    ttlSeconds: e.ttlSeconds,
    expiresAt: new Date(e.expiresAt).toISOString(),
  }
}
