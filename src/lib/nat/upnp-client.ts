/**
 * The UPnP part of `nat portmap`: SSDP search, description, external address, a test mapping,
 * read back with GetSpecificPortMappingEntry, then DeletePortMapping.
 */
import dgram from 'node:dgram'

import {ProtocolError} from '../errors.js'
import {errorOf} from './natpmp-client.js'
import type {ProbeContext} from './probe-context.js'
import {ssdpSearch} from './ssdp.js'
import type {MappingReport, ProtocolReport} from './types.js'
import {describeGateway, soapAction, UPNP_ERROR} from './upnp.js'

/** The local address of the route towards `host` (what the gateway sees as our address). */
export async function localAddressToward(host: string): Promise<string> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  try {
    // connect() on UDP sends nothing; it only picks the route and the source address.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(9, host, () => resolve())
    })
    return socket.address().address
  } finally {
    socket.close()
  }
}

export interface UpnpProbeOptions extends ProbeContext {
  /** Skip SSDP and use this description URL. */
  location?: string
  /** Only accept SSDP answers from the gateway (true when --gateway was given). */
  gatewayKnown: boolean
}

export async function probeUpnp(ctx: UpnpProbeOptions): Promise<ProtocolReport> {
  const started = performance.now()
  const report: ProtocolReport = {protocol: 'upnp', tried: true, supported: false, ms: 0}
  const budget = {timeoutMs: ctx.timeoutMs, signal: ctx.signal}
  try {
    let location = ctx.location
    let searchInfo: {server?: string; searchTarget?: string} = {}
    if (location === undefined) {
      const found = await ssdpSearch({gateway: ctx.gatewayKnown ? ctx.gateway : undefined, timeoutMs: ctx.timeoutMs, first: true, signal: ctx.signal})
      const answer = found.answers[0]
      if (!answer) {
        const why = found.rejected > 0 ? `; ${found.rejected} answers refused, first: ${found.firstRejection?.message}` : ''
        throw new ProtocolError(found.rejected > 0 ? (found.firstRejection?.code ?? 'SSDP_MALFORMED') : 'UPNP_NOT_FOUND', `UPnP: no Internet Gateway Device answered the SSDP search in ${ctx.timeoutMs} ms${why}`)
      }
      location = answer.location
      searchInfo = {server: answer.server, searchTarget: answer.searchTarget}
    }
    const device = await describeGateway(location, budget)
    report.device = {...searchInfo, ...device}
    report.server = location
    const t0 = performance.now()
    const ext = await soapAction(device, 'GetExternalIPAddress', [], budget)
    report.rttMs = Math.round(performance.now() - t0)
    report.supported = true
    report.externalAddress = ext['NewExternalIPAddress'] ?? ''
    const internalAddress = ctx.internalAddress ?? (await localAddressToward(new URL(location).hostname.replace(/^\[|\]$/g, '')))
    const proto = ctx.protocol.toUpperCase()
    const add = (lease: number) =>
      soapAction(
        device,
        'AddPortMapping',
        [
          ['NewRemoteHost', ''],
          ['NewExternalPort', ctx.port],
          ['NewProtocol', proto],
          ['NewInternalPort', ctx.port],
          ['NewInternalClient', internalAddress],
          ['NewEnabled', 1],
          ['NewPortMappingDescription', 'waku-disc nat portmap'],
          ['NewLeaseDuration', lease],
        ],
        budget,
      )
    let lifetime = ctx.lifetime
    try {
      await add(lifetime)
    } catch (err) {
      // IGD:1 devices may only take permanent leases (725): ask again for one, and say so.
      if ((err as ProtocolError).details?.['resultCode'] !== UPNP_ERROR.OnlyPermanentLeasesSupported) throw err
      lifetime = 0
      await add(0)
      report.versionNote = 'the gateway only grants permanent leases (725 OnlyPermanentLeasesSupported): the test mapping was made with lease 0'
    }
    const mapping: MappingReport = {
      protocol: ctx.protocol,
      internalAddress,
      internalPort: ctx.port,
      externalPort: ctx.port,
      requestedExternalPort: ctx.port,
      lifetime,
      requestedLifetime: ctx.lifetime,
      removed: ctx.keep ? 'kept' : false,
    }
    report.mapping = mapping
    try {
      const entry = await soapAction(device, 'GetSpecificPortMappingEntry', [['NewRemoteHost', ''], ['NewExternalPort', ctx.port], ['NewProtocol', proto]], budget)
      const internalPort = Number(entry['NewInternalPort'])
      const granted = Number(entry['NewLeaseDuration'])
      if (Number.isInteger(granted)) mapping.lifetime = granted
      mapping.readBack = {
        ok: internalPort === ctx.port && entry['NewInternalClient'] === internalAddress,
        method: 'GetSpecificPortMappingEntry',
        internalAddress: entry['NewInternalClient'],
        internalPort,
        externalPort: ctx.port,
        lifetime: Number.isInteger(granted) ? granted : undefined,
      }
    } catch (err) {
      mapping.readBack = {ok: false, method: 'GetSpecificPortMappingEntry', error: errorOf(err)}
    }
    if (!ctx.keep) {
      try {
        await soapAction(device, 'DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', ctx.port], ['NewProtocol', proto]], budget)
        mapping.removed = true
      } catch (err) {
        mapping.removeError = errorOf(err)
      }
    }
  } catch (err) {
    report.error = errorOf(err)
    // A device that answered SOAP with a fault speaks UPnP IGD even if it refused this mapping.
    if (report.error.code === 'UPNP_SOAP_FAULT' && report.device) report.supported = true
  }
  report.ms = Math.round(performance.now() - started)
  return report
}
