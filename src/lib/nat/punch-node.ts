/**
 * The libp2p peers of `nat relay|listen|reach`: what they run (tcp, circuit relay transport,
 * DCUtR, optionally WebRTC), the addresses they announce, the outcome codes of a punch attempt.
 */
import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {circuitRelayTransport} from '@libp2p/circuit-relay-v2'
import {generateKeyPair} from '@libp2p/crypto/keys'
import {dcutr} from '@libp2p/dcutr'
import {identify, type Identify} from '@libp2p/identify'
import type {Connection, Libp2p} from '@libp2p/interface'
import {ping, type Ping} from '@libp2p/ping'
import {peerIdFromString} from '@libp2p/peer-id'
import {tcp} from '@libp2p/tcp'
import {multiaddr} from '@multiformats/multiaddr'
import {createLibp2p} from 'libp2p'

import {BadInputError, isWakuDiscError} from '../errors.js'

export const PUNCH_OUTCOMES = ['SUCCESS', 'FAILED', 'NO_CONNECTION', 'NO_STREAM', 'CONNECTION_REVERSED', 'CANCELLED', 'UNKNOWN'] as const
export type PunchOutcome = (typeof PUNCH_OUTCOMES)[number]
export const DCUTR_PROTOCOL = '/libp2p/dcutr'
/** js-libp2p's private-to-private WebRTC signalling protocol (runs over the relayed connection). */
export const WEBRTC_SIGNALLING = '/webrtc-signaling/0.0.1'
export const HOP = '/libp2p/circuit/relay/0.2.0/hop'

/**
 * libp2p (3.x) only announces a public listen address once AutoNAT has verified it, and DCUtR and
 * identify send only announced addresses. A relay or a peer whose address the operator knows says
 * so: concrete listen addresses (a real IP, a fixed port) are announced as given, plus --announce.
 */
export function announceFor(listen: string[], announce: string[] = []): string[] {
  const concrete = listen.filter((a) => {
    try {
      const parts = multiaddr(a).getComponents()
      const ip = parts.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
      const port = parts.find((c) => c.name === 'tcp')?.value
      return ip !== undefined && ip !== '0.0.0.0' && ip !== '::' && port !== undefined && port !== '0' && !a.includes('/p2p-circuit')
    } catch {
      return false
    }
  })
  for (const a of announce) {
    try {
      multiaddr(a)
    } catch (err) {
      throw new BadInputError('BAD_ANNOUNCE', `--announce ${a}: not a multiaddr (${(err as Error).message})`)
    }
  }
  return [...new Set([...concrete, ...announce])]
}

/**
 * libp2p's default inbound limit (5 connections per second from one host) resets a relay whose
 * clients share an address (a NAT, a lab, `--attempts 20` from one host): the relay and the
 * peers here take what a relay under test needs.
 */
export const CONNECTION_LIMITS = {maxConnections: 1024, inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 256, maxParallelDials: 64}

export type PeerServices = {identify: Identify; ping: Ping; dcutr: unknown}

/** ICE servers for the WebRTC path (STUN only: a TURN-relayed link would not be a punch). */
export interface WebRtcPunchOptions {
  stun: string[]
}

export async function createPunchNode(listen: string[], announce: string[] = [], webrtc?: WebRtcPunchOptions): Promise<Libp2p<PeerServices>> {
  const direct = announceFor(listen.filter((a) => !a.endsWith('/webrtc')), announce)
  // Loaded on use: node-datachannel's addon stays out of every command that does not punch over WebRTC.
  const webrtcTransports = webrtc ? [(await import('@libp2p/webrtc')).webRTC({rtcConfiguration: {iceServers: webrtc.stun.map((urls) => ({urls}))}})] : []
  return createLibp2p<PeerServices>({
    privateKey: await generateKeyPair('secp256k1'),
    // Circuit addresses are announced by libp2p itself once the reservation holds.
    addresses: {listen, ...(direct.length ? {appendAnnounce: direct} : {})},
    transports: [tcp(), circuitRelayTransport(), ...webrtcTransports],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: {enabled: false},
    connectionManager: CONNECTION_LIMITS,
    connectionGater: {denyDialMultiaddr: () => false},
    nodeInfo: {userAgent: 'waku-disc nat'},
    services: {identify: identify(), ping: ping(), dcutr: dcutr({timeout: 5000, retries: 1})},
  })
}

export function checkRelayAddress(relay: string): string {
  try {
    const ma = multiaddr(relay)
    const p2p = ma.getComponents().find((c) => c.name === 'p2p')?.value
    if (!p2p) throw new Error('no /p2p/<relay peer id>')
    peerIdFromString(p2p)
    return ma.toString()
  } catch (err) {
    throw new BadInputError('BAD_RELAY', `--relay ${relay}: ${(err as Error).message}`, {hint: 'the address `nat relay` prints: /ip4/…/tcp/…/p2p/16Uiu2…'})
  }
}

export interface PunchAttempt {
  attempt: number
  outcome: PunchOutcome
  /** Time to the relayed connection. */
  relayedMs?: number
  /** Time from the relayed connection to the direct one. */
  directMs?: number
  /** The direct connection's remote address and who opened it. */
  directAddress?: string
  direction?: 'inbound' | 'outbound'
  /** Ping over the relayed connection (the relay path works). */
  relayRttMs?: number
  error?: string
}

export function errorInfo(err: unknown): {code: string; message: string} {
  if (isWakuDiscError(err)) return {code: err.code, message: err.message}
  const e = err as {code?: string; name?: string; message?: string}
  return {code: e.code ?? e.name ?? 'ERROR', message: (e.message ?? String(err)).split('\n')[0]!}
}

/**
 * The first leg of every punch attempt: a relayed connection to `peer` through `relay`. Fills in
 * relayedMs, or the NO_CONNECTION/CANCELLED outcome and the error; returns the connection or undefined.
 */
export async function dialRelayed(node: Libp2p, relay: string, peer: string, result: PunchAttempt, options: {timeoutMs: number; signal?: AbortSignal}): Promise<Connection | undefined> {
  const t0 = performance.now()
  try {
    const connection = await node.dial(multiaddr(`${relay}/p2p-circuit/p2p/${peer}`), {signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])])})
    result.relayedMs = Math.round(performance.now() - t0)
    return connection
  } catch (err) {
    result.outcome = options.signal?.aborted ? 'CANCELLED' : 'NO_CONNECTION'
    result.error = errorInfo(err).message
    return undefined
  }
}
