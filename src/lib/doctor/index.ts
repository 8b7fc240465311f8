/**
 * `doctor`: one report that chains what waku-disc knows how to check about a node or a tree —
 * decode and lint (ENR), a discv5 ping (when the build has one), caps (identify, protocols,
 * metadata, ping, ENR cross-check), a peer-exchange sample, and for an `enrtree://` URL the tree's
 * verification followed by caps on a few of its nodes.
 */
import {checkCapabilities, type CapsReport} from '../caps/check.js'
import {lintEnr, parseEnr, decodeEnr} from '../enr/index.js'
import {BadInputError, ExitCode, isWakuDiscError} from '../errors.js'
import {createProbeNode} from '../libp2p/node.js'
import {PEER_EXCHANGE_PROTOCOL} from '../libp2p/protocols.js'
import {looksLikeEnrText, notATarget, parseTarget, type Target} from '../libp2p/target.js'
import {queryPeerExchange, type PxQueryResult} from '../px/query.js'
import {resolveTree, verifyTree, type VerifyReport} from '../dns/index.js'
import {DestinationPolicy, trustedRangesFor} from '../net/index.js'
import {discv5Ping} from './discv5-ping.js'
import {reachabilityStep} from './reachability.js'
import {stepError, type Discv5Pinger, type DoctorOptions, type DoctorReport, type DoctorStep, type RefusedAddresses} from './types.js'

export * from './discv5-ping.js'
export * from './types.js'

const ms = (t0: number) => Math.round((performance.now() - t0) * 100) / 100

export async function runDoctor(target: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const text = target.trim()
  const steps: DoctorStep[] = []
  let kind: DoctorReport['kind']
  let unreachable = false
  if (/^enrtree:\/\//i.test(text)) {
    kind = 'enrtree'
    unreachable = await treeSteps(text, options, steps)
  } else if (text.startsWith('/')) {
    // Bad input throws here: exit 2 with the parser's message.
    const parsed = parseTarget(text)
    kind = 'multiaddr'
    steps.push({step: 'discv5-ping', subject: parsed.peerId, status: 'skipped', reason: 'multiaddr-no-discv5', durationMs: 0})
    unreachable = await nodeSteps(parsed, options, steps, true)
  } else {
    if (!looksLikeEnrText(text)) throw notATarget(text)
    kind = 'enr'
    const peerId = recordSteps(text, steps) // throws BadInputError for text that is not a record
    const pinged = await discv5Step(text, peerId, options, steps)
    let parsed: Target | undefined
    try {
      parsed = parseTarget(text)
    } catch (err) {
      if (!isWakuDiscError(err) || err.code !== 'ENR_NOT_DIALABLE') throw err
      for (const step of ['caps', 'peer-exchange'] as const) {
        steps.push({step, subject: peerId, status: 'skipped', reason: 'no-libp2p-address', durationMs: 0})
      }
    }
    if (parsed) unreachable = await nodeSteps(parsed, options, steps, true)
    else unreachable = pinged === false
  }
  if (options.reachability && kind !== 'enrtree') steps.push(await reachabilityStep(text, options.reachability, options.signal))
  const failed = steps.some((s) => s.status === 'fail')
  return {target: text, kind, steps, ok: !failed && !unreachable, exitCode: unreachable ? ExitCode.unreachable : failed ? ExitCode.checkFailed : ExitCode.ok}
}

function recordSteps(text: string, steps: DoctorStep[]): string {
  const t0 = performance.now()
  const record = parseEnr(text)
  const decoded = decodeEnr(record)
  steps.push({
    step: 'decode',
    subject: decoded.peerId,
    status: record.signatureValid ? 'ok' : 'fail',
    durationMs: ms(t0),
    data: decoded,
  })
  const t1 = performance.now()
  const findings = lintEnr(record)
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.filter((f) => f.severity === 'warning').length
  steps.push({
    step: 'lint',
    subject: decoded.peerId,
    status: errors > 0 ? 'fail' : warnings > 0 ? 'warn' : 'ok',
    durationMs: ms(t1),
    data: findings,
  })
  return decoded.peerId
}

/** Returns true on a PONG, false when none came, undefined when the step did not run. */
async function discv5Step(enr: string, peerId: string, options: DoctorOptions, steps: DoctorStep[]): Promise<boolean | undefined> {
  if (options.discv5Ping === false) {
    steps.push({step: 'discv5-ping', subject: peerId, status: 'skipped', reason: 'disabled', durationMs: 0})
    return undefined
  }
  const ping: Discv5Pinger = options.discv5Ping ?? ((text, o) => discv5Ping(text, {...o, ...(options.discv5Protocol ? {protocolId: options.discv5Protocol} : {})}))
  const t0 = performance.now()
  try {
    const pong = await ping(enr, {signal: options.signal})
    const stale = pong.enrSeq !== undefined && BigInt(pong.enrSeq) > BigInt(parseEnr(enr, {verifySignature: false}).seq)
    steps.push({
      step: 'discv5-ping',
      subject: peerId,
      status: stale ? 'warn' : 'ok',
      ...(stale ? {reason: 'stale-record' as const} : {}),
      durationMs: ms(t0),
      data: pong,
    })
    return true
  } catch (err) {
    if (isWakuDiscError(err) && err.code === 'NO_DISCV5_ENDPOINT') {
      steps.push({step: 'discv5-ping', subject: peerId, status: 'skipped', reason: 'no-discv5-endpoint', durationMs: ms(t0), error: err.toJSON()})
      return undefined
    }
    if (isWakuDiscError(err) && err.exitCode === ExitCode.interrupted) throw err
    steps.push({step: 'discv5-ping', subject: peerId, status: 'fail', durationMs: ms(t0), error: stepError(err)})
    return false
  }
}

/** caps then a PX sample on one node; returns true when the node could not be reached. */
async function nodeSteps(target: Target, options: DoctorOptions, steps: DoctorStep[], withPx: boolean): Promise<boolean> {
  const node = await createProbeNode()
  try {
    const t0 = performance.now()
    const caps: CapsReport = await checkCapabilities(target, {node, signal: options.signal, timeoutMs: options.timeoutMs})
    const problems = caps.enr?.findings.filter((f) => f.severity !== 'info') ?? []
    const partial = caps.identifyError || caps.metadataError || caps.pingError
    steps.push({
      step: 'caps',
      subject: target.peerId,
      status: caps.status === 'unreachable' ? 'fail' : caps.enr?.findings.some((f) => f.severity === 'error') ? 'fail' : problems.length > 0 || partial ? 'warn' : 'ok',
      durationMs: ms(t0),
      data: caps,
      ...(caps.error ? {error: caps.error} : {}),
    })
    if (!withPx) return caps.status === 'unreachable'
    if (caps.status === 'unreachable') {
      steps.push({step: 'peer-exchange', subject: target.peerId, status: 'skipped', reason: 'node-unreachable', durationMs: 0})
      return true
    }
    if (caps.identify && !caps.identify.protocols.some((p) => p.id === PEER_EXCHANGE_PROTOCOL)) {
      steps.push({step: 'peer-exchange', subject: target.peerId, status: 'skipped', reason: 'no-peer-exchange', durationMs: 0})
      return false
    }
    const t1 = performance.now()
    try {
      const px: PxQueryResult = await queryPeerExchange(target, {node, signal: options.signal, numPeers: options.pxPeers ?? 5, timeouts: {protocolMs: options.timeoutMs ?? 5000}})
      const bad = px.status.code !== 200 || px.invalid > 0 || px.flagged > 0 || px.warnings.length > 0
      steps.push({
        step: 'peer-exchange',
        subject: target.peerId,
        status: bad ? 'warn' : 'ok',
        durationMs: ms(t1),
        data: px,
      })
    } catch (err) {
      steps.push({step: 'peer-exchange', subject: target.peerId, status: 'fail', durationMs: ms(t1), error: stepError(err)})
    }
    return false
  } finally {
    await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

/** Tree verification, then caps on a sample of its nodes; returns true when no sampled node answered. */
async function treeSteps(url: string, options: DoctorOptions, steps: DoctorStep[]): Promise<boolean> {
  const t0 = performance.now()
  let report: VerifyReport
  try {
    report = await verifyTree(url, {signal: options.signal, resolver: options.resolver})
  } catch (err) {
    // A malformed enrtree:// URL is the user's input, not a failed check: exit 2 like other bad input.
    if (isWakuDiscError(err) && err.exitCode === ExitCode.badInput) throw err
    steps.push({step: 'tree', subject: url, status: 'fail', durationMs: ms(t0), error: stepError(err)})
    return isWakuDiscError(err) && err.exitCode === ExitCode.unreachable
  }
  steps.push({
    step: 'tree',
    subject: url,
    status: report.ok ? (report.problems.length > 0 ? 'warn' : 'ok') : 'fail',
    durationMs: ms(t0),
    data: report,
  })
  const sample = options.treeSample ?? 3
  if (sample === 0 || report.nodes === 0) return false
  // Tree records are addresses learned from the network: dial only public ones, or ones in the
  // range of the DNS server the user pointed us at (a loopback test tree may list loopback nodes).
  const server = (options.resolver as {server?: {host?: string}} | undefined)?.server?.host
  const policy = new DestinationPolicy({trustedRanges: server ? trustedRangesFor([server]) : []})
  // A light client's view: random descent to `sample` leaves.
  // verifyTree above already refuses a URL without a resolver; say so again rather than assert it.
  if (!options.resolver) throw new BadInputError('DNS_NO_RESOLVER', 'sampling a tree needs a resolver')
  const picked = await resolveTree(url, {resolver: options.resolver, signal: options.signal, random: sample, lenient: true})
  let reached = 0
  for (const n of picked.nodes) {
    let t: Target
    try {
      t = parseTarget(n.enr)
    } catch (err) {
      steps.push({step: 'caps', subject: n.nodeId, status: 'skipped', reason: 'not-a-target', durationMs: 0, error: stepError(err)})
      continue
    }
    const allowed = t.multiaddrs.filter((a) => admissible(a, policy))
    if (allowed.length === 0) {
      const data: RefusedAddresses = {refused: t.multiaddrs.map((a) => ({address: a.split('/p2p/')[0]!, reason: refusal(a, policy)}))}
      steps.push({step: 'caps', subject: t.peerId, status: 'skipped', reason: 'no-admissible-address', durationMs: 0, data})
      continue
    }
    if (!(await nodeSteps({...t, multiaddrs: allowed}, options, steps, false))) reached++
  }
  return picked.nodes.length > 0 && reached === 0
}

function ipPortOf(addr: string): {ip: string; port: number} | undefined {
  const m = /^\/ip[46]\/([^/]+)\/(?:tcp|udp)\/(\d+)/.exec(addr)
  return m ? {ip: m[1]!, port: Number(m[2])} : undefined
}

/** DNS names pass (libp2p resolves them); IP addresses go through the admission policy. */
function admissible(addr: string, policy: DestinationPolicy): boolean {
  const ep = ipPortOf(addr)
  return ep ? policy.isAllowed(ep.ip, ep.port) : true
}

function refusal(addr: string, policy: DestinationPolicy): string {
  const ep = ipPortOf(addr)
  return ep ? (policy.check(ep.ip, ep.port).reason ?? 'allowed') : 'allowed'
}
