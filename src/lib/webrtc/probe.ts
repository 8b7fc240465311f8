import {BadInputError, ExitCode, isWakuDiscError, throwIfAborted} from '../errors.js'
import {discoverNatBehavior, type NatBehaviorReport} from '../stun/behavior.js'
import {StunClient, type BindingResponse} from '../stun/client.js'
import {formatHostPort, resolveHost} from '../stun/endpoint.js'
import {formatAddress, type TransportAddress} from '../stun/message.js'
import {checkStunCount} from './credentials.js'
import {stunIceServer, turnIceServer, type StunServerUrl, type TurnServerUrl} from './ice.js'
import {runNative} from './native.js'
import type {PrivacyObserver} from './privacy.js'
import type {GatheredCandidate, GatherResult, LinkMeasurement} from './types.js'

export interface ProbeOptions {
  stun?: StunServerUrl[]
  turn?: {server: TurnServerUrl; username: string; password: string}
  /** Upper bound for each ICE gathering (libjuice itself waits 23.5 s for a silent server). */
  gatherTimeoutMs?: number
  /** Upper bound for the relay-only data channel check. */
  connectTimeoutMs?: number
  /** Skip the RFC 5780 tests even when a server offers OTHER-ADDRESS. */
  skipBehavior?: boolean
  signal?: AbortSignal
}

export type Verdict = 'direct links likely' | 'TURN needed' | 'UDP blocked' | 'undetermined'

export interface StunServerResult {
  url: string
  address?: string
  /** Candidates node-datachannel gathered with only this STUN server (one PeerConnection each). */
  candidates: GatheredCandidate[]
  srflx: string[]
  gatherCompleteMs: number | null
  firstSrflxMs: number | null
  /** Our own Binding request from the shared socket (the basis of the endpoint-independence check). */
  binding: {mapped: string; rttMs: number; responseOrigin?: string; otherAddress?: string; duplicates?: string[]} | null
  error?: string
}

export interface TurnResult {
  url: string
  transport: 'udp' | 'tcp' | 'tls'
  status: 'ok' | 'auth-failed' | 'no-relay' | 'unreachable' | 'unsupported-transport' | 'channel-failed'
  detail: string
  relayCandidates: string[]
  srflx: string[]
  firstRelayMs: number | null
  channel?: Pick<LinkMeasurement, 'ok' | 'reason' | 'openMs' | 'rttMedianMs' | 'path'> & {selectedPairs: string[]}
}


export interface ProbeReport {
  localAddress?: string
  candidates: {host: GatheredCandidate[]; srflx: GatheredCandidate[]; prflx: GatheredCandidate[]; relay: GatheredCandidate[]}
  stun: StunServerResult[]
  mapping: {
    endpointIndependent: boolean | null
    basis: string
    mappings: {server: string; mapped: string}[]
  }
  rfc5780: NatBehaviorReport | null
  turn: TurnResult | null
  steps: {name: string; ms: number}[]
  verdict: Verdict
  verdictReason: string
  privacy: PrivacyObserver[]
  /** 0, or 3 when TURN failed, every STUN server failed, or UDP is blocked. */
  exitCode: 0 | 3
  notes: string[]
}

const round = (x: number) => Math.round(x * 10) / 10

function byType(cands: GatheredCandidate[]): ProbeReport['candidates'] {
  const seen = new Set<string>()
  const out: ProbeReport['candidates'] = {host: [], srflx: [], prflx: [], relay: []}
  for (const c of cands) {
    const k = `${c.type} ${c.address}:${c.port}`
    if (seen.has(k)) continue
    seen.add(k)
    out[c.type]?.push(c)
  }
  return out
}

const addr = (c: GatheredCandidate) => (c.address.includes(':') ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`)

/**
 * `webrtc probe`: what a WebRTC peer on this machine can do with the given STUN/TURN servers.
 * node-datachannel (in a child process) gathers candidates with one PeerConnection per STUN server
 * (libjuice uses only one STUN server per connection); our own STUN client sends Binding requests
 * to every server from ONE socket, which is what makes the mappings comparable (endpoint
 * independence), and runs the RFC 5780 tests where a server offers OTHER-ADDRESS; the TURN server
 * is checked for a relay candidate and a relay-only data channel.
 */
export async function probeNat(options: ProbeOptions): Promise<ProbeReport> {
  const stun = options.stun ?? []
  const turn = options.turn
  if (!stun.length && !turn) throw new BadInputError('NO_SERVERS', 'give at least one --stun URL or a --turn URL')
  checkStunCount(stun.length)
  const gatherTimeoutMs = options.gatherTimeoutMs ?? 5000
  const steps: ProbeReport['steps'] = []
  const notes: string[] = []
  const t0 = performance.now()
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now()
    try {
      return await f()
    } finally {
      steps.push({name, ms: round(performance.now() - t)})
    }
  }

  // Resolve every server once; both node-datachannel and our client then use the same IP.
  const resolved = await step('resolve servers', async () =>
    Promise.all(
      stun.map(async (s) => {
        try {
          return {s, ip: await resolveHost(s.host, `--stun ${s.url}`)}
        } catch (err) {
          return {s, error: (err as Error).message}
        }
      }),
    ),
  )
  const turnIp = turn ? await resolveHost(turn.server.host, `--turn ${turn.server.url}`).catch((err: Error) => ({error: err.message})) : undefined
  throwIfAborted(options.signal, 'webrtc probe')

  // 1. node-datachannel gathering: one PC per STUN server, plus one relay-only PC for TURN.
  const runs = resolved.flatMap((r, i) =>
    'ip' in r && r.ip ? [{id: `stun${i}`, iceServers: [stunIceServer({...r.s, host: r.ip.address})], policy: 'all' as const, timeoutMs: gatherTimeoutMs, graceMs: 300}] : [],
  )
  const turnUsable = turn && turn.server.supported && turnIp && 'address' in turnIp
  if (turn && turnUsable) {
    runs.push({
      id: 'turn',
      iceServers: [turnIceServer({...turn.server, host: (turnIp as {address: string}).address}, turn.username, turn.password)],
      policy: 'all',
      timeoutMs: gatherTimeoutMs,
      graceMs: 300,
    })
  }
  const gatherP = runs.length
    ? step('ICE gathering (node-datachannel)', () =>
        runNative<{runs: GatherResult[]}>({kind: 'gather', runs}, {signal: options.signal, timeoutMs: gatherTimeoutMs + 30_000, what: 'ICE gathering'}),
      )
    : Promise.resolve({runs: [] as GatherResult[]})

  // 2. Our Binding requests from one socket, in parallel with the gathering.
  const targets: {label: string; ip: TransportAddress}[] = []
  for (const r of resolved) if ('ip' in r && r.ip) targets.push({label: r.s.url, ip: {family: r.ip.family, address: r.ip.address, port: r.s.port}})
  if (turn && turn.server.transport === 'udp' && turnIp && 'address' in turnIp) {
    targets.push({label: turn.server.url, ip: {family: turnIp.family, address: turnIp.address, port: turn.server.port}})
  }
  const families = new Set(targets.map((t) => t.ip.family))
  const bindingP = step('STUN Binding from one socket', async () => {
    const out = new Map<string, BindingResponse | null | Error>()
    const clients = new Map<number, StunClient>()
    try {
      for (const f of families) clients.set(f, new StunClient({family: f}))
      await Promise.all(
        targets.map(async (t) => {
          try {
            out.set(t.label, await clients.get(t.ip.family)!.binding(t.ip, {retransmitMs: [500, 1000], lastWaitMs: 1500, signal: options.signal}))
          } catch (err) {
            if (isWakuDiscError(err) && (err.name === 'InterruptedError' || err.code === 'TIMEOUT')) throw err
            out.set(t.label, err as Error)
          }
        }),
      )
      const local = clients.get(4) ?? clients.get(6)
      return {out, local: local ? await local.bind() : undefined}
    } finally {
      for (const c of clients.values()) c.close()
    }
  })
  const [gather, bindings] = await Promise.all([gatherP, bindingP])
  throwIfAborted(options.signal, 'webrtc probe')

  const stunResults: StunServerResult[] = resolved.map((r, i) => {
    const g = gather.runs.find((x) => x.id === `stun${i}`)
    const b = bindings.out.get(r.s.url)
    const res: StunServerResult = {
      url: r.s.url,
      candidates: g?.candidates ?? [],
      srflx: (g?.candidates ?? []).filter((c) => c.type === 'srflx').map(addr),
      gatherCompleteMs: g?.completeMs ?? null,
      firstSrflxMs: g?.firstSrflxMs ?? null,
      binding: null,
    }
    if ('ip' in r && r.ip) res.address = formatHostPort({host: r.ip.address, port: r.s.port})
    if ('error' in r && r.error) res.error = r.error
    else if (b instanceof Error) res.error = b.message
    else if (b) {
      res.binding = {mapped: formatAddress(b.mappedAddress!), rttMs: round(b.rttMs)}
      if (b.responseOrigin) res.binding.responseOrigin = formatAddress(b.responseOrigin)
      if (b.otherAddress) res.binding.otherAddress = formatAddress(b.otherAddress)
      if (b.duplicates.length) res.binding.duplicates = b.duplicates
    } else res.error = 'no answer to our Binding request within 3 s'
    if (g?.error) res.error = `node-datachannel: ${g.error}`
    if (!res.error && !res.srflx.length && g && g.completeMs === null) res.error = `gathering did not complete within ${gatherTimeoutMs} ms`
    return res
  })

  // 3. Endpoint independence from the shared socket's mappings.
  const mappings = [...bindings.out.entries()].flatMap(([server, b]) => (b && !(b instanceof Error) ? [{server, mapped: formatAddress(b.mappedAddress!)}] : []))
  const mapping: ProbeReport['mapping'] = {endpointIndependent: null, basis: '', mappings}
  const distinctServers = new Set(mappings.map((m) => m.server))
  if (distinctServers.size >= 2) {
    mapping.endpointIndependent = new Set(mappings.map((m) => m.mapped)).size === 1
    mapping.basis = `same local socket to ${distinctServers.size} servers: ${mapping.endpointIndependent ? 'one mapping' : 'different mappings'}`
  } else mapping.basis = mappings.length ? 'only one server answered' : 'no server answered'

  // 4. RFC 5780 against the first server that offers OTHER-ADDRESS.
  let rfc5780: NatBehaviorReport | null = null
  const withOther = targets.find((t) => {
    const b = bindings.out.get(t.label)
    return b && !(b instanceof Error) && b.otherAddress
  })
  if (withOther && !options.skipBehavior) {
    rfc5780 = await step('RFC 5780 behaviour tests', () =>
      discoverNatBehavior(withOther.ip, {signal: options.signal, retransmitMs: [500, 1000], lastWaitMs: 1500}),
    )
    rfc5780.server = withOther.label
    if (mapping.endpointIndependent === null && (rfc5780.mapping === 'endpoint-independent' || rfc5780.mapping === 'no-nat')) {
      mapping.endpointIndependent = true
      mapping.basis = `RFC 5780 tests against ${withOther.label}`
    } else if (mapping.endpointIndependent === null && /dependent/.test(rfc5780.mapping)) {
      mapping.endpointIndependent = false
      mapping.basis = `RFC 5780 tests against ${withOther.label}`
    }
  } else if (mappings.length) notes.push('no server sent OTHER-ADDRESS, so the RFC 5780 mapping/filtering tests were not run')

  // 5. TURN: relay candidate, auth failure detection, relay-only data channel.
  let turnResult: TurnResult | null = null
  if (turn) {
    const t = turn.server
    turnResult = {url: t.url, transport: t.transport, status: 'no-relay', detail: '', relayCandidates: [], srflx: [], firstRelayMs: null}
    if (!t.supported) {
      turnResult.status = 'unsupported-transport'
      turnResult.detail = `node-datachannel (libjuice) cannot use TURN over ${t.transport.toUpperCase()}; this server was not tested (this is not a failure of the server)`
    } else if (turnIp && 'error' in turnIp) {
      turnResult.status = 'unreachable'
      turnResult.detail = turnIp.error
    } else {
      const g = gather.runs.find((x) => x.id === 'turn')
      const relays = (g?.candidates ?? []).filter((c) => c.type === 'relay')
      turnResult.relayCandidates = relays.map(addr)
      turnResult.srflx = (g?.candidates ?? []).filter((c) => c.type === 'srflx').map(addr)
      turnResult.firstRelayMs = g?.firstRelayMs ?? null
      if (g?.turnAuthFailed) {
        turnResult.status = 'auth-failed'
        turnResult.detail = `the TURN server rejected the credentials of user "${turn.username}" (401)`
      } else if (!relays.length) {
        const answered = bindings.out.get(t.url)
        turnResult.status = answered && !(answered instanceof Error) ? 'no-relay' : 'unreachable'
        turnResult.detail =
          turnResult.status === 'unreachable'
            ? `no answer from ${t.url} over UDP within ${gatherTimeoutMs} ms`
            : 'the server answers STUN but gave no relay candidate (allocation refused or quota exceeded)'
      } else {
        const ch = await step('relay-only data channel', () =>
          runNative<LinkMeasurement>(
            {
              kind: 'loopback',
              iceServers: [turnIceServer({...t, host: (turnIp as {address: string}).address}, turn.username, turn.password)],
              policy: 'relay',
              bytes: 0,
              pings: 3,
              connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
              gatherTimeoutMs,
            },
            {signal: options.signal, timeoutMs: (options.connectTimeoutMs ?? 10_000) + 2 * gatherTimeoutMs + 20_000, what: 'relay-only data channel'},
          ),
        )
        const pairs = [ch.offerer, ch.answerer].flatMap((s) =>
          s?.selectedPair ? [`${s.role}: ${s.selectedPair.local.type} ${s.selectedPair.local.address}:${s.selectedPair.local.port} → ${s.selectedPair.remote.type} ${s.selectedPair.remote.address}:${s.selectedPair.remote.port}`] : [],
        )
        turnResult.channel = {ok: ch.ok, openMs: ch.openMs, rttMedianMs: ch.rttMedianMs, path: ch.path, selectedPairs: pairs}
        if (ch.reason) turnResult.channel.reason = ch.reason
        turnResult.status = ch.ok ? 'ok' : 'channel-failed'
        turnResult.detail = ch.ok
          ? `allocation works; a relay-only data channel opened in ${ch.openMs} ms`
          : `relay candidate gathered, but the relay-only data channel failed: ${ch.reason}`
      }
    }
  }

  // 6. Verdict.
  const allCands = [...gather.runs.flatMap((r) => r.candidates)]
  const candidates = byType(allCands)
  // A server that answered with garbage still proves UDP gets through.
  const malformed = [...bindings.out.values()].filter((b): b is Error => b instanceof Error && isWakuDiscError(b) && b.name === 'ProtocolError')
  const anyUdp = mappings.length > 0 || candidates.srflx.length > 0 || candidates.relay.length > 0 || turnResult?.status === 'auth-failed' || malformed.length > 0
  let verdict: Verdict
  let verdictReason: string
  const turnOk = turnResult?.status === 'ok'
  // Servers whose names did not resolve were never sent a packet: their silence says nothing about UDP.
  const unresolved = resolved.filter((r) => 'error' in r && r.error).map((r) => (r as {error: string}).error)
  if (turnIp && 'error' in turnIp && turn?.server.supported) unresolved.push(turnIp.error)
  const udpTried = resolved.some((r) => 'ip' in r && r.ip) || (turnIp !== undefined && !('error' in turnIp) && turn?.server.supported === true)
  if (!anyUdp && !udpTried && unresolved.length > 0) {
    verdict = 'undetermined'
    verdictReason = `no server could be resolved, so nothing was sent: ${unresolved.join('; ')}`
  } else if (!anyUdp) {
    verdict = 'UDP blocked'
    verdictReason = 'no STUN or TURN server answered over UDP: WebRTC needs TURN over TCP/TLS (port 443) here'
    if (turnResult?.status === 'unsupported-transport') verdictReason += `; ${turnResult.url} may work but node-datachannel cannot test TURN over TCP/TLS`
  } else if (rfc5780?.mapping === 'no-nat') {
    verdict = 'direct links likely'
    verdictReason = 'no NAT: the address the server saw is this host\'s own address'
  } else if (mapping.endpointIndependent === true) {
    verdict = 'direct links likely'
    verdictReason = `endpoint-independent mapping (${mapping.basis}): hole punching works with most peers; peers behind symmetric NATs still need TURN`
  } else if (mapping.endpointIndependent === false) {
    verdict = 'TURN needed'
    verdictReason = `the NAT maps each destination to a new port (symmetric, ${mapping.basis}): direct links fail except with full-cone peers; ${turnOk ? 'your TURN server works' : 'configure a working TURN server'}`
  } else if (!mappings.length && !candidates.srflx.length) {
    verdict = 'undetermined'
    verdictReason = `UDP gets through, but no server returned a usable mapping (${malformed.map((e) => e.message).join('; ') || 'see the per-server errors'})`
  } else {
    verdict = 'undetermined'
    verdictReason = 'a public mapping was seen but its behaviour could not be tested: give a second --stun server or one with RFC 5780 (OTHER-ADDRESS)'
  }
  if (turnResult?.status === 'unsupported-transport') notes.push(turnResult.detail)

  // 7. Privacy: which server learned which of your addresses.
  const privacy: PrivacyObserver[] = []
  for (const s of stunResults) {
    const learned: string[] = []
    const seen = [...new Set([...(s.binding ? [s.binding.mapped] : []), ...s.srflx])]
    for (const x of seen) learned.push(`your public address ${x}`)
    if (learned.length) learned.push('the time of this probe (and, in real use, when you start each WebRTC session)')
    else learned.push('nothing it answered; it still saw request packets if they reached it')
    privacy.push({server: s.url, role: 'stun', sawAddresses: seen, sawBothPeers: false, carriedData: false, learned})
  }
  if (turnResult && turn && turnResult.status !== 'unsupported-transport' && turnResult.status !== 'unreachable') {
    const learned = [`your TURN username "${turn.username}"`]
    for (const x of turnResult.srflx) learned.push(`your public address ${x}`)
    const tb = bindings.out.get(turn.server.url)
    if (tb && !(tb instanceof Error) && !turnResult.srflx.includes(formatAddress(tb.mappedAddress!))) learned.push(`your public address ${formatAddress(tb.mappedAddress!)}`)
    learned.push('in relayed sessions: every peer address you talk to, and the timing and volume of the traffic (the content stays DTLS-encrypted)')
    const seen = [...new Set(learned.filter((l) => l.startsWith('your public address ')).map((l) => l.slice(20)))]
    privacy.push({server: turnResult.url, role: 'turn', sawAddresses: seen, sawBothPeers: false, carriedData: turnResult.channel?.path === 'relayed', learned})
  }
  if (candidates.host.length) {
    notes.push(
      `your host candidates (${candidates.host.map(addr).join(', ')}) are not sent to STUN/TURN servers, but every peer (and signalling server) that receives your SDP learns them`,
    )
  }
  steps.push({name: 'total', ms: round(performance.now() - t0)})
  const turnBad = !!turnResult && !['ok', 'unsupported-transport'].includes(turnResult.status)
  const allStunFailed = stunResults.length > 0 && stunResults.every((s) => s.error !== undefined)
  const exitCode = turnBad || allStunFailed || verdict === 'UDP blocked' ? ExitCode.checkFailed : ExitCode.ok
  const report: ProbeReport = {candidates, stun: stunResults, mapping, rfc5780, turn: turnResult, steps, verdict, verdictReason, privacy, notes, exitCode}
  if (bindings.local) report.localAddress = formatAddress(bindings.local)
  return report
}
