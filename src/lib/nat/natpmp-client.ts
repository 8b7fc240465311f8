/**
 * NAT-PMP (RFC 6886) over UDP: external address, a test mapping, its renewal (NAT-PMP has no
 * read operation; asking again for the same mapping returns it) and its removal (lifetime 0).
 * Written over our own codec rather than @achingbrain/nat-port-mapper because that client fixes
 * the server port at 5351, binds the multicast port 5350 and hides result codes, epoch and the
 * granted lifetime, which are what an operator needs to see.
 */
import {ProtocolError, isWakuDiscError} from '../errors.js'
import {decodeNatPmpResponse, encodeExternalAddressRequest, encodeMappingRequest, NATPMP_RESULT, type NatPmpResponse} from './natpmp.js'
import type {MappingReport, PortMapError, ProtocolReport} from './types.js'
import {udpExchange} from './udp-exchange.js'
import type {ProbeContext} from './probe-context.js'

type MapResponse = Extract<NatPmpResponse, {opcode: 1 | 2}>

export function errorOf(err: unknown): PortMapError {
  if (isWakuDiscError(err)) {
    const details = err.details as {resultCode?: number; resultName?: string} | undefined
    return {code: err.code, message: err.message, ...(details?.resultCode === undefined ? {} : {resultCode: details.resultCode, resultName: details.resultName})}
  }
  return {code: 'INTERNAL', message: err instanceof Error ? err.message : String(err)}
}

function resultError(what: string, r: {resultCode: number; resultName: string}): ProtocolError {
  return new ProtocolError('NATPMP_RESULT', `${what}: the gateway answered ${r.resultName} (${r.resultCode})`, {details: {resultCode: r.resultCode, resultName: r.resultName}})
}

/** One NAT-PMP exchange; a PCP-only server answers version 0 with a version-2 UNSUPP_VERSION header (RFC 6887 §9). */
function natPmpExchange<T extends NatPmpResponse>(ctx: ProbeContext, what: string, request: Uint8Array, opcode: 0 | 1 | 2) {
  return udpExchange(
    {host: ctx.gateway, port: ctx.natPmpPort, timeoutMs: ctx.timeoutMs, signal: ctx.signal, what},
    () => request,
    (bytes) => {
      if (bytes[0] === 2) throw new ProtocolError('NATPMP_UNSUPPORTED', `${what}: the gateway answered in PCP (version 2): it speaks PCP, not NAT-PMP`, {details: {resultCode: bytes[3], resultName: 'UNSUPP_VERSION'}})
      return decodeNatPmpResponse(bytes, opcode) as T
    },
  )
}

function mapRequest(ctx: ProbeContext, lifetime: number, suggestedExternalPort: number, what: string) {
  const request = encodeMappingRequest({protocol: ctx.protocol, internalPort: ctx.port, suggestedExternalPort, lifetime})
  return natPmpExchange<MapResponse>(ctx, what, request, ctx.protocol === 'udp' ? 1 : 2)
}

export async function probeNatPmp(ctx: ProbeContext): Promise<ProtocolReport> {
  const started = performance.now()
  const report: ProtocolReport = {protocol: 'natpmp', tried: true, supported: false, server: `${ctx.gateway}:${ctx.natPmpPort}`, ms: 0}
  try {
    const ext = await natPmpExchange<Extract<NatPmpResponse, {opcode: 0}>>(ctx, 'NAT-PMP external address request', encodeExternalAddressRequest(), 0)
    report.rttMs = ext.rttMs
    report.epoch = ext.value.epoch
    if (ext.value.resultCode !== NATPMP_RESULT.SUCCESS) throw resultError('NAT-PMP external address request', ext.value)
    report.supported = true
    report.externalAddress = ext.value.externalAddress
    const internalAddress = ctx.internalAddress ?? ext.localAddress

    const created = await mapRequest(ctx, ctx.lifetime, ctx.port, `NAT-PMP ${ctx.protocol.toUpperCase()} mapping request`)
    if (created.value.resultCode !== NATPMP_RESULT.SUCCESS) throw resultError(`NAT-PMP ${ctx.protocol.toUpperCase()} mapping request`, created.value)
    const mapping: MappingReport = {
      protocol: ctx.protocol,
      internalAddress,
      internalPort: created.value.internalPort,
      externalPort: created.value.externalPort,
      requestedExternalPort: ctx.port,
      lifetime: created.value.lifetime,
      requestedLifetime: ctx.lifetime,
      removed: ctx.keep ? 'kept' : false,
    }
    report.mapping = mapping
    // NAT-PMP has no read operation: the same request again must return the same mapping (RFC 6886 §3.3).
    try {
      const again = await mapRequest(ctx, ctx.lifetime, created.value.externalPort, 'NAT-PMP mapping renewal')
      if (again.value.resultCode !== NATPMP_RESULT.SUCCESS) throw resultError('NAT-PMP mapping renewal', again.value)
      mapping.readBack = {ok: again.value.externalPort === created.value.externalPort, method: 'renewal', internalPort: again.value.internalPort, externalPort: again.value.externalPort, lifetime: again.value.lifetime}
    } catch (err) {
      mapping.readBack = {ok: false, method: 'renewal', error: errorOf(err)}
    }
    if (!ctx.keep) {
      try {
        // RFC 6886 §3.4: delete = lifetime 0 and suggested external port 0.
        const gone = await mapRequest(ctx, 0, 0, 'NAT-PMP mapping removal')
        if (gone.value.resultCode !== NATPMP_RESULT.SUCCESS) throw resultError('NAT-PMP mapping removal', gone.value)
        mapping.removed = true
      } catch (err) {
        mapping.removeError = errorOf(err)
      }
    }
  } catch (err) {
    report.error = errorOf(err)
    // A gateway that answered with a result code speaks NAT-PMP even if it refused us.
    if (report.error.code === 'NATPMP_RESULT' && report.epoch !== undefined) report.supported = !['UNSUPPORTED_VERSION', 'UNSUPPORTED_OPCODE'].includes(report.error.resultName ?? '')
  }
  report.ms = Math.round(performance.now() - started)
  return report
}
