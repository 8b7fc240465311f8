/**
 * `nat portmap`: find the gateway, try UPnP IGD, NAT-PMP and PCP in turn (one test mapping
 * each, read back, then removed unless `keep`), compare an ENR's address with what the gateway
 * says, and end with a verdict and an exit code (0 mapped, 3 none mapped, 4 no gateway answered).
 * Protocols run one after another: two at once would race for the same external port.
 */
import {readFile} from 'node:fs/promises'
import {isIP} from 'node:net'

import {decodeEnr, nonPublicRange, parseEnr} from '../enr/index.js'
import {abortError, BadInputError, UnreachableError} from '../errors.js'
import {probeNatPmp} from './natpmp-client.js'
import {NATPMP_PORT} from './natpmp.js'
import {probePcp} from './pcp-client.js'
import type {ProbeContext} from './probe-context.js'
import {ssdpSearch} from './ssdp.js'
import {PORTMAP_PROTOCOLS, type EnrAddressCheck, type PortMapProtocolName, type PortMapReport, type ProtocolReport, type TransportProtocol} from './types.js'
import {probeUpnp} from './upnp-client.js'

export interface PortMapOptions {
  /** The gateway's address; default: the default route's gateway (Linux /proc/net/route), else whoever answers SSDP. */
  gateway?: string
  natPmpPort?: number
  protocols?: PortMapProtocolName[]
  protocol?: TransportProtocol
  port?: number
  lifetime?: number
  keep?: boolean
  internalAddress?: string
  /** A UPnP description URL: skips SSDP. */
  upnpLocation?: string
  /** Per exchange; default 2000 ms. */
  timeoutMs?: number
  /** An ENR (text) whose ip/tcp/udp is compared with the gateway's view. */
  checkEnr?: string
  signal?: AbortSignal
  /** Injected for tests; default reads /proc/net/route. */
  routeTable?: () => Promise<string>
}

/** The IPv4 default gateway from a /proc/net/route table (hex, little-endian), or undefined. */
export function defaultGatewayFromRouteTable(table: string): string | undefined {
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 4 || f[1] !== '00000000' || !/^[0-9A-Fa-f]{8}$/.test(f[2]!)) continue
    const flags = Number.parseInt(f[3]!, 16)
    if ((flags & 0x2) === 0) continue // RTF_GATEWAY
    const n = Number.parseInt(f[2]!, 16)
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.')
  }
  return undefined
}

const NO_ANSWER = new Set(['GATEWAY_TIMEOUT', 'GATEWAY_PORT_CLOSED', 'GATEWAY_SEND_FAILED', 'GATEWAY_SOCKET_ERROR', 'UPNP_NOT_FOUND', 'UPNP_TIMEOUT', 'UPNP_HTTP_FAILED', 'SSDP_SOCKET_ERROR'])
const LABEL: Record<PortMapProtocolName, string> = {upnp: 'UPnP', natpmp: 'NAT-PMP', pcp: 'PCP'}

function notTried(protocol: PortMapProtocolName): ProtocolReport {
  return {protocol, tried: false, supported: null, ms: 0}
}

function answered(r: ProtocolReport): boolean {
  return r.tried && (r.supported === true || (r.error !== undefined && !NO_ANSWER.has(r.error.code)))
}

export function checkEnrAgainst(enrText: string, report: Pick<PortMapReport, 'protocols' | 'request'>): EnrAddressCheck {
  const enr = decodeEnr(parseEnr(enrText.trim()))
  const mapped = PORTMAP_PROTOCOLS.map((p) => report.protocols[p]).find((r) => r.mapping && r.externalAddress)
  const anyExternal = PORTMAP_PROTOCOLS.map((p) => report.protocols[p]).find((r) => r.externalAddress)?.externalAddress
  const externalAddress = mapped?.externalAddress ?? anyExternal
  const externalPort = mapped?.mapping?.externalPort
  const check: EnrAddressCheck = {enr: {ip: enr.ip, tcp: enr.tcp, udp: enr.udp, ip6: enr.ip6}, externalAddress, externalPort, findings: [], peersWillUse: {}}
  const f = check.findings
  if (enr.ip !== undefined && enr.udp !== undefined) check.peersWillUse.discv5 = `${enr.ip}:${enr.udp}/udp`
  if (enr.ip !== undefined && enr.tcp !== undefined) check.peersWillUse.libp2p = `${enr.ip}:${enr.tcp}/tcp`
  if (enr.ip === undefined) f.push({level: 'error', message: 'the record has no ip: peers cannot dial it over IPv4 (discv5 learns it only from the node itself)'})
  else if (externalAddress === undefined) f.push({level: 'warn', message: `no gateway reported an external address to compare with the record's ip ${enr.ip}`})
  else if (enr.ip === externalAddress) f.push({level: 'ok', message: `the record's ip ${enr.ip} is the gateway's external address`})
  else {
    const range = nonPublicRange(enr.ip)
    f.push({level: 'error', message: `the record's ip ${enr.ip}${range ? ` (${range})` : ''} is not the gateway's external address ${externalAddress}: peers dial ${enr.ip}, which does not reach this gateway's mapping`})
  }
  const port = report.request.protocol === 'udp' ? enr.udp : enr.tcp
  const field = report.request.protocol
  if (externalPort !== undefined) {
    if (port === undefined) f.push({level: 'warn', message: `the record has no ${field} port; the mapping gives external port ${externalPort}`})
    else if (port === externalPort) f.push({level: 'ok', message: `the record's ${field} ${port} is the mapped external port`})
    else f.push({level: 'error', message: `the record's ${field} ${port} is not the mapped external port ${externalPort}: peers dial ${port}, which maps to nothing`})
  } else if (port !== undefined && port !== report.request.port) {
    f.push({level: 'warn', message: `the record's ${field} ${port} is not the port tested (${report.request.port}); test it with --port ${port}`})
  }
  if (externalAddress) {
    const range = isIP(externalAddress) ? nonPublicRange(externalAddress) : undefined
    if (range) f.push({level: 'warn', message: `the gateway's external address ${externalAddress} is itself ${range}: there is another NAT above it, and a mapping here does not make the node reachable from the internet`})
  }
  return check
}

function verdictOf(report: PortMapReport, tried: ProtocolReport[]): string {
  const mapped = tried.filter((r) => r.mapping)
  const parts: string[] = []
  if (mapped.length > 0) {
    parts.push(
      `port mapping works: ${mapped
        .map((r) => `${LABEL[r.protocol]} mapped ${report.request.protocol}/${report.request.port} → ${r.externalAddress || '?'}:${r.mapping!.externalPort} (lifetime ${r.mapping!.lifetime} s${r.mapping!.readBack?.ok === false ? ', read back failed' : ''})`)
        .join('; ')}`,
    )
  } else if (tried.some(answered)) {
    const refusals = tried.filter(answered).map((r) => `${LABEL[r.protocol]}: ${r.error ? `${r.error.resultName ?? r.error.code}` : 'no mapping'}`)
    parts.push(`the gateway answered but mapped nothing (${refusals.join('; ')})`)
  } else {
    parts.push(
      `no port mapping: ${tried.map((r) => `${LABEL[r.protocol]} ${r.error?.code === 'GATEWAY_PORT_CLOSED' ? 'port closed' : 'no answer'}`).join(', ')} at ${report.gateway}; a node behind this NAT needs a manual forward with --nat:extip, or a relay`,
    )
  }
  const others = tried.filter((r) => !r.mapping && answered(r) && mapped.length > 0)
  for (const r of others) parts.push(`${LABEL[r.protocol]} answered but did not map (${r.error?.resultName ?? r.error?.code ?? 'no mapping'})`)
  const ext = [...new Set(tried.map((r) => r.externalAddress).filter((a): a is string => !!a))]
  if (ext.length > 1) parts.push(`the protocols disagree on the external address: ${ext.join(' vs ')}`)
  const cgn = ext.map((a) => (isIP(a) ? nonPublicRange(a) : undefined)).find(Boolean)
  if (cgn) parts.push(`the external address is ${cgn}: another NAT sits above this gateway`)
  if (report.enrCheck) {
    const bad = report.enrCheck.findings.filter((x) => x.level === 'error')
    parts.push(bad.length ? `the ENR is wrong: ${bad.map((b) => b.message).join('; ')}` : 'the ENR matches the gateway')
  }
  return parts.join('. ')
}

export async function portmap(options: PortMapOptions = {}): Promise<PortMapReport> {
  const started = performance.now()
  const protocols = options.protocols ?? [...PORTMAP_PROTOCOLS]
  for (const p of protocols) if (!PORTMAP_PROTOCOLS.includes(p)) throw new BadInputError('BAD_PROTOCOLS', `unknown port-mapping protocol ${JSON.stringify(p)} (upnp, natpmp, pcp)`)
  if (protocols.length === 0) throw new BadInputError('BAD_PROTOCOLS', 'no port-mapping protocol to try')
  const port = options.port ?? 9000
  const lifetime = options.lifetime ?? 120
  const protocol = options.protocol ?? 'udp'
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new BadInputError('BAD_PORT', `--port must be 1–65535, got ${port}`)
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400) throw new BadInputError('BAD_LIFETIME', `--lifetime must be 1–86400 s, got ${lifetime}`)
  if (options.gateway !== undefined && isIP(options.gateway) !== 4) throw new BadInputError('BAD_GATEWAY', `--gateway must be an IPv4 address, got ${JSON.stringify(options.gateway)}`)
  if (options.checkEnr !== undefined) parseEnr(options.checkEnr.trim()) // a bad record fails before any datagram
  const timeoutMs = options.timeoutMs ?? 2000

  let gateway = options.gateway
  let gatewaySource: PortMapReport['gatewaySource'] = gateway ? 'flag' : 'none'
  if (gateway === undefined) {
    const table = await (options.routeTable ?? (() => readFile('/proc/net/route', 'utf8').catch(() => '')))()
    gateway = defaultGatewayFromRouteTable(table)
    if (gateway) gatewaySource = 'default-route'
  }
  if (gateway === undefined && protocols.includes('upnp') && options.upnpLocation === undefined) {
    const found = await ssdpSearch({timeoutMs, first: true, signal: options.signal})
    if (found.answers[0]) {
      gateway = found.answers[0].from
      gatewaySource = 'ssdp'
    }
  }
  if (gateway === undefined) {
    throw new UnreachableError('NO_GATEWAY', 'no gateway: this host has no IPv4 default route and nothing answered an SSDP search', {hint: 'name it with --gateway IP'})
  }

  const report: PortMapReport = {
    gateway,
    gatewaySource,
    request: {protocol, port, lifetime, keep: options.keep ?? false, ...(options.internalAddress ? {internalAddress: options.internalAddress} : {})},
    protocols: {upnp: notTried('upnp'), natpmp: notTried('natpmp'), pcp: notTried('pcp')},
    verdict: '',
    exitCode: 4,
    ms: 0,
  }
  const ctx: ProbeContext = {gateway, natPmpPort: options.natPmpPort ?? NATPMP_PORT, protocol, port, internalAddress: options.internalAddress, lifetime, keep: options.keep ?? false, timeoutMs, signal: options.signal}
  for (const p of PORTMAP_PROTOCOLS) {
    if (!protocols.includes(p)) continue
    if (options.signal?.aborted) throw abortError(options.signal, 'nat portmap')
    if (p === 'upnp') report.protocols.upnp = await probeUpnp({...ctx, location: options.upnpLocation, gatewayKnown: gatewaySource === 'flag'})
    else if (p === 'natpmp') report.protocols.natpmp = await probeNatPmp(ctx)
    else report.protocols.pcp = await probePcp(ctx)
    // An abort during a probe shows up as its error; stop there rather than start the next one.
    if (options.signal?.aborted) throw abortError(options.signal, 'nat portmap')
  }
  const tried = PORTMAP_PROTOCOLS.map((p) => report.protocols[p]).filter((r) => r.tried)
  report.exitCode = tried.some((r) => r.mapping) ? 0 : tried.some(answered) ? 3 : 4
  if (options.checkEnr !== undefined) report.enrCheck = checkEnrAgainst(options.checkEnr, report)
  report.verdict = verdictOf(report, tried)
  report.ms = Math.round(performance.now() - started)
  return report
}
