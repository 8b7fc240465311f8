import {BadInputError, ExitCode} from '../errors.js'
import type {IceServerSpec} from './ice.js'
import {runNative} from './native.js'
import {linkPrivacy, type PrivacyObserver} from './privacy.js'
import type {LinkMeasurement} from './types.js'

export const MAX_PAIR_BYTES = 1024 * 1024 * 1024

export interface PairOptions {
  iceServers?: IceServerSpec[]
  relayOnly?: boolean
  /** Bytes for the throughput test (0 = skip). */
  bytes?: number
  pings?: number
  connectTimeoutMs?: number
  gatherTimeoutMs?: number
  signal?: AbortSignal
}

export interface PairReport extends LinkMeasurement {
  relayOnly: boolean
  iceServers: string[]
  note?: string
  privacy: PrivacyObserver[]
  /** 0 when the channel opened and the measurements finished, else 3. */
  exitCode: 0 | 3
}

export function describeIceServer(s: IceServerSpec): string {
  const hp = s.hostname.includes(':') ? `[${s.hostname}]:${s.port}` : `${s.hostname}:${s.port}`
  if (!s.relayType) return `stun:${hp}`
  return s.relayType === 'TurnUdp' ? `turn:${hp}` : s.relayType === 'TurnTcp' ? `turn:${hp}?transport=tcp` : `turns:${hp}`
}

/**
 * Two PeerConnections in one (child) process joined by a data channel: time to open, ping-pong RTT
 * and one-way throughput. With `relayOnly` both sides use iceTransportPolicy 'relay', so the
 * channel must go through the TURN server.
 */
export async function pairPeers(options: PairOptions = {}): Promise<PairReport> {
  const iceServers = options.iceServers ?? []
  const relayOnly = options.relayOnly ?? false
  if (relayOnly && !iceServers.some((s) => s.relayType)) {
    throw new BadInputError('RELAY_NEEDS_TURN', '--relay-only needs a TURN server (--turn turn:HOST:PORT --turn-user U)')
  }
  const bytes = options.bytes ?? 4 * 1024 * 1024
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_PAIR_BYTES) {
    throw new BadInputError('BAD_BYTES', `--bytes must be an integer from 0 to ${MAX_PAIR_BYTES}`)
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000
  const result = await runNative<LinkMeasurement>(
    {
      kind: 'loopback',
      iceServers,
      policy: relayOnly ? 'relay' : 'all',
      bytes,
      pings: options.pings ?? 10,
      connectTimeoutMs,
      gatherTimeoutMs: options.gatherTimeoutMs ?? 5000,
    },
    {signal: options.signal, timeoutMs: connectTimeoutMs + 2 * (options.gatherTimeoutMs ?? 5000) + 120_000, what: 'webrtc pair'},
  )
  const servers = iceServers.map(describeIceServer)
  // Both ends run here with the same servers, so each server saw both (the pair's two sockets).
  const privacy = linkPrivacy({
    local: {label: 'the offerer', candidates: result.offerer?.localCandidates ?? [], servers},
    remote: {label: 'the answerer', candidates: result.answerer?.localCandidates ?? [], servers},
    selectedPair: result.offerer?.selectedPair ?? null,
  })
  const report: PairReport = {...result, relayOnly, iceServers: servers, privacy, exitCode: result.ok ? ExitCode.ok : ExitCode.checkFailed}
  if (relayOnly && result.ok && result.path !== 'relayed') {
    // libjuice only stops *signalling* non-relay candidates; it still checks its own srflx address,
    // and on one machine that address is reachable, so the pair can end up direct.
    report.note =
      'relay-only policy, yet node-datachannel selected a non-relay pair: libjuice still uses its unsignalled server-reflexive address, which is reachable when both peers share a host; run the peers on different hosts or NATs to force the relay'
  }
  return report
}
