/**
 * `caps`: what a node really offers. Dial, identify (agent, protocols, addresses), the Waku
 * metadata exchange (cluster and shards), ping, and a cross-check of all that against the node's
 * ENR when the target is one. Expectations (`--expect`, `--cluster`, `--shard`) make it a canary.
 */
import type {IdentifyResult} from '@libp2p/interface'

import {ProtocolError, UnreachableError, abortError, isWakuDiscError, type ErrorJson, type WakuDiscError} from '../errors.js'
import {MAX_METADATA_BYTES, createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {METADATA_PROTOCOL, PING_PROTOCOL, WAKU2_BIT_CAPABILITY, capabilitiesOf, nameProtocol, type Capability, type ProtocolName} from '../libp2p/protocols.js'
import {DEFAULT_TIMEOUTS, describe, dialTarget, openStream, round, stepSignal, withPeerLock, pingConnection, type Dialled} from '../libp2p/session.js'
import {readFrame, writeFrame} from '../libp2p/stream.js'
import {parseTarget, type Target} from '../libp2p/target.js'
import {decodeMetadata, encodeMetadata, type WakuMetadata} from './metadata-codec.js'

export interface CapsExpectations {
  capabilities?: Capability[]
  cluster?: number
  shards?: number[]
}

export interface CapsOptions {
  signal?: AbortSignal
  /** Budget for the whole check of one target (default 10 s, like wakucanary). */
  timeoutMs?: number
  node?: ProbeNode
  expect?: CapsExpectations
  /** What we announce in our metadata request (default: the expected cluster/shards, else the ENR's). */
  announce?: {clusterId?: number; shards?: number[]}
  ping?: boolean
}

export interface IdentifyInfo {
  agentVersion?: string
  protocolVersion?: string
  protocols: ProtocolName[]
  listenAddrs: string[]
  observedAddr?: string
  ms: number
}

export interface MetadataInfo extends WakuMetadata {
  ms: number
}

export interface Finding {
  code: string
  severity: 'error' | 'warning' | 'info'
  message: string
}

export interface ExpectationResult {
  what: string
  expected: string
  actual: string
  ok: boolean
}

export type CapsStatus = 'ok' | 'unmet' | 'unreachable'

export interface CapsReport {
  target: {input: string; kind: Target['kind']; peerId: string}
  status: CapsStatus
  reachable: boolean
  error?: ErrorJson
  remoteAddr?: string
  dialMs?: number
  multiplexer?: string
  encryption?: string
  identify?: IdentifyInfo
  identifyError?: ErrorJson
  capabilities: Capability[]
  metadata?: MetadataInfo
  metadataError?: ErrorJson
  pingMs?: number
  pingError?: ErrorJson
  /** ENR versus what the node said (only for ENR targets). */
  enr?: {cluster?: number; shards?: number[]; waku2?: string[]; findings: Finding[]}
  expectations: ExpectationResult[]
  durationMs: number
}

const DEFAULT_BUDGET_MS = 10_000

function errJson(err: unknown): ErrorJson {
  if (isWakuDiscError(err)) return err.toJSON()
  return {name: 'Error', code: 'UNEXPECTED', exitCode: 1, message: describe(err)}
}

/** Checks one target. Never throws for network trouble (it is reported); throws for bad input or interruption. */
export async function checkCapabilities(targetInput: string | Target, options: CapsOptions = {}): Promise<CapsReport> {
  const target = typeof targetInput === 'string' ? parseTarget(targetInput) : targetInput
  const budget = options.timeoutMs ?? DEFAULT_BUDGET_MS
  const node = options.node ?? (await createProbeNode({dialTimeoutMs: budget, metadata: options.announce ?? {}}))
  try {
    return await withPeerLock(node, target.peerId, () => checkOne(node, target, budget, options))
  } finally {
    if (!options.node) await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

async function checkOne(node: ProbeNode, target: Target, budget: number, options: CapsOptions): Promise<CapsReport> {
  const signal = stepSignal(options.signal, budget)
  const started = performance.now()
  const report: CapsReport = {
    target: {input: target.input, kind: target.kind, peerId: target.peerId},
    status: 'unreachable',
    reachable: false,
    capabilities: [],
    expectations: [],
    durationMs: 0,
  }
  let dialled: Dialled | undefined
  try {
    try {
      dialled = await dialTarget(node, target, {signal, timeoutMs: Math.min(budget, DEFAULT_TIMEOUTS.dialMs)})
    } catch (err) {
      rethrowInterrupt(options.signal, err)
      report.error = errJson(err)
      return finish(report, target, options, started)
    }
    report.reachable = true
    report.remoteAddr = dialled.remoteAddr
    report.dialMs = dialled.dialMs
    if (dialled.multiplexer) report.multiplexer = dialled.multiplexer
    if (dialled.encryption) report.encryption = dialled.encryption
    const connection = dialled.connection

    let protocols: string[] | undefined
    try {
      const t0 = performance.now()
      const id: IdentifyResult = await node.services.identify.identify(connection, {signal})
      protocols = [...id.protocols].sort()
      report.identify = {
        ...(id.agentVersion !== undefined ? {agentVersion: id.agentVersion} : {}),
        ...(id.protocolVersion !== undefined ? {protocolVersion: id.protocolVersion} : {}),
        protocols: protocols.map(nameProtocol),
        listenAddrs: id.listenAddrs.map(String),
        ...(id.observedAddr ? {observedAddr: id.observedAddr.toString()} : {}),
        ms: round(performance.now() - t0),
      }
      report.capabilities = capabilitiesOf(protocols)
    } catch (err) {
      rethrowInterrupt(options.signal, err)
      report.identifyError = signal.aborted ? abortError(signal, 'identify').toJSON() : new ProtocolError('IDENTIFY_FAILED', `identify failed: ${describe(err)}`).toJSON()
    }

    const announce = options.announce ?? {
      clusterId: options.expect?.cluster ?? target.enr?.waku?.cluster,
      shards: options.expect?.shards ?? target.enr?.waku?.shards ?? [],
    }
    const wantsMetadata = protocols === undefined || protocols.includes(METADATA_PROTOCOL)
    const wantsPing = options.ping !== false && (protocols === undefined || protocols.includes(PING_PROTOCOL))
    await Promise.all([
      wantsMetadata
        ? queryMetadata(connection, announce, signal).then(
            (m) => void (report.metadata = m),
            (err) => {
              rethrowInterrupt(options.signal, err)
              report.metadataError = errJson(err)
            },
          )
        : Promise.resolve(),
      wantsPing
        ? pingConnection(connection, signal).then(
            (ms) => void (report.pingMs = ms),
            (err) => {
              rethrowInterrupt(options.signal, err)
              report.pingError = isWakuDiscError(err) ? err.toJSON() : new UnreachableError('PING_FAILED', `ping failed: ${describe(err)}`).toJSON()
            },
          )
        : Promise.resolve(),
    ])
    if (!wantsMetadata) report.metadataError = new ProtocolError('PROTOCOL_UNSUPPORTED', `the peer does not announce ${METADATA_PROTOCOL}`).toJSON()
    return finish(report, target, options, started)
  } finally {
    if (dialled) await dialled.connection.close().catch(() => undefined)
  }
}

function rethrowInterrupt(parent: AbortSignal | undefined, err: unknown): void {
  // Only the user's own signal (SIGINT) stops everything; a step deadline is a per-target result.
  if (parent?.aborted) {
    const e = abortError(parent, 'caps')
    if (e.code !== 'TIMEOUT') throw e
  }
  void err
}

/** One metadata request/response on an open connection. */
export async function queryMetadata(
  connection: Dialled['connection'],
  announce: {clusterId?: number; shards?: number[]},
  signal: AbortSignal,
): Promise<MetadataInfo> {
  const t0 = performance.now()
  const stream = await openStream(connection, METADATA_PROTOCOL, signal)
  try {
    await writeFrame(stream, encodeMetadata(announce.clusterId, announce.shards ?? [], 'nwaku'), signal)
    await stream.close({signal}).catch(() => undefined)
    const frame = await readFrame(stream, {maxBytes: MAX_METADATA_BYTES, signal, what: 'metadata response'})
    return {...decodeMetadata(frame.message), ms: round(performance.now() - t0)}
  } finally {
    stream.abort(new Error('done'))
  }
}

function finish(report: CapsReport, target: Target, options: CapsOptions, started: number): CapsReport {
  if (target.enr && report.reachable) report.enr = crossCheckEnr(target, report)
  report.expectations = evaluate(report, options.expect ?? {})
  report.status = !report.reachable ? 'unreachable' : report.expectations.every((e) => e.ok) ? 'ok' : 'unmet'
  report.durationMs = round(performance.now() - started)
  return report
}

/** The ENR's promises (waku2 bits, rs/rsv) against identify and metadata. */
export function crossCheckEnr(target: Target, report: CapsReport): NonNullable<CapsReport['enr']> {
  const waku = target.enr?.waku
  const findings: Finding[] = []
  const bits = waku?.waku2?.capabilities ?? []
  if (report.identify) {
    for (const bit of bits) {
      const cap = WAKU2_BIT_CAPABILITY[bit]
      if (cap && !report.capabilities.includes(cap)) {
        findings.push({code: 'ENR_PROTOCOL_MISSING', severity: 'warning', message: `ENR waku2 claims ${bit} but identify lists no ${bit} protocol`})
      }
    }
    for (const [bit, cap] of Object.entries(WAKU2_BIT_CAPABILITY)) {
      if (report.capabilities.includes(cap) && !bits.includes(bit as never)) {
        findings.push({code: 'PROTOCOL_NOT_IN_ENR', severity: 'info', message: `identify lists ${bit} but the ENR's waku2 field does not announce it`})
      }
    }
    if (!waku?.waku2) findings.push({code: 'NO_WAKU2', severity: 'info', message: 'the ENR has no waku2 field'})
  }
  const meta = report.metadata
  if (meta && waku?.cluster !== undefined) {
    if (meta.clusterId === undefined) findings.push({code: 'METADATA_NO_CLUSTER', severity: 'warning', message: `metadata names no cluster; the ENR says ${waku.cluster}`})
    else if (meta.clusterId !== waku.cluster) {
      findings.push({code: 'CLUSTER_MISMATCH', severity: 'error', message: `ENR rs/rsv cluster ${waku.cluster} but metadata says ${meta.clusterId}`})
    }
    const enrShards = waku.shards ?? []
    const missing = enrShards.filter((s) => !meta.shards.includes(s))
    const extra = meta.shards.filter((s) => !enrShards.includes(s))
    if (missing.length > 0) findings.push({code: 'SHARDS_NOT_SERVED', severity: 'warning', message: `ENR shards ${missing.join(',')} are not in the metadata answer`})
    if (extra.length > 0) findings.push({code: 'SHARDS_NOT_IN_ENR', severity: 'info', message: `metadata shards ${extra.join(',')} are not in the ENR`})
  }
  if (meta?.fieldMismatch) {
    findings.push({code: 'METADATA_FIELDS_DISAGREE', severity: 'warning', message: `metadata field 2 (${meta.fieldMismatch.field2.join(',')}) and field 3 (${meta.fieldMismatch.field3.join(',')}) disagree`})
  }
  return {
    ...(waku?.cluster !== undefined ? {cluster: waku.cluster} : {}),
    ...(waku?.shards ? {shards: waku.shards} : {}),
    ...(waku?.waku2 ? {waku2: [...waku.waku2.capabilities]} : {}),
    findings,
  }
}

function evaluate(report: CapsReport, expect: CapsExpectations): ExpectationResult[] {
  const out: ExpectationResult[] = []
  for (const cap of expect.capabilities ?? []) {
    out.push({what: `protocol ${cap}`, expected: 'supported', actual: report.identify ? (report.capabilities.includes(cap) ? 'supported' : 'missing') : 'identify failed', ok: report.capabilities.includes(cap)})
  }
  if (expect.cluster !== undefined) {
    const actual = report.metadata?.clusterId
    out.push({what: 'cluster', expected: String(expect.cluster), actual: actual === undefined ? (report.metadata ? 'none' : 'metadata failed') : String(actual), ok: actual === expect.cluster})
  }
  for (const shard of expect.shards ?? []) {
    const has = report.metadata?.shards.includes(shard) ?? false
    out.push({what: `shard ${shard}`, expected: 'served', actual: report.metadata ? (has ? 'served' : 'not served') : 'metadata failed', ok: has})
  }
  return out
}

export type {WakuDiscError}
