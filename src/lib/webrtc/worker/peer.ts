/** One node-datachannel PeerConnection plus the bookkeeping a probe reports (events in ms since creation). */
import nodeDataChannel, {type DataChannel, type PeerConnection} from 'node-datachannel'

import type {IceServerSpec} from '../ice.js'
import {parseCandidate} from '../sdp.js'
import type {GatheredCandidate, IcePolicy, LinkSide, SelectedPairEnd} from '../types.js'
import {trackPeer} from './teardown.js'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function toGathered(line: string, atMs?: number): GatheredCandidate | undefined {
  try {
    const c = parseCandidate(line)
    const g: GatheredCandidate = {type: c.type, protocol: c.transport, address: c.address, port: c.port}
    if (c.relatedAddress && c.relatedAddress !== '0.0.0.0') g.relatedAddress = c.relatedAddress
    if (c.relatedPort) g.relatedPort = c.relatedPort
    if (atMs !== undefined) g.atMs = Math.round(atMs * 10) / 10
    return g
  } catch {
    return undefined
  }
}

function candidatesFromSdp(sdp: string | undefined): string[] {
  return (sdp ?? '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'))
}

function setupOf(sdp: string | undefined): string | undefined {
  return /^a=setup:(\w+)/m.exec(sdp ?? '')?.[1]
}

const key = (c: GatheredCandidate) => `${c.type} ${c.protocol} ${c.address}:${c.port}`

export class Peer {
  readonly pc: PeerConnection
  readonly t0 = performance.now()
  readonly events: {name: string; atMs: number}[] = []
  readonly candidates = new Map<string, GatheredCandidate>()
  gatheringComplete = false
  state = 'new'
  private waiters: (() => void)[] = []
  dc?: DataChannel
  remoteCandidates = 0
  remoteSetup?: string

  constructor(name: string, iceServers: IceServerSpec[], policy: IcePolicy) {
    this.pc = new nodeDataChannel.PeerConnection(name, {iceServers: iceServers as never, iceTransportPolicy: policy, maxMessageSize: 262144})
    trackPeer(this.pc)
    // Register every callback before anything can start gathering: node-datachannel does not
    // replay an event that fired before its callback was set, so an early candidate or state
    // change would be lost.
    this.pc.onLocalCandidate((cand) => {
      const g = toGathered(cand, this.ms())
      if (g && !this.candidates.has(key(g))) this.candidates.set(key(g), g)
      this.wake()
    })
    this.pc.onGatheringStateChange((s) => {
      this.mark(`gathering:${s}`)
      if (s === 'complete') this.gatheringComplete = true
      this.wake()
    })
    this.pc.onStateChange((s) => {
      this.state = s
      this.mark(`state:${s}`)
      this.wake()
    })
    this.pc.onIceStateChange((s) => {
      this.mark(`ice:${s}`)
      this.wake()
    })
  }

  ms(): number {
    return performance.now() - this.t0
  }

  mark(name: string): void {
    if (this.events.length < 200) this.events.push({name, atMs: Math.round(this.ms() * 10) / 10})
  }

  wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs
    while (!cond()) {
      const left = deadline - performance.now()
      if (left <= 0) return false
      await new Promise<void>((r) => {
        const t = setTimeout(r, left)
        this.waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
    return true
  }

  /** Waits for gathering to complete (bounded), then a grace for late events, then merges localDescription(). */
  async gathered(timeoutMs: number, graceMs: number): Promise<void> {
    await this.until(() => this.gatheringComplete, timeoutMs)
    await sleep(graceMs)
    for (const line of candidatesFromSdp(this.pc.localDescription()?.sdp)) {
      const g = toGathered(line)
      if (g && !this.candidates.has(key(g))) this.candidates.set(key(g), g)
    }
  }

  localSdp(): string {
    const d = this.pc.localDescription()
    if (!d) throw new Error('node-datachannel produced no local description')
    return d.sdp
  }

  setRemote(sdp: string, type: 'offer' | 'answer'): void {
    this.remoteCandidates = candidatesFromSdp(sdp).length
    this.remoteSetup = setupOf(sdp)
    this.pc.setRemoteDescription(sdp, type)
  }

  /** Adds candidates held back from the offer (offer.ts), marking each one the agent refuses. */
  addHeldCandidates(candidates: string[], mid: string): void {
    for (const c of candidates) {
      try {
        this.pc.addRemoteCandidate(c, mid)
      } catch (err) {
        this.mark(`candidate-rejected: ${(err as Error).message.slice(0, 80)}`)
      }
    }
  }

  /** RFC 8842: `active` is the DTLS client, `passive` the server; an `actpass` end takes the role its peer left. */
  dtlsRole(): 'client' | 'server' | null {
    let local: string | undefined
    try {
      local = setupOf(this.pc.localDescription()?.sdp)
    } catch {
      return null
    }
    const role = (s: string | undefined) => (s === 'active' ? 'client' : s === 'passive' ? 'server' : null)
    if (local !== 'actpass') return role(local)
    const remote = role(this.remoteSetup)
    return remote === 'client' ? 'server' : remote === 'server' ? 'client' : null
  }

  selected(): SelectedPairEnd | null {
    let p: ReturnType<PeerConnection['getSelectedCandidatePair']> = null
    try {
      p = this.pc.getSelectedCandidatePair()
    } catch {
      return null
    }
    if (!p) return null
    const side = (x: {type: string; address: string; port: number; transportType: string}) => ({type: x.type, address: x.address, port: x.port, transport: x.transportType})
    return {local: side(p.local), remote: side(p.remote)}
  }

  side(role: 'offerer' | 'answerer'): LinkSide {
    let rtt = -1
    try {
      rtt = this.pc.rtt()
    } catch {
      /* closed */
    }
    return {
      role,
      selectedPair: this.selected(),
      iceRttMs: rtt >= 0 ? rtt : null,
      dtlsRole: this.dtlsRole(),
      localCandidates: [...this.candidates.values()],
      remoteCandidates: this.remoteCandidates,
      events: this.events,
    }
  }
}
