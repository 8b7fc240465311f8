/**
 * Reachability over libp2p: a circuit relay v2 server (`nat relay`), a peer that holds a relay
 * reservation and accepts hole punches (`nat listen`), and `nat reach`: dial a target directly,
 * then through the relay, and watch whether DCUtR (@libp2p/dcutr) upgrades the relayed connection
 * to a direct one. Outcomes use punchr's codes. js-libp2p's TCP transport has no port reuse and
 * Node has no QUIC, so between two NATs the DCUtR dials target ports nobody listens on: what works
 * is the unilateral upgrade (one side reachable). The WebRTC path (private-to-private WebRTC,
 * signalled over the relayed connection, ICE over UDP with STUN) does punch endpoint-independent
 * NATs; it runs in a child process (webrtc-punch-worker.ts). The report says which path carried the link.
 */
import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {circuitRelayServer, type CircuitRelayService} from '@libp2p/circuit-relay-v2'
import {generateKeyPair} from '@libp2p/crypto/keys'
import {identify, type Identify} from '@libp2p/identify'
import type {Connection, Libp2p} from '@libp2p/interface'
import {ping, type Ping} from '@libp2p/ping'
import {peerIdFromString} from '@libp2p/peer-id'
import {tcp} from '@libp2p/tcp'
import {multiaddr} from '@multiformats/multiaddr'
import {createLibp2p} from 'libp2p'

import {nonPublicRange} from '../enr/index.js'
import {abortError, BadInputError, UnreachableError} from '../errors.js'
import {parseTarget} from '../libp2p/target.js'
import {classifyDialError, type DialErrorClass} from '../visit/classes.js'
import {announceFor, checkRelayAddress, CONNECTION_LIMITS, createPunchNode, DCUTR_PROTOCOL, dialRelayed, errorInfo, HOP, type PunchAttempt, type PunchOutcome, type WebRtcPunchOptions} from './punch-node.js'
import {punchWebRtcInChild} from './webrtc-punch.js'

export {PUNCH_OUTCOMES, DCUTR_PROTOCOL, WEBRTC_SIGNALLING, announceFor} from './punch-node.js'
export type {PunchAttempt, PunchOutcome, WebRtcPunchOptions} from './punch-node.js'

type RelayServices = {identify: Identify; ping: Ping; relay: CircuitRelayService}

export interface RelayServer {
  peerId: string
  addresses: string[]
  reservations: () => number
  stop: () => Promise<void>
}

/** A circuit relay v2 server (hop), as `stun serve` is a STUN server: for tests and labs. */
export async function startRelay(options: {listen?: string[]; announce?: string[]; maxReservations?: number} = {}): Promise<RelayServer> {
  const listen = options.listen ?? ['/ip4/127.0.0.1/tcp/0']
  const announce = announceFor(listen, options.announce)
  const node = await createLibp2p<RelayServices>({
    privateKey: await generateKeyPair('secp256k1'),
    addresses: {listen, ...(announce.length ? {announce} : {})},
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: {enabled: false},
    connectionManager: CONNECTION_LIMITS,
    nodeInfo: {userAgent: 'waku-disc nat relay'},
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({reservations: {maxReservations: options.maxReservations ?? 128, applyDefaultLimit: true}}),
    },
  })
  return {
    peerId: node.peerId.toString(),
    addresses: node.getMultiaddrs().map((m) => m.toString()),
    reservations: () => node.services.relay.reservations.size,
    stop: async () => {
      await node.stop()
    },
  }
}



export interface PunchListener {
  peerId: string
  /** The /p2p-circuit address others dial. */
  circuitAddress: string
  /** Direct addresses it listens on (usually private behind a NAT). */
  addresses: string[]
  /** Direct connections that replaced relayed ones (the listener's view of successful punches). */
  upgrades: () => number
  stop: () => Promise<void>
}

/** A peer behind a NAT: reserves a slot on the relay and lets DCUtR upgrade incoming relayed connections. */
export async function startPunchListener(options: {relay: string; listen?: string[]; announce?: string[]; webrtc?: WebRtcPunchOptions; timeoutMs?: number; signal?: AbortSignal}): Promise<PunchListener> {
  const relay = checkRelayAddress(options.relay)
  const listen = [...(options.listen ?? ['/ip4/0.0.0.0/tcp/0']), `${relay}/p2p-circuit`, ...(options.webrtc ? ['/webrtc'] : [])]
  const node = await createPunchNode(listen, options.announce, options.webrtc).catch((err: unknown) => {
    throw new UnreachableError('RELAY_RESERVATION_FAILED', `no reservation on the relay ${relay}: ${(err as Error).message.split('\n')[0]}`, {cause: err})
  })
  const circuit = node.getMultiaddrs().find((m) => m.toString().includes('/p2p-circuit'))
  if (!circuit) {
    await node.stop()
    throw new UnreachableError('RELAY_RESERVATION_FAILED', `the relay ${relay} gave no reservation`)
  }
  let upgrades = 0
  node.addEventListener('connection:open', (e) => {
    if (!e.detail.remoteAddr.toString().includes('/p2p-circuit') && e.detail.remotePeer.toString() !== relay.split('/p2p/')[1]) upgrades++
  })
  return {
    peerId: node.peerId.toString(),
    circuitAddress: circuit.toString(),
    addresses: node.getMultiaddrs().filter((m) => !m.toString().includes('/p2p-circuit')).map((m) => m.toString()),
    upgrades: () => upgrades,
    stop: async () => {
      await node.stop()
    },
  }
}

export interface DirectDialResult {
  address: string
  ok: boolean
  ms: number
  error?: {code: string; class: DialErrorClass; message: string}
}


export interface ReachReport {
  target: {peerId: string; addresses: string[]}
  relay?: string
  /** How the upgrade was tried: DCUtR over TCP, or WebRTC signalled through the relay. */
  transport: 'dcutr' | 'webrtc'
  direct: DirectDialResult[]
  directOk: boolean
  /** The target speaks /libp2p/dcutr (from identify over the relayed connection). */
  targetDcutr?: boolean
  attempts: PunchAttempt[]
  outcomes: Partial<Record<PunchOutcome, number>>
  successRate?: number
  verdict: string
  /** 0 reachable (direct or punched), 3 only the relay works, 4 nothing works. */
  exitCode: 0 | 3 | 4
  ms: number
}


function waitForDirect(node: Libp2p, peer: string, timeoutMs: number, signal?: AbortSignal): Promise<Connection | undefined> {
  const existing = node.getConnections(peerIdFromString(peer)).find((c) => !c.remoteAddr.toString().includes('/p2p-circuit'))
  if (existing) return Promise.resolve(existing)
  return new Promise((resolve) => {
    const done = (c?: Connection) => {
      clearTimeout(timer)
      node.removeEventListener('connection:open', onOpen)
      signal?.removeEventListener('abort', onAbort)
      resolve(c)
    }
    const onOpen = (e: CustomEvent<Connection>) => {
      if (e.detail.remotePeer.toString() === peer && !e.detail.remoteAddr.toString().includes('/p2p-circuit')) done(e.detail)
    }
    const onAbort = () => done(undefined)
    const timer = setTimeout(() => done(undefined), timeoutMs)
    node.addEventListener('connection:open', onOpen)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

async function punchOnce(attempt: number, relay: string, peer: string, options: {timeoutMs: number; signal?: AbortSignal; listen: string[]; announce: string[]}): Promise<PunchAttempt> {
  const node = await createPunchNode(options.listen, options.announce)
  const result: PunchAttempt = {attempt, outcome: 'UNKNOWN'}
  try {
    const relayed = await dialRelayed(node, relay, peer, result, options)
    if (!relayed) return result
    const t1 = performance.now()
    const directPromise = waitForDirect(node, peer, options.timeoutMs, options.signal)
    try {
      result.relayRttMs = Math.round(await node.services.ping.ping(relayed.remoteAddr, {signal: AbortSignal.timeout(3000), runOnLimitedConnection: true} as never))
    } catch {
      /* the relay path may already be closed by a successful upgrade */
    }
    const direct = await directPromise
    if (options.signal?.aborted) result.outcome = 'CANCELLED'
    else if (direct) {
      result.directMs = Math.round(performance.now() - t1)
      result.directAddress = direct.remoteAddr.toString()
      result.direction = direct.direction
      // The target dialled us back (we were reachable): punchr's reversed connection, not a punch.
      result.outcome = direct.direction === 'inbound' && reachableSelf(node) ? 'CONNECTION_REVERSED' : 'SUCCESS'
    } else {
      const protocols = (await node.peerStore.get(peerIdFromString(peer)).catch(() => undefined))?.protocols ?? []
      result.outcome = protocols.length > 0 && !protocols.includes(DCUTR_PROTOCOL) ? 'NO_STREAM' : 'FAILED'
      if (result.outcome === 'NO_STREAM') result.error = `the target does not speak ${DCUTR_PROTOCOL}`
      else result.error = `no direct connection within ${options.timeoutMs} ms of the relayed one`
    }
    return result
  } finally {
    await node.stop()
  }
}

/** Our node listens on a public address, so DCUtR's unilateral upgrade (the target dials us) applies. */
function reachableSelf(node: Libp2p): boolean {
  return node.getMultiaddrs().some((m) => !m.toString().includes('/p2p-circuit') && nonPublicRange(m.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value ?? '127.0.0.1') === undefined)
}

export interface ReachOptions {
  relay?: string
  /** Our own listen addresses for the punch (default /ip4/0.0.0.0/tcp/0). */
  listen?: string[]
  /** Addresses we are known to be reachable at (a public host, a port mapping). */
  announce?: string[]
  /** How the relayed connection becomes direct: DCUtR over TCP (default) or WebRTC (ICE over UDP, signalled through the relay). */
  transport?: 'dcutr' | 'webrtc'
  /** STUN servers for the WebRTC path (stun:HOST:PORT). */
  stun?: string[]
  attempts?: number
  timeoutMs?: number
  signal?: AbortSignal
}

export async function reach(targetText: string, options: ReachOptions = {}): Promise<ReachReport> {
  const started = performance.now()
  const timeoutMs = options.timeoutMs ?? 10_000
  const attempts = options.attempts ?? 1
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1000) throw new BadInputError('BAD_ATTEMPTS', `--attempts must be 1–1000, got ${attempts}`)
  const target = parseTarget(targetText)
  let relay = options.relay === undefined ? undefined : checkRelayAddress(options.relay)
  const directAddrs = target.multiaddrs.filter((a) => !a.includes('/p2p-circuit'))
  const circuit = target.multiaddrs.find((a) => a.includes('/p2p-circuit'))
  if (relay === undefined && circuit) relay = circuit.split('/p2p-circuit')[0]
  const report: ReachReport = {target: {peerId: target.peerId, addresses: target.multiaddrs}, relay, transport: options.transport ?? 'dcutr', direct: [], directOk: false, attempts: [], outcomes: {}, verdict: '', exitCode: 4, ms: 0}

  if (directAddrs.length > 0) {
    const node = await createPunchNode([])
    try {
      for (const address of directAddrs) {
        if (options.signal?.aborted) throw abortError(options.signal, 'nat reach')
        const t0 = performance.now()
        try {
          const conn = await node.dial(multiaddr(address), {signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])])})
          report.direct.push({address, ok: true, ms: Math.round(performance.now() - t0)})
          await conn.close()
        } catch (err) {
          const info = errorInfo(err)
          report.direct.push({address, ok: false, ms: Math.round(performance.now() - t0), error: {...info, class: classifyDialError(info)}})
        }
      }
    } finally {
      await node.stop()
    }
  }
  report.directOk = report.direct.some((d) => d.ok)

  if (relay !== undefined) {
    if (options.transport === 'webrtc') report.attempts.push(...(await punchWebRtcInChild({relay, peer: target.peerId, attempts, timeoutMs, stun: options.stun ?? []}, options.signal)))
    else for (let i = 1; i <= attempts; i++) {
      if (options.signal?.aborted) {
        report.attempts.push({attempt: i, outcome: 'CANCELLED'})
        break
      }
      const a = await punchOnce(i, relay, target.peerId, {timeoutMs, signal: options.signal, listen: options.listen ?? ['/ip4/0.0.0.0/tcp/0'], announce: options.announce ?? []})
      report.attempts.push(a)
      if (a.outcome === 'NO_CONNECTION' && i === 1 && attempts > 1 && a.error?.includes(HOP)) break
    }
    for (const a of report.attempts) report.outcomes[a.outcome] = (report.outcomes[a.outcome] ?? 0) + 1
    const counted = report.attempts.filter((a) => a.outcome !== 'CANCELLED')
    if (counted.length > 0) report.successRate = Math.round((1000 * (report.outcomes.SUCCESS ?? 0)) / counted.length) / 1000
    report.targetDcutr = report.transport === 'webrtc' ? undefined : report.attempts.some((a) => a.outcome === 'NO_STREAM') ? false : report.attempts.some((a) => a.relayedMs !== undefined) ? true : undefined
  }
  const relayWorks = report.attempts.some((a) => a.relayedMs !== undefined)
  const punched = (report.outcomes.SUCCESS ?? 0) + (report.outcomes.CONNECTION_REVERSED ?? 0)
  const parts: string[] = []
  if (report.direct.length === 0) parts.push('the target has no direct address')
  else parts.push(report.directOk ? `direct dial works (${report.direct.filter((d) => d.ok).map((d) => d.address).join(', ')})` : `direct dial fails (${report.direct.map((d) => d.error?.class).join(', ')})`)
  if (relay !== undefined) {
    if (!relayWorks) parts.push(`the relay path fails too (${report.attempts[0]?.error ?? 'no attempt'})`)
    else if (punched > 0) parts.push(`the relayed connection was upgraded to a direct one in ${punched} of ${report.attempts.length} attempts (${Object.entries(report.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')})`)
    else parts.push(`the relay is all that works: ${report.transport === 'webrtc' ? 'WebRTC (ICE over UDP)' : 'DCUtR'} upgraded none of ${report.attempts.length} attempts (${Object.entries(report.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')})`)
  }
  report.verdict = parts.join('; ')
  report.exitCode = report.directOk || punched > 0 ? 0 : relayWorks ? 3 : 4
  report.ms = Math.round(performance.now() - started)
  return report
}
