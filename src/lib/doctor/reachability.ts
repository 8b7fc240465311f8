/**
 * doctor's reachability step, for an operator on the node's own host: is port mapping available
 * at the gateway, does the record's ip/port match what the gateway maps, and (with a relay) does
 * the node get a direct link or only the relay. A status and the full reports in `data`; the
 * verdict in words is src/ui/doctor.ts's.
 */
import {decodeEnr, parseEnr} from '../enr/index.js'
import {ExitCode} from '../errors.js'
import {portmap, reach} from '../nat/index.js'
import {stepError, type DoctorStep, type ReachabilityData, type ReachabilityOptions} from './types.js'

export type {ReachabilityData, ReachabilityOptions} from './types.js'

export async function reachabilityStep(target: string, options: ReachabilityOptions, signal?: AbortSignal): Promise<DoctorStep> {
  const t0 = performance.now()
  const isEnr = !target.startsWith('/')
  let status: DoctorStep['status'] = 'ok'
  const data: ReachabilityData = {}
  try {
    // The discv5 port is the one a mapping must serve (peers find the node over discv5 first).
    const udp = isEnr ? decodeEnr(parseEnr(target)).udp : undefined
    data.portmap = await portmap({gateway: options.gateway, protocols: options.protocols, natPmpPort: options.natPmpPort, port: udp, protocol: 'udp', checkEnr: isEnr ? target : undefined, timeoutMs: options.timeoutMs ?? 1500, signal})
    const pm = data.portmap
    const mapped = (['upnp', 'natpmp', 'pcp'] as const).filter((p) => pm.protocols[p].mapping)
    if (pm.enrCheck?.findings.some((f) => f.level === 'error')) status = 'fail'
    else if (!mapped.length) status = 'warn'
  } catch (err) {
    data.portmapError = stepError(err)
    status = 'warn'
  }
  if (options.relay) {
    try {
      data.reach = await reach(target, {relay: options.relay, attempts: 1, timeoutMs: options.timeoutMs ?? 10_000, signal})
      if (data.reach.exitCode === ExitCode.unreachable) status = 'fail'
      else if (data.reach.exitCode !== ExitCode.ok && status === 'ok') status = 'warn'
    } catch (err) {
      data.reachError = stepError(err)
      if (status === 'ok') status = 'warn'
    }
  }
  return {step: 'reachability', subject: target.length > 40 ? `${target.slice(0, 37)}…` : target, status, durationMs: Math.round(performance.now() - t0), data}
}
