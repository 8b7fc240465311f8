/**
 * doctor's reachability step, for an operator on the node's own host: is port mapping available
 * at the gateway, does the record's ip/port match what the gateway maps, and (with a relay) does
 * the node get a direct link or only the relay. One verdict in words; the full reports in `data`.
 */
import {decodeEnr, parseEnr} from '../enr/index.js'
import {ExitCode, isWakuDiscError} from '../errors.js'
import {portmap, reach, type PortMapProtocolName, type PortMapReport, type ReachReport} from '../nat/index.js'
import type {DoctorStep} from './index.js'

export interface ReachabilityOptions {
  gateway?: string
  protocols?: PortMapProtocolName[]
  natPmpPort?: number
  /** A circuit relay v2 address: dial the node through it and watch for a DCUtR upgrade. */
  relay?: string
  timeoutMs?: number
}

export async function reachabilityStep(target: string, options: ReachabilityOptions, signal?: AbortSignal): Promise<DoctorStep> {
  const t0 = performance.now()
  const isEnr = !target.startsWith('/')
  const parts: string[] = []
  let status: DoctorStep['status'] = 'ok'
  const data: {portmap?: PortMapReport; reach?: ReachReport; errors?: string[]} = {}
  const errors: string[] = []
  try {
    // The discv5 port is the one a mapping must serve (peers find the node over discv5 first).
    const udp = isEnr ? decodeEnr(parseEnr(target)).udp : undefined
    data.portmap = await portmap({gateway: options.gateway, protocols: options.protocols, natPmpPort: options.natPmpPort, port: udp, protocol: 'udp', checkEnr: isEnr ? target : undefined, timeoutMs: options.timeoutMs ?? 1500, signal})
    const pm = data.portmap
    const mapped = (['upnp', 'natpmp', 'pcp'] as const).filter((p) => pm.protocols[p].mapping)
    parts.push(mapped.length ? `port mapping available (${mapped.join(', ')}) at ${pm.gateway}` : `no port mapping at ${pm.gateway}`)
    const bad = pm.enrCheck?.findings.filter((f) => f.level === 'error') ?? []
    if (bad.length) {
      status = 'fail'
      parts.push(...bad.map((b) => b.message))
    } else if (pm.enrCheck) parts.push('the record matches the gateway')
    if (!mapped.length && status === 'ok') status = 'warn'
  } catch (err) {
    errors.push(isWakuDiscError(err) ? `${err.code}: ${err.message}` : String(err))
    parts.push(`port mapping not checked (${errors.at(-1)})`)
    status = 'warn'
  }
  if (options.relay) {
    try {
      data.reach = await reach(target, {relay: options.relay, attempts: 1, timeoutMs: options.timeoutMs ?? 10_000, signal})
      parts.push(data.reach.verdict)
      if (data.reach.exitCode === ExitCode.unreachable) status = 'fail'
      else if (data.reach.exitCode !== ExitCode.ok && status === 'ok') status = 'warn'
    } catch (err) {
      errors.push(isWakuDiscError(err) ? `${err.code}: ${err.message}` : String(err))
      parts.push(`reachability through the relay not checked (${errors.at(-1)})`)
      if (status === 'ok') status = 'warn'
    }
  }
  if (errors.length) data.errors = errors
  return {step: 'reachability', subject: target.length > 40 ? `${target.slice(0, 37)}…` : target, status, summary: parts.join('; '), durationMs: Math.round(performance.now() - t0), data}
}
