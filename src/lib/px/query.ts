/**
 * `px query`: one 34/WAKU2-PEER-EXCHANGE request to one node, every returned ENR checked on its own
 * (an invalid record is reported and the rest kept, unlike js-waku which drops the whole answer).
 */
import {multiaddr} from '@multiformats/multiaddr'

import {decodeEnr, lintEnr, parseEnr, type DecodedEnr, type EnrRecord, type LintFinding} from '../enr/index.js'
import {BadInputError, ProtocolError, abortError, isWakuDiscError, type ErrorJson} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import {PEER_EXCHANGE_PROTOCOL} from '../libp2p/protocols.js'
import {DEFAULT_TIMEOUTS, dialTarget, openStream, round, stepSignal, withPeerLock, type StepTimeouts} from '../libp2p/session.js'
import {readFrame, writeFrame, type Frame} from '../libp2p/stream.js'
import {parseTarget, type Target} from '../libp2p/target.js'
import {checkDestination, trustedRangesFor} from '../net/index.js'
import {decodeRpc, effectiveStatus, encodeQuery, PX_STATUS, type PxStyle} from './codec.js'

export const DEFAULT_PX_PEERS = 5
export const MAX_PX_PEERS = 1000
/** nwaku's client cap (10 × 150 KiB + 64 KiB): the most any honest responder sends. */
export const NWAKU_MAX_RPC_BYTES = 10 * 150 * 1024 + 64 * 1024
/** An ENR is ≤ 300 bytes; each PeerInfo adds ≤ 8 bytes of framing. */
const BYTES_PER_PEER = 300 + 8

/**
 * The response size we accept for a request of `numPeers`: that many full-size records plus 1 KiB
 * of slack, never more than nwaku's own cap. A bigger answer cannot come from an honest responder,
 * so it is refused before it is buffered.
 */
export function pxResponseLimit(numPeers: number): number {
  return Math.min(NWAKU_MAX_RPC_BYTES, numPeers * BYTES_PER_PEER + 1024)
}

export interface AddressFlag {
  address: string
  /** The net admission refusal: loopback, private, reserved, low-port, … */
  reason: string
}

export interface PxPeer {
  index: number
  ok: boolean
  /** `enr:` text (when the bytes parsed as a record). */
  enr?: string
  /** Raw bytes as hex when they could not be parsed. */
  rawHex?: string
  error?: ErrorJson
  decoded?: DecodedEnr
  lint?: LintFinding[]
  /** Addresses in the record that a public node could not legitimately point at. */
  forbiddenAddresses: AddressFlag[]
  duplicateOf?: number
}

export interface PxQueryResult {
  target: {input: string; kind: Target['kind']; peerId: string}
  remoteAddr: string
  dialMs: number
  exchangeMs: number
  requested: number
  status: {code: number; name: string; explicit: boolean; desc?: string}
  received: number
  valid: number
  invalid: number
  flagged: number
  /** Records beyond the number requested (the spec says a responder SHOULD NOT send them). */
  surplus: number
  responseBytes: number
  peers: PxPeer[]
  warnings: string[]
}

export interface PxQueryOptions {
  numPeers?: number
  signal?: AbortSignal
  timeouts?: Partial<StepTimeouts>
  /** Reuse a running node (fleet checks, doctor); otherwise one is created and stopped. */
  node?: ProbeNode
  /** Override the response byte cap. */
  maxResponseBytes?: number
  /** Request layout (default 'minimal': what js-waku and go-waku send; nwaku accepts it). */
  style?: PxStyle
}

/** Runs one peer-exchange query against a multiaddr or ENR. */
export async function queryPeerExchange(targetInput: string | Target, options: PxQueryOptions = {}): Promise<PxQueryResult> {
  const numPeers = options.numPeers ?? DEFAULT_PX_PEERS
  if (!Number.isInteger(numPeers) || numPeers < 1 || numPeers > MAX_PX_PEERS) {
    throw new BadInputError('BAD_NUM_PEERS', `--num must be an integer from 1 to ${MAX_PX_PEERS}, got ${numPeers}`)
  }
  const target = typeof targetInput === 'string' ? parseTarget(targetInput) : targetInput
  const timeouts = {...DEFAULT_TIMEOUTS, ...options.timeouts}
  const node = options.node ?? (await createProbeNode({dialTimeoutMs: timeouts.dialMs}))
  try {
    return await withPeerLock(node, target.peerId, () => exchange(node, target, numPeers, timeouts, options))
  } catch (err) {
    if (options.signal?.aborted && !isWakuDiscError(err)) throw abortError(options.signal, 'peer exchange')
    throw err
  } finally {
    if (!options.node) await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

async function exchange(node: ProbeNode, target: Target, numPeers: number, timeouts: StepTimeouts, options: PxQueryOptions): Promise<PxQueryResult> {
  {
    const dialled = await dialTarget(node, target, {signal: options.signal, timeoutMs: timeouts.dialMs})
    let frame: Frame
    let exchangeMs: number
    try {
      const signal = stepSignal(options.signal, timeouts.protocolMs)
      const started = performance.now()
      const stream = await openStream(dialled.connection, PEER_EXCHANGE_PROTOCOL, signal)
      try {
        await writeFrame(stream, encodeQuery(numPeers, options.style), signal)
        await stream.close({signal}).catch(() => undefined)
        frame = await readFrame(stream, {maxBytes: options.maxResponseBytes ?? pxResponseLimit(numPeers), signal, what: 'peer-exchange response'})
      } finally {
        stream.abort(new Error('done'))
      }
      exchangeMs = round(performance.now() - started)
    } finally {
      // Always: a shared node (fleet, doctor) must not keep connections from failed exchanges.
      await dialled.connection.close().catch(() => undefined)
    }
    const rpc = decodeRpc(frame.message, 'peer-exchange response')
    if (!rpc.response) {
      throw new ProtocolError('EMPTY_PAYLOAD', 'peer-exchange answer has no response field (field 2)', {
        hint: 'the peer may not speak 34/WAKU2-PEER-EXCHANGE or sent a request back',
      })
    }
    const status = effectiveStatus(rpc.response)
    const warnings: string[] = []
    if (frame.trailingBytes > 0) warnings.push(`${frame.trailingBytes} bytes followed the response frame`)
    if (status.explicit && status.code !== PX_STATUS.SUCCESS && rpc.response.enrs.length > 0) {
      warnings.push(`status ${status.code} ${status.name} but ${rpc.response.enrs.length} records were sent`)
    }
    const responderIp = ipOf(dialled.remoteAddr)
    const trusted = responderIp ? trustedRangesFor([responderIp]) : []
    // Lint as a public list only when the responder is public: a LAN responder may share LAN records.
    const publicList = trusted.length === 0
    const peers = rpc.response.enrs.map((bytes, index) => checkPeer(bytes, index, trusted, publicList))
    markDuplicates(peers, warnings)
    const surplus = Math.max(0, peers.length - numPeers)
    if (surplus > 0) warnings.push(`the responder sent ${peers.length} records for ${numPeers} requested (${surplus} too many)`)
    const selfIndex = peers.findIndex((p) => p.decoded?.peerId === target.peerId)
    if (selfIndex >= 0) warnings.push(`record ${selfIndex} is the responder itself`)
    return {
      target: {input: target.input, kind: target.kind, peerId: target.peerId},
      remoteAddr: dialled.remoteAddr,
      dialMs: dialled.dialMs,
      exchangeMs,
      requested: numPeers,
      status: {...status, ...(rpc.response.statusDesc !== undefined ? {desc: rpc.response.statusDesc} : {})},
      received: peers.length,
      valid: peers.filter((p) => p.ok).length,
      invalid: peers.filter((p) => !p.ok).length,
      flagged: peers.filter((p) => p.forbiddenAddresses.length > 0).length,
      surplus,
      responseBytes: frame.message.length,
      peers,
      warnings,
    }
  }
}

function checkPeer(bytes: Uint8Array | undefined, index: number, trusted: string[], publicList: boolean): PxPeer {
  if (!bytes || bytes.length === 0) {
    return {index, ok: false, error: new ProtocolError('EMPTY_PEER_INFO', `record ${index}: PeerInfo has no enr bytes`).toJSON(), forbiddenAddresses: []}
  }
  let record: EnrRecord
  try {
    record = parseEnr(bytes)
  } catch (err) {
    const e = isWakuDiscError(err) ? err.toJSON() : {name: 'Error', code: 'BAD_ENR', exitCode: 2, message: (err as Error).message}
    return {index, ok: false, rawHex: Buffer.from(bytes.subarray(0, 512)).toString('hex'), error: {...e, message: `record ${index}: ${e.message}`}, forbiddenAddresses: []}
  }
  const decoded = decodeEnr(record)
  const lint = lintEnr(record, {publicList})
  return {index, ok: true, enr: record.text, decoded, lint, forbiddenAddresses: forbiddenAddresses(decoded, trusted)}
}

/** Every ip:port in the record that the admission policy refuses (a LAN responder vouches for its own LAN). */
export function forbiddenAddresses(decoded: DecodedEnr, trustedRanges: string[] = []): AddressFlag[] {
  const pairs: Array<[string, number, string]> = []
  if (decoded.ip) {
    if (decoded.tcp !== undefined) pairs.push([decoded.ip, decoded.tcp, `${decoded.ip}:${decoded.tcp}/tcp`])
    if (decoded.udp !== undefined) pairs.push([decoded.ip, decoded.udp, `${decoded.ip}:${decoded.udp}/udp`])
    if (decoded.tcp === undefined && decoded.udp === undefined) pairs.push([decoded.ip, 65535, decoded.ip])
  }
  if (decoded.ip6) {
    if (decoded.tcp6 !== undefined) pairs.push([decoded.ip6, decoded.tcp6, `[${decoded.ip6}]:${decoded.tcp6}/tcp`])
    if (decoded.udp6 !== undefined) pairs.push([decoded.ip6, decoded.udp6, `[${decoded.ip6}]:${decoded.udp6}/udp`])
  }
  for (const text of decoded.waku?.multiaddrs ?? []) {
    try {
      const parts = multiaddr(text).getComponents()
      const ip = parts.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
      const port = parts.find((c) => c.name === 'tcp' || c.name === 'udp')?.value
      if (ip) pairs.push([ip, port ? Number(port) : 65535, text])
    } catch {
      // decodeEnr already reports unparsable multiaddrs
    }
  }
  const flags: AddressFlag[] = []
  for (const [ip, port, address] of pairs) {
    const decision = checkDestination(ip, port, {trustedRanges})
    if (!decision.allowed) flags.push({address, reason: decision.reason ?? 'refused'})
  }
  return flags
}

function markDuplicates(peers: PxPeer[], warnings: string[]): void {
  const seen = new Map<string, number>()
  for (const p of peers) {
    const id = p.decoded?.nodeId
    if (!id) continue
    const first = seen.get(id)
    if (first === undefined) seen.set(id, p.index)
    else {
      p.duplicateOf = first
      warnings.push(`record ${p.index} repeats node ${id.slice(0, 16)}… (record ${first})`)
    }
  }
}

function ipOf(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
  } catch {
    return undefined
  }
}
