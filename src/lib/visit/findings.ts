/**
 * Claim versus reality for one visited peer: what its ENR promises (waku2 bits, rs/rsv, client,
 * ip/tcp) against what identify and metadata said. The waku2/shard checks are the ones `caps`
 * makes for an ENR target; the client and address checks are the crawl's own. Codes are stable
 * (README "Visit findings").
 */
import {crossCheckEnr, type CapsReport, type Finding} from '../caps/check.js'
import type {DecodedEnr} from '../enr/index.js'

export type VisitFinding = Finding

/** Every finding code a visit can report, for the summary's histogram and the docs. */
export const VISIT_FINDING_CODES = [
  'ENR_PROTOCOL_MISSING',
  'PROTOCOL_NOT_IN_ENR',
  'NO_WAKU2',
  'METADATA_NO_CLUSTER',
  'CLUSTER_MISMATCH',
  'SHARDS_NOT_SERVED',
  'SHARDS_NOT_IN_ENR',
  'METADATA_FIELDS_DISAGREE',
  'METADATA_FAILED',
  'AGENT_CLIENT_MISMATCH',
  'ENR_TCP_NOT_LISTENED',
  'ENR_IP_NOT_LISTENED',
] as const

export function visitFindings(decoded: DecodedEnr, report: CapsReport): VisitFinding[] {
  if (!report.reachable) return []
  const findings: VisitFinding[] = [
    ...crossCheckEnr({input: decoded.enr, kind: 'enr', peerId: decoded.peerId, multiaddrs: decoded.dialable, enr: decoded}, report).findings,
  ]
  if (report.identify && report.metadataError && decoded.waku?.cluster !== undefined) {
    findings.push({code: 'METADATA_FAILED', severity: 'warning', message: `the ENR names cluster ${decoded.waku.cluster} but metadata failed: ${report.metadataError.message}`})
  }
  const agent = report.identify?.agentVersion
  const client = decoded.client?.[0]
  if (agent !== undefined && client !== undefined && client !== '' && !agent.toLowerCase().includes(client.toLowerCase())) {
    findings.push({code: 'AGENT_CLIENT_MISMATCH', severity: 'warning', message: `ENR client ${decoded.client!.join('/')} but identify agent is ${JSON.stringify(agent)}`})
  }
  const listen = report.identify?.listenAddrs ?? []
  if (listen.length > 0) {
    for (const [ip, port, family] of [
      [decoded.ip, decoded.tcp, 'ip4'],
      [decoded.ip6, decoded.tcp6 ?? decoded.tcp, 'ip6'],
    ] as const) {
      if (ip === undefined || port === undefined) continue
      const ports = listen.map((a) => new RegExp(`^/(?:ip4|ip6|dns4|dns6|dns)/([^/]+)/tcp/(\\d+)`).exec(a)).filter((m) => m !== null)
      const samePort = ports.filter((m) => Number(m[2]) === port)
      if (samePort.length === 0) {
        findings.push({code: 'ENR_TCP_NOT_LISTENED', severity: 'warning', message: `ENR ${family} tcp ${port} is not among the identify listen addresses (${listen.join(', ')})`})
      } else if (!samePort.some((m) => m[1] === ip || m[1] === '0.0.0.0' || m[1] === '::')) {
        findings.push({code: 'ENR_IP_NOT_LISTENED', severity: 'info', message: `ENR ${family} ${ip}:${port} is not among the identify listen addresses (${listen.join(', ')})`})
      }
    }
  }
  return findings
}
