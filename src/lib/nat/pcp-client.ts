/**
 * PCP (RFC 6887) MAP over UDP: a test mapping (whose answer carries the external address),
 * its renewal with the same nonce, and its removal (lifetime 0). No npm package speaks PCP, so
 * this and the codec in pcp.ts are ours. Answers must echo our nonce, protocol and internal port
 * (§11.3); others are ignored as strays, not taken as ours.
 */
import {randomBytes} from 'node:crypto'

import {ProtocolError} from '../errors.js'
import {errorOf} from './natpmp-client.js'
import {decodePcpMapResponse, encodePcpMapRequest, PCP_PROTOCOL, PCP_RESULT, type PcpMapResponse} from './pcp.js'
import type {ProbeContext} from './probe-context.js'
import type {MappingReport, ProtocolReport} from './types.js'
import {udpExchange} from './udp-exchange.js'

function resultError(what: string, r: {resultCode: number; resultName: string}): ProtocolError {
  return new ProtocolError('PCP_RESULT', `${what}: the gateway answered ${r.resultName} (${r.resultCode})`, {details: {resultCode: r.resultCode, resultName: r.resultName}})
}

async function mapRequest(ctx: ProbeContext, nonce: Uint8Array, lifetime: number, suggestedExternalPort: number, what: string) {
  const protocol = PCP_PROTOCOL[ctx.protocol]
  return udpExchange<PcpMapResponse>(
    {host: ctx.gateway, port: ctx.natPmpPort, timeoutMs: ctx.timeoutMs, signal: ctx.signal, what},
    (localAddress) => encodePcpMapRequest({lifetime, clientIp: ctx.internalAddress ?? localAddress, nonce, protocol, internalPort: ctx.port, suggestedExternalPort}),
    (bytes) => {
      // A NAT-PMP-only gateway answers version 2 with a version-0 UNSUPPORTED_VERSION (RFC 6887 §9).
      if (bytes.length >= 4 && bytes[0] === 0) {
        throw new ProtocolError('PCP_UNSUPPORTED', `${what}: the gateway answered in NAT-PMP (version 0): it speaks NAT-PMP, not PCP`, {details: {resultCode: (bytes[2]! << 8) | bytes[3]!, resultName: 'UNSUPPORTED_VERSION'}})
      }
      const r = decodePcpMapResponse(bytes)
      if (r.version !== 2) throw new ProtocolError('PCP_MALFORMED', `${what}: PCP response of version ${r.version}`, {details: {offset: 0}})
      // An error answer without a body cannot echo the nonce; it still answers us.
      if (r.resultCode !== PCP_RESULT.SUCCESS && r.protocol === 0) return r
      const echoed = Buffer.from(r.nonce).equals(Buffer.from(nonce)) && r.protocol === protocol && r.internalPort === ctx.port
      return echoed ? r : undefined
    },
  )
}

export async function probePcp(ctx: ProbeContext): Promise<ProtocolReport> {
  const started = performance.now()
  const report: ProtocolReport = {protocol: 'pcp', tried: true, supported: false, server: `${ctx.gateway}:${ctx.natPmpPort}`, ms: 0}
  const nonce = new Uint8Array(randomBytes(12))
  try {
    const what = `PCP MAP ${ctx.protocol.toUpperCase()} request`
    const created = await mapRequest(ctx, nonce, ctx.lifetime, ctx.port, what)
    report.rttMs = created.rttMs
    report.epoch = created.value.epoch
    const r = created.value
    report.supported = r.resultCode !== PCP_RESULT.UNSUPP_VERSION && r.resultCode !== PCP_RESULT.UNSUPP_OPCODE
    if (r.resultCode !== PCP_RESULT.SUCCESS) throw resultError(what, r)
    report.externalAddress = r.externalIp
    const mapping: MappingReport = {
      protocol: ctx.protocol,
      internalAddress: ctx.internalAddress ?? created.localAddress,
      internalPort: r.internalPort,
      externalPort: r.externalPort,
      requestedExternalPort: ctx.port,
      lifetime: r.lifetime,
      requestedLifetime: ctx.lifetime,
      removed: ctx.keep ? 'kept' : false,
    }
    report.mapping = mapping
    try {
      const again = await mapRequest(ctx, nonce, ctx.lifetime, r.externalPort, 'PCP MAP renewal')
      if (again.value.resultCode !== PCP_RESULT.SUCCESS) throw resultError('PCP MAP renewal', again.value)
      mapping.readBack = {ok: again.value.externalPort === r.externalPort && again.value.externalIp === r.externalIp, method: 'renewal', internalPort: again.value.internalPort, externalPort: again.value.externalPort, lifetime: again.value.lifetime}
    } catch (err) {
      mapping.readBack = {ok: false, method: 'renewal', error: errorOf(err)}
    }
    if (!ctx.keep) {
      try {
        // RFC 6887 §15: the same nonce, protocol and internal port with lifetime 0 deletes it.
        const gone = await mapRequest(ctx, nonce, 0, r.externalPort, 'PCP MAP removal')
        if (gone.value.resultCode !== PCP_RESULT.SUCCESS) throw resultError('PCP MAP removal', gone.value)
        mapping.removed = true
      } catch (err) {
        mapping.removeError = errorOf(err)
      }
    }
  } catch (err) {
    report.error = errorOf(err)
  }
  report.ms = Math.round(performance.now() - started)
  return report
}
