/**
 * The steps of talking to one peer, each under its own deadline and the caller's signal:
 * dial, identify, open a protocol stream, ping. Every failure becomes one of our typed errors.
 */
import type {Connection, Stream} from '@libp2p/interface'
import {multiaddr} from '@multiformats/multiaddr'

import {ProtocolError, UnreachableError, abortError, isWakuDiscError} from '../errors.js'
import type {ProbeNode} from './node.js'
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

/** Dials a target (all its addresses); UnreachableError on failure or deadline. */
export async function dialTarget(node: ProbeNode, target: Target, options: {signal?: AbortSignal; timeoutMs: number}): Promise<Dialled> {
  const signal = stepSignal(options.signal, options.timeoutMs)
  const started = performance.now()
  try {
    const addrs = target.multiaddrs.map((a) => multiaddr(a))
    const connection = await node.dial(addrs, {signal})
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
    throw new UnreachableError('DIAL_FAILED', `cannot connect to ${target.peerId}: ${describe(err)}`, {
      cause: err,
      details: {addresses: target.multiaddrs},
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

export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e: unknown) => (e as Error).message))].join('; ')
  }
  return (err as Error)?.message ?? String(err)
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
