/**
 * The steps of talking to one peer, each under its own deadline and the caller's signal:
 * dial, identify, open a protocol stream, ping. Every failure becomes one of our typed errors.
 */
import type {Connection, Stream} from '@libp2p/interface'
import {peerIdFromString} from '@libp2p/peer-id'
import {multiaddr} from '@multiformats/multiaddr'

import {ProtocolError, UnreachableError, abortError, isWakuDiscError} from '../errors.js'
import type {ProbeNode} from './node.js'
import {PING_PROTOCOL} from './protocols.js'
import type {Target} from './target.js'

export interface StepTimeouts {
  dialMs: number
  identifyMs: number
  protocolMs: number
  pingMs: number
}

export const DEFAULT_TIMEOUTS: StepTimeouts = {dialMs: 10_000, identifyMs: 5_000, protocolMs: 5_000, pingMs: 5_000}

/** Timeouts for a total per-target budget (wakucanary's `--timeout`): each step gets the whole of it, capped by the defaults' shape. */
export function timeoutsFor(totalMs: number): StepTimeouts {
  return {dialMs: totalMs, identifyMs: totalMs, protocolMs: totalMs, pingMs: totalMs}
}

/** The caller's signal combined with a step deadline whose reason is a TimeoutError. */
export function stepSignal(parent: AbortSignal | undefined, ms: number): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return parent ? AbortSignal.any([parent, t]) : t
}

export interface Dialled {
  connection: Connection
  remoteAddr: string
  dialMs: number
  multiplexer?: string
  encryption?: string
}

const peerLocks = new WeakMap<ProbeNode, Map<string, Promise<unknown>>>()

/**
 * Runs `fn` with exclusive use of `peerId` on this node. libp2p merges dials to one peer and adds
 * the addresses it learned (peer store, identify) to every dial, so two checks of the same peer at
 * different addresses must not overlap, and each starts from an empty peer-store entry.
 */
export async function withPeerLock<T>(node: ProbeNode, peerId: string, fn: () => Promise<T>): Promise<T> {
  let locks = peerLocks.get(node)
  if (!locks) peerLocks.set(node, (locks = new Map()))
  const previous = locks.get(peerId) ?? Promise.resolve()
  const run = previous.catch(() => undefined).then(fn)
  locks.set(peerId, run)
  try {
    return await run
  } finally {
    if (locks.get(peerId) === run) locks.delete(peerId)
  }
}

/** Dials a target (all its addresses); UnreachableError on failure or deadline. */
export async function dialTarget(node: ProbeNode, target: Target, options: {signal?: AbortSignal; timeoutMs: number}): Promise<Dialled> {
  const signal = stepSignal(options.signal, options.timeoutMs)
  const started = performance.now()
  try {
    const addrs = target.multiaddrs.map((a) => multiaddr(a))
    // Dial exactly the target's addresses, not ones remembered from an earlier check.
    const remote = peerIdFromString(target.peerId)
    await node.peerStore.delete(remote).catch(() => undefined)
    // force: a fresh connection to exactly these addresses, even if one to the peer is already open.
    const connection = await node.dial(addrs, {signal, force: true})
    if (connection.remotePeer.toString() !== target.peerId) {
      await connection.abort(new Error('wrong peer'))
      throw new ProtocolError('WRONG_PEER', `dialled ${target.peerId} but the remote authenticated as ${connection.remotePeer.toString()}`)
    }
    return {
      connection,
      remoteAddr: connection.remoteAddr.toString(),
      dialMs: round(performance.now() - started),
      ...(connection.multiplexer ? {multiplexer: connection.multiplexer} : {}),
      ...(connection.encryption ? {encryption: connection.encryption} : {}),
    }
  } catch (err) {
    if (signal.aborted) throw abortError(signal, `dial ${target.peerId}`)
    if (isWakuDiscError(err)) throw err
    const wss = target.multiaddrs.some((a) => /\/(wss|tls\/ws)\b/.test(a))
    throw new UnreachableError('DIAL_FAILED', `cannot connect to ${target.peerId}: ${describe(err)}`, {
      cause: err,
      details: {addresses: target.multiaddrs},
      ...(wss ? {hint: 'for wss the certificate must be valid for the dialled name (a private CA can be trusted with NODE_EXTRA_CA_CERTS)'} : {}),
    })
  }
}

/** Opens a stream for one protocol; ProtocolError('PROTOCOL_UNSUPPORTED') when the peer refuses it. */
export async function openStream(connection: Connection, protocol: string, signal: AbortSignal): Promise<Stream> {
  try {
    return await connection.newStream(protocol, {signal})
  } catch (err) {
    if (signal.aborted) throw abortError(signal, `opening ${protocol}`)
    const e = err as Error
    if (e.name === 'UnsupportedProtocolError' || /protocol selection failed|not supported/i.test(e.message)) {
      throw new ProtocolError('PROTOCOL_UNSUPPORTED', `the peer does not support ${protocol}`, {cause: err})
    }
    throw new UnreachableError('STREAM_FAILED', `cannot open ${protocol}: ${describe(err)}`, {cause: err})
  }
}

/** A one-line reason from libp2p's errors (aggregates, causes, and websockets' message-less errors). */
export function describe(err: unknown, depth = 0): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e: unknown) => describe(e, depth + 1)))].join('; ')
  }
  const e = err as (Error & {code?: string; cause?: unknown; error?: unknown}) | undefined
  if (!e || typeof e !== 'object') return String(err)
  // Node's WebSocket reports failures as an ErrorEvent without a reason (TLS errors included).
  if (typeof Event !== 'undefined' && e instanceof Event && !(e as {message?: string}).message) return 'websocket connection failed (no reason given)'
  const own = e.message?.trim()
  const inner = depth < 4 ? (e.cause ?? e.error) : undefined
  const innerText = inner === undefined ? '' : describe(inner, depth + 1)
  if (own && innerText && !own.includes(innerText)) return `${own}: ${innerText}`
  return own || innerText || e.code || e.name || 'unknown error'
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100
}

/**
 * One libp2p ping (32 random bytes echoed) on this connection. The ping service would dial by peer
 * id, which can open a second connection to an address we were not asked to check.
 */
export async function pingConnection(connection: Connection, signal: AbortSignal): Promise<number> {
  const stream = await openStream(connection, PING_PROTOCOL, signal)
  const payload = crypto.getRandomValues(new Uint8Array(32))
  const onAbort = () => stream.abort(new Error('ping deadline'))
  signal.addEventListener('abort', onAbort, {once: true})
  try {
    const started = performance.now()
    stream.send(payload)
    const got: number[] = []
    for await (const chunk of stream) {
      got.push(...(chunk instanceof Uint8Array ? chunk : chunk.subarray()))
      if (got.length >= 32) break
    }
    if (signal.aborted) throw abortError(signal, 'ping')
    if (got.length < 32) throw new ProtocolError('PING_SHORT', `ping: the peer echoed ${got.length} of 32 bytes`)
    if (got.slice(0, 32).some((b, i) => b !== payload[i])) throw new ProtocolError('PING_MISMATCH', 'ping: the peer echoed different bytes')
    return round(performance.now() - started)
  } catch (err) {
    if (signal.aborted) throw abortError(signal, 'ping')
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
    stream.abort(new Error('done'))
  }
}
