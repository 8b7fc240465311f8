import {networkInterfaces} from 'node:os'

import {isWakuDiscError} from '../errors.js'
import {StunClient, type BindingOptions, type BindingResponse} from './client.js'
import {CHANGE_IP, CHANGE_PORT, formatAddress, type TransportAddress} from './message.js'

export type MappingBehavior = 'no-nat' | 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown'
export type FilteringBehavior = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown'

export interface BehaviorStep {
  test: string
  target: string
  change?: string
  /** The mapped address seen, or null when no answer came. */
  mapped: string | null
  responseOrigin?: string
  from?: string
  ms: number
  error?: string
}

export interface NatBehaviorReport {
  server: string
  /** Whether the server advertised OTHER-ADDRESS (RFC 5780 support). */
  rfc5780: boolean
  otherAddress?: string
  localAddress?: string
  mappedAddress?: string
  mapping: MappingBehavior
  filtering: FilteringBehavior
  steps: BehaviorStep[]
  /** Why a behaviour is "unknown", in words. */
  notes: string[]
  ms: number
}

export interface BehaviorOptions {
  /** Retransmission schedule for tests that expect an answer. */
  retransmitMs?: number[]
  lastWaitMs?: number
  /** Shorter schedule for the filtering tests, where silence is a valid answer. */
  filterRetransmitMs?: number[]
  filterLastWaitMs?: number
  signal?: AbortSignal
  /** Factory for the UDP client (tests inject one bound to a given address). */
  newClient?: () => StunClient
}

const now = () => performance.now()

function localAddresses(): Set<string> {
  const set = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) set.add(i.address)
  return set
}

function same(a?: TransportAddress, b?: TransportAddress): boolean {
  return !!a && !!b && a.address === b.address && a.port === b.port
}

async function step(
  client: StunClient,
  test: string,
  target: TransportAddress,
  opts: BindingOptions,
  steps: BehaviorStep[],
): Promise<BindingResponse | null> {
  const t0 = now()
  const s: BehaviorStep = {test, target: formatAddress(target), mapped: null, ms: 0}
  if (opts.change) s.change = [opts.change & CHANGE_IP ? 'ip' : '', opts.change & CHANGE_PORT ? 'port' : ''].filter(Boolean).join('+')
  steps.push(s)
  try {
    const r = await client.binding(target, opts)
    s.ms = Math.round((now() - t0) * 10) / 10
    if (r) {
      s.mapped = formatAddress(r.mappedAddress!)
      s.from = formatAddress(r.from)
      if (r.responseOrigin) s.responseOrigin = formatAddress(r.responseOrigin)
    }
    return r
  } catch (err) {
    s.ms = Math.round((now() - t0) * 10) / 10
    if (isWakuDiscError(err) && err.name === 'InterruptedError') throw err
    if (isWakuDiscError(err) && err.code === 'TIMEOUT') throw err
    s.error = (err as Error).message
    return null
  }
}

/**
 * RFC 5780 §4.3/§4.4 NAT behaviour discovery against one server. Mapping tests share one socket
 * (I: primary; II: alternate IP, primary port; III: alternate IP and port). Filtering tests use a
 * fresh socket so the mapping tests' outgoing packets have not opened any filter (I; II:
 * CHANGE-REQUEST ip+port; III: CHANGE-REQUEST port).
 */
export async function discoverNatBehavior(server: TransportAddress, options: BehaviorOptions = {}): Promise<NatBehaviorReport> {
  const t0 = now()
  const steps: BehaviorStep[] = []
  const notes: string[] = []
  const req: BindingOptions = {retransmitMs: options.retransmitMs, lastWaitMs: options.lastWaitMs, signal: options.signal}
  const filt: BindingOptions = {
    retransmitMs: options.filterRetransmitMs ?? [300, 600],
    lastWaitMs: options.filterLastWaitMs ?? 1000,
    signal: options.signal,
  }
  const newClient = options.newClient ?? (() => new StunClient({family: server.family}))
  const report: NatBehaviorReport = {server: formatAddress(server), rfc5780: false, mapping: 'unknown', filtering: 'unknown', steps, notes, ms: 0}
  const mc = newClient()
  try {
    const local = await mc.bind()
    const r1 = await step(mc, 'mapping I', server, req, steps)
    if (!r1) {
      notes.push(`no answer from ${formatAddress(server)}: UDP to it is blocked or it is not a STUN server`)
      return report
    }
    report.mappedAddress = formatAddress(r1.mappedAddress!)
    report.localAddress = formatAddress(local)
    const other = r1.otherAddress
    if (other) {
      report.rfc5780 = true
      report.otherAddress = formatAddress(other)
    }
    if (localAddresses().has(r1.mappedAddress!.address) && r1.mappedAddress!.port === local.port) {
      report.mapping = 'no-nat'
    } else if (!other) {
      notes.push('the server does not send OTHER-ADDRESS (no RFC 5780), so mapping and filtering behaviour cannot be tested against it')
    } else if (other.address === server.address) {
      notes.push(`OTHER-ADDRESS ${formatAddress(other)} has the same IP as the server: cannot test address-dependence`)
    } else {
      const r2 = await step(mc, 'mapping II', {...other, port: server.port}, req, steps)
      if (!r2) notes.push('no answer from the alternate address (test II)')
      else if (same(r2.mappedAddress, r1.mappedAddress)) report.mapping = 'endpoint-independent'
      else {
        const r3 = await step(mc, 'mapping III', other, req, steps)
        if (!r3) notes.push('no answer from the alternate address and port (test III)')
        else report.mapping = same(r3.mappedAddress, r2.mappedAddress) ? 'address-dependent' : 'address-and-port-dependent'
      }
    }
  } finally {
    mc.close()
  }
  if (report.rfc5780 || report.mapping === 'no-nat') {
    const fc = newClient()
    try {
      await fc.bind()
      const f1 = await step(fc, 'filtering I', server, req, steps)
      if (!f1) notes.push('no answer to filtering test I')
      else if (report.rfc5780) {
        const f2 = await step(fc, 'filtering II', server, {...filt, change: CHANGE_IP | CHANGE_PORT}, steps)
        if (f2) report.filtering = 'endpoint-independent'
        else {
          const f3 = await step(fc, 'filtering III', server, {...filt, change: CHANGE_PORT}, steps)
          report.filtering = f3 ? 'address-dependent' : 'address-and-port-dependent'
        }
      }
    } finally {
      fc.close()
    }
  }
  report.ms = Math.round((now() - t0) * 10) / 10
  return report
}
