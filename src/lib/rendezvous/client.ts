/**
 * Rendezvous discovery against one rendezvous point: one DISCOVER per namespace, following the
 * cookie page by page, every registration's signed WakuPeerRecord checked on its own (a bad one
 * is reported with its error and the others kept). Like nim-libp2p, each request goes on its own
 * stream: nwaku's handler reads one message, answers and closes.
 */
import type {Connection, PrivateKey, Stream} from '@libp2p/interface'
import {hex} from '@scure/base'

import {BadInputError, ExitCode, ProtocolError, abortError, isWakuDiscError, type ErrorJson, type WakuDiscError} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {WAKU_PROTOCOLS} from '../libp2p/protocols.js'
import {DEFAULT_TIMEOUTS, dialTarget, openStream, round, stepSignal, withPeerLock, type Dialled, type StepTimeouts} from '../libp2p/session.js'
import {readFrame, writeFrame} from '../libp2p/stream.js'
import {parseTarget, type Target} from '../libp2p/target.js'
import {
  RENDEZVOUS_MESSAGE_TYPE,
  RENDEZVOUS_STATUS,
  decodeRendezvousMessage,
  encodeDiscover,
  rendezvousMessageTypeName,
  rendezvousStatusName,
  type RendezvousMessage,
  type RendezvousRegister,
} from './codec.js'
import {MAX_SIGNED_PEER_RECORD_BYTES, openWakuPeerRecord} from './record.js'

export const WAKU_RENDEZVOUS_PROTOCOL = WAKU_PROTOCOLS.rendezvous
export const LIBP2P_RENDEZVOUS_PROTOCOL = '/rendezvous/1.0.0'
/** 'waku' (/vac/waku/rendezvous/1.0.0), 'libp2p' (/rendezvous/1.0.0) or a protocol id. */
export type RendezvousProtocolChoice = 'waku' | 'libp2p' | (string & {})

export function rendezvousProtocolId(choice: RendezvousProtocolChoice = 'waku'): string {
  if (choice === 'waku') return WAKU_RENDEZVOUS_PROTOCOL
  if (choice === 'libp2p') return LIBP2P_RENDEZVOUS_PROTOCOL
  if (!choice.startsWith('/')) throw new BadInputError('BAD_PROTOCOL', `rendezvous protocol must be waku, libp2p or a protocol id starting with /, got ${JSON.stringify(choice)}`)
  return choice
}

/** nwaku's PeersRequestedCount. */
export const DEFAULT_RENDEZVOUS_LIMIT = 12
/** nim-libp2p's DiscoverLimit: a rendezvous point never sends more per page. */
export const MAX_RENDEZVOUS_LIMIT = 1000
export const DEFAULT_RENDEZVOUS_MAX_PAGES = 10
/** nim-libp2p's MaximumMessageLen (4 MiB): the most any honest point sends. */
export const MAX_RENDEZVOUS_MESSAGE_BYTES = 4 * 1024 * 1024
export const MIN_NAMESPACE_LENGTH = 1
export const MAX_NAMESPACE_LENGTH = 255

/** A registration is one signed record plus its namespace and ttl (≤ 255 + 16 bytes of framing). */
export function discoverResponseLimit(limit: number): number {
  return Math.min(MAX_RENDEZVOUS_MESSAGE_BYTES, limit * (MAX_SIGNED_PEER_RECORD_BYTES + MAX_NAMESPACE_LENGTH + 16) + 1024)
}

function checkCluster(clusterId: number): void {
  if (!Number.isInteger(clusterId) || clusterId < 0 || clusterId > 0xffff) throw new BadInputError('BAD_CLUSTER', `cluster id must be an integer from 0 to 65535, got ${clusterId}`)
}

/** The current spec's namespace for mix nodes: `rs/<cluster>/mix` (nwaku's computeMixNamespace). */
export function mixNamespace(clusterId: number): string {
  checkCluster(clusterId)
  return `rs/${clusterId}/mix`
}

/** The older spec's per-shard namespace: `rs/<cluster>/<shard>` (nwaku's computeNamespace). */
export function shardNamespace(clusterId: number, shard: number): string {
  checkCluster(clusterId)
  if (!Number.isInteger(shard) || shard < 0 || shard > 0xffff) throw new BadInputError('BAD_SHARD', `shard must be an integer from 0 to 65535, got ${shard}`)
  return `rs/${clusterId}/${shard}`
}

/** A namespace the libp2p spec allows (1–255 bytes). */
export function checkNamespace(namespace: string): void {
  const length = new TextEncoder().encode(namespace).length
  if (length < MIN_NAMESPACE_LENGTH || length > MAX_NAMESPACE_LENGTH) {
    throw new BadInputError('BAD_NAMESPACE', `a rendezvous namespace must be ${MIN_NAMESPACE_LENGTH}–${MAX_NAMESPACE_LENGTH} bytes, got ${length}`)
  }
}

// ---------------------------------------------------------------------------------------------
// One request on one stream

export interface RendezvousReply {
  message: RendezvousMessage
  bytes: number
  trailingBytes: number
}

/** Sends one message on a new stream and reads one length-prefixed reply (or none, for UNREGISTER). */
export async function rendezvousRequest(
  connection: Connection,
  protocol: string,
  request: Uint8Array,
  options: {signal: AbortSignal; maxResponseBytes: number; what: string; expectReply?: boolean},
): Promise<RendezvousReply | undefined> {
  const {signal, what} = options
  const stream = await openStream(connection, protocol, signal)
  try {
    await writeFrame(stream, request, signal)
    await stream.close({signal}).catch(() => undefined)
    if (options.expectReply === false) {
      await awaitRemoteClose(stream, signal, what)
      return undefined
    }
    const frame = await readFrame(stream, {maxBytes: options.maxResponseBytes, signal, what})
    return {message: decodeRendezvousMessage(frame.message, what), bytes: frame.message.length, trailingBytes: frame.trailingBytes}
  } finally {
    stream.abort(new Error('done'))
  }
}

/**
 * Waits for the remote to close its side: for a message without a reply, that is how we know it
 * was read (aborting at once could reset the stream before the remote consumed it).
 */
async function awaitRemoteClose(stream: Stream, signal: AbortSignal, what: string): Promise<void> {
  const onAbort = () => stream.abort(new Error(`${what}: deadline reached`))
  signal.addEventListener('abort', onAbort, {once: true})
  try {
    // Nothing is expected; anything sent is ignored.
    for await (const _ of stream);
  } catch {
    // A reset after our message went out still delivered it; only our deadline is an error.
    if (signal.aborted) throw abortError(signal, what)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** The reply must be `type` with its body; anything else is a ProtocolError. */
export function expectReplyType(reply: RendezvousReply, type: number, what: string): void {
  const got = reply.message.type
  if (got !== type) {
    throw new ProtocolError('UNEXPECTED_MESSAGE', `${what}: expected ${rendezvousMessageTypeName(type)}, got message type ${got} (${rendezvousMessageTypeName(got) ?? 'unknown'})`)
  }
  const body = type === RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE ? reply.message.discoverResponse : reply.message.registerResponse
  if (!body) throw new ProtocolError('EMPTY_PAYLOAD', `${what}: ${rendezvousMessageTypeName(type)} without its body (field ${type === RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE ? 6 : 3})`)
}

// ---------------------------------------------------------------------------------------------
// Dialling a rendezvous point

export interface RendezvousConnectOptions {
  /** Reuse a running node; otherwise one is created (with `privateKey` when given) and stopped. */
  node?: ProbeNode
  /** Identity of the node created when `node` is not given. */
  privateKey?: PrivateKey
  signal?: AbortSignal
  /** Budget for the whole operation (dial and every request). */
  timeoutMs?: number
  timeouts?: Partial<StepTimeouts>
  protocol?: RendezvousProtocolChoice
}

export interface RendezvousSession {
  node: ProbeNode
  target: Target
  dialled: Dialled
  protocol: string
  timeouts: StepTimeouts
  /** The caller's signal combined with the overall budget. */
  signal: AbortSignal | undefined
}

/** Dials the point, runs `fn`, closes the connection (and the node when it made one). */
export async function withRendezvousSession<T>(targetInput: string | Target, options: RendezvousConnectOptions, what: string, fn: (session: RendezvousSession) => Promise<T>): Promise<T> {
  const protocol = rendezvousProtocolId(options.protocol)
  const target = typeof targetInput === 'string' ? parseTarget(targetInput) : targetInput
  if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
    throw new BadInputError('BAD_TIMEOUT', `timeout must be a positive number of milliseconds, got ${options.timeoutMs}`)
  }
  const timeouts = {...DEFAULT_TIMEOUTS, ...options.timeouts}
  const signal = options.timeoutMs !== undefined ? stepSignal(options.signal, options.timeoutMs) : options.signal
  const node = options.node ?? (await createProbeNode({dialTimeoutMs: timeouts.dialMs, ...(options.privateKey ? {privateKey: options.privateKey} : {})}))
  try {
    return await withPeerLock(node, target.peerId, async () => {
      const dialled = await dialTarget(node, target, {signal, timeoutMs: timeouts.dialMs})
      try {
        return await fn({node, target, dialled, protocol, timeouts, signal})
      } finally {
        // Always: a shared node must not keep connections from finished or failed exchanges.
        await dialled.connection.close().catch(() => undefined)
      }
    })
  } catch (err) {
    if (signal?.aborted && !isWakuDiscError(err)) throw abortError(signal, what)
    throw err
  } finally {
    if (!options.node) await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------------------------
// discover

export interface RendezvousRegistrationReport {
  /** Position in this namespace's answer, over all pages. */
  index: number
  page: number
  ok: boolean
  peerId?: string
  /** Decimal string (uint64). */
  seqNo?: string
  addresses?: string[]
  mixKey?: string
  /** Seconds left, as the point reported it. */
  ttl?: number
  /** The registration's own namespace (reported when it is not the one asked for). */
  namespace?: string
  error?: ErrorJson
  /** The first 512 bytes of an envelope that did not open. */
  envelopeHex?: string
  /** The whole envelope (with `keepEnvelopes`), to re-seed another point. */
  signedPeerRecordHex?: string
  /** Index of an earlier registration of the same peer. */
  duplicateOf?: number
}

export interface RendezvousNamespaceReport {
  namespace: string
  /** The last page's status (-1 when the exchange failed before any answer). */
  status: number
  statusName: string
  statusText?: string
  pages: number
  /** Stopped at the page cap while the point still had more to give. */
  truncated: boolean
  registrations: RendezvousRegistrationReport[]
  valid: number
  invalid: number
  responseBytes: number
  warnings: string[]
  /** The exchange for this namespace failed (the other namespaces are still reported). */
  error?: ErrorJson
}

export interface RendezvousDiscoverResult {
  target: {input: string; kind: Target['kind']; peerId: string}
  protocol: string
  remoteAddr: string
  dialMs: number
  discoverMs: number
  limit: number
  namespaces: RendezvousNamespaceReport[]
  /** Distinct peers with a valid record, over all namespaces. */
  peers: number
  /** 0, or 3 when the point knew no peer in any namespace asked for. */
  exitCode: 0 | 3
}

export interface RendezvousDiscoverOptions extends Omit<RendezvousConnectOptions, 'privateKey'> {
  namespaces: readonly string[]
  /** Registrations asked for per page (default 12, like nwaku). */
  limit?: number
  /** Pages followed per namespace (default 10). */
  maxPages?: number
  maxResponseBytes?: number
  /** Keep each valid registration's envelope as hex. */
  keepEnvelopes?: boolean
  /** Also accept nwaku's first payload type (05 05). */
  acceptLegacyPayloadType?: boolean
}

/** Runs DISCOVER for every namespace against one rendezvous point (multiaddr or ENR). */
export async function discoverRendezvous(targetInput: string | Target, options: RendezvousDiscoverOptions): Promise<RendezvousDiscoverResult> {
  const limit = options.limit ?? DEFAULT_RENDEZVOUS_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RENDEZVOUS_LIMIT) {
    throw new BadInputError('BAD_LIMIT', `limit must be an integer from 1 to ${MAX_RENDEZVOUS_LIMIT}, got ${limit}`)
  }
  const maxPages = options.maxPages ?? DEFAULT_RENDEZVOUS_MAX_PAGES
  if (!Number.isInteger(maxPages) || maxPages < 1) throw new BadInputError('BAD_MAX_PAGES', `max pages must be a positive integer, got ${maxPages}`)
  if (options.namespaces.length === 0) throw new BadInputError('NO_NAMESPACE', 'give at least one rendezvous namespace (e.g. rs/1/mix)')
  for (const ns of options.namespaces) checkNamespace(ns)

  return withRendezvousSession(targetInput, options, 'rendezvous discovery', async (session) => {
    const started = performance.now()
    const reports: RendezvousNamespaceReport[] = []
    const failures: WakuDiscError[] = []
    for (const namespace of options.namespaces) {
      const report: RendezvousNamespaceReport = {namespace, status: -1, statusName: 'NO_ANSWER', pages: 0, truncated: false, registrations: [], valid: 0, invalid: 0, responseBytes: 0, warnings: []}
      try {
        await discoverNamespace(session, report, limit, maxPages, options)
      } catch (err) {
        if (session.signal?.aborted) throw isWakuDiscError(err) ? err : abortError(session.signal, 'rendezvous discovery')
        if (!isWakuDiscError(err)) throw err
        failures.push(err)
        report.error = err.toJSON()
      }
      report.valid = report.registrations.filter((r) => r.ok).length
      report.invalid = report.registrations.length - report.valid
      reports.push(report)
    }
    // Nothing learned at all: the caller gets the error itself rather than a report of failures.
    if (failures.length === reports.length) throw failures[0]!
    const peers = new Set(reports.flatMap((r) => r.registrations.filter((x) => x.ok).map((x) => x.peerId!)))
    return {
      target: {input: session.target.input, kind: session.target.kind, peerId: session.target.peerId},
      protocol: session.protocol,
      remoteAddr: session.dialled.remoteAddr,
      dialMs: session.dialled.dialMs,
      discoverMs: round(performance.now() - started),
      limit,
      namespaces: reports,
      peers: peers.size,
      exitCode: peers.size === 0 ? ExitCode.checkFailed : ExitCode.ok,
    }
  })
}

async function discoverNamespace(session: RendezvousSession, report: RendezvousNamespaceReport, limit: number, maxPages: number, options: RendezvousDiscoverOptions): Promise<void> {
  const what = `rendezvous discover response (${report.namespace})`
  const seen = new Map<string, number>()
  let cookie: Uint8Array | undefined
  for (let page = 0; page < maxPages; page++) {
    const signal = stepSignal(session.signal, session.timeouts.protocolMs)
    const request = encodeDiscover({ns: report.namespace, limit: BigInt(limit), ...(cookie ? {cookie} : {})})
    const reply = (await rendezvousRequest(session.dialled.connection, session.protocol, request, {
      signal,
      maxResponseBytes: options.maxResponseBytes ?? discoverResponseLimit(limit),
      what,
    }))!
    expectReplyType(reply, RENDEZVOUS_MESSAGE_TYPE.DISCOVER_RESPONSE, what)
    const response = reply.message.discoverResponse!
    report.pages++
    report.responseBytes += reply.bytes
    report.status = response.status
    report.statusName = rendezvousStatusName(response.status) ?? 'UNRECOGNISED'
    if (response.statusText !== undefined && response.statusText !== '') report.statusText = response.statusText
    else delete report.statusText
    if (reply.trailingBytes > 0) report.warnings.push(`page ${page}: ${reply.trailingBytes} bytes followed the response frame`)
    if (response.status !== RENDEZVOUS_STATUS.OK) {
      if (response.registrations.length > 0) report.warnings.push(`page ${page}: status ${response.status} ${report.statusName} but ${response.registrations.length} registrations were sent (ignored)`)
      return
    }
    if (response.registrations.length > limit) report.warnings.push(`page ${page}: ${response.registrations.length} registrations for a limit of ${limit}`)
    for (const registration of response.registrations) {
      const checked = await checkRegistration(registration, report.registrations.length, page, options)
      if (registration.ns !== report.namespace) {
        checked.namespace = registration.ns
        report.warnings.push(`registration ${checked.index} is for namespace ${JSON.stringify(registration.ns.slice(0, 60))}, not the one asked for`)
      }
      if (checked.ok) {
        const first = seen.get(checked.peerId!)
        if (first === undefined) seen.set(checked.peerId!, checked.index)
        else {
          checked.duplicateOf = first
          report.warnings.push(`registration ${checked.index} repeats peer ${checked.peerId} (registration ${first})`)
        }
      }
      report.registrations.push(checked)
    }
    if (response.registrations.length === 0) return
    if (!response.cookie || response.cookie.length === 0) return
    if (cookie && equalBytes(cookie, response.cookie)) {
      report.warnings.push(`page ${page}: the cookie did not advance; stopped`)
      return
    }
    cookie = response.cookie
    if (page === maxPages - 1) report.truncated = true
  }
}

async function checkRegistration(registration: RendezvousRegister, index: number, page: number, options: RendezvousDiscoverOptions): Promise<RendezvousRegistrationReport> {
  const base: RendezvousRegistrationReport = {index, page, ok: false}
  if (registration.ttl !== undefined) base.ttl = Number(registration.ttl)
  try {
    const record = await openWakuPeerRecord(registration.signedPeerRecord, {what: `registration ${index}`, acceptLegacyPayloadType: options.acceptLegacyPayloadType ?? false})
    return {
      ...base,
      ok: true,
      peerId: record.peerId,
      seqNo: record.seqNo.toString(),
      addresses: record.addresses,
      ...(record.mixKey !== undefined ? {mixKey: record.mixKey} : {}),
      ...(options.keepEnvelopes ? {signedPeerRecordHex: hex.encode(registration.signedPeerRecord)} : {}),
    }
  } catch (err) {
    const error: ErrorJson = isWakuDiscError(err) ? err.toJSON() : {name: 'ProtocolError', code: 'BAD_PEER_RECORD', exitCode: 5, message: `registration ${index}: ${(err as Error)?.message ?? String(err)}`}
    return {...base, error, envelopeHex: hex.encode(registration.signedPeerRecord.subarray(0, 512))}
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
