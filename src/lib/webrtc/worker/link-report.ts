/**
 * Turning the link protocol's results into a LinkMeasurement: the other end's report (untrusted
 * JSON) into a well-typed LinkSide, the path verdict, and the timing fields. Pure.
 */
import type {GatheredCandidate, LinkMeasurement, LinkSide, SelectedPairEnd} from '../types.js'
import {median, type DialResult} from './link-protocol.js'

/** The other end's report is untrusted input: keep only well-typed fields. */
export function sanitizeSide(x: unknown): LinkSide | undefined {
  if (typeof x !== 'object' || x === null) return undefined
  const o = x as Record<string, unknown>
  const end = (e: unknown) => {
    if (typeof e !== 'object' || e === null) return undefined
    const r = e as Record<string, unknown>
    if (typeof r.type !== 'string' || typeof r.address !== 'string' || typeof r.port !== 'number') return undefined
    return {type: r.type.slice(0, 8), address: r.address.slice(0, 64), port: r.port, transport: String(r.transport ?? '').slice(0, 16)}
  }
  const sp = o.selectedPair as Record<string, unknown> | null | undefined
  const local = sp ? end(sp.local) : undefined
  const remote = sp ? end(sp.remote) : undefined
  return {
    role: o.role === 'offerer' ? 'offerer' : 'answerer',
    selectedPair: local && remote ? {local, remote} : null,
    iceRttMs: typeof o.iceRttMs === 'number' ? o.iceRttMs : null,
    dtlsRole: o.dtlsRole === 'client' || o.dtlsRole === 'server' ? o.dtlsRole : null,
    localCandidates: Array.isArray(o.localCandidates)
      ? o.localCandidates.slice(0, 20).flatMap((c) => {
          const e = end(c)
          return e ? [{type: e.type as GatheredCandidate['type'], protocol: e.transport, address: e.address, port: e.port}] : []
        })
      : [],
    remoteCandidates: typeof o.remoteCandidates === 'number' ? o.remoteCandidates : 0,
    events: [],
  }
}

/** sanitizeSide for a report that may be anything at all; never throws. */
export function readSide(x: unknown): LinkSide | undefined {
  try {
    return sanitizeSide(x)
  } catch {
    return undefined
  }
}

export function pathOf(...sides: (LinkSide | undefined)[]): LinkMeasurement['path'] {
  const pairs = sides.map((s) => s?.selectedPair).filter((p): p is SelectedPairEnd => !!p)
  if (!pairs.length) return 'unknown'
  return pairs.some((p) => p.local.type === 'relay' || p.remote.type === 'relay') ? 'relayed' : 'direct'
}

export function emptyMeasurement(bytes: number): LinkMeasurement {
  return {ok: false, openMs: null, iceConnectedMs: null, rttMs: [], rttMedianMs: null, bytes, throughputMbps: null, transferMs: null, path: 'unknown', logs: []}
}

/** Copies a dialer's RTTs and transfer time into the measurement (throughput in Mbit/s). */
export function recordDial(res: LinkMeasurement, m: DialResult, bytes: number): void {
  res.rttMs = m.rtts
  res.rttMedianMs = median(m.rtts)
  res.transferMs = m.transferMs === null ? null : Math.round(m.transferMs * 10) / 10
  res.throughputMbps = m.transferMs ? Math.round(((bytes * 8) / (m.transferMs / 1000) / 1e6) * 100) / 100 : null
}
