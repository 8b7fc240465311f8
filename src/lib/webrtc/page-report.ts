/**
 * Pure parts of `webrtc listen --page`: checking what the browser sent, classifying its candidates
 * (mapping and verdict, the same vocabulary as `webrtc probe`), and folding both ends into one report.
 */
import {ExitCode, ProtocolError} from '../errors.js'
import {describeIceServer} from './pair.js'
import type {IceServerSpec} from './ice.js'
import {linkPrivacy, sdpAddresses, type PrivacyEnd, type PrivacyObserver} from './privacy.js'
import type {Verdict} from './probe.js'
import type {LinkMeasurement, LinkSide, SelectedPairEnd} from './types.js'

export interface BrowserCandidate {
  type: 'host' | 'srflx' | 'prflx' | 'relay'
  protocol: string
  address: string
  port: number
  relatedAddress?: string
  relatedPort?: number
  /** The STUN/TURN server it came from, when the browser says (Chromium's RTCPeerConnectionIceEvent.url). */
  url?: string
  atMs: number
}

export interface BrowserOffer {
  sdp: string
  userAgent: string
  candidates: BrowserCandidate[]
  iceErrors: {url: string; errorCode: number; errorText: string}[]
  gatherMs: number | null
}

export interface BrowserResult {
  ok: boolean
  reason?: string
  openMs?: number
  rttMs?: number[]
  rttMedianMs?: number | null
  transferMs?: number | null
  throughputMbps?: number | null
  selectedPair?: SelectedPairEnd | null
}

export interface BrowserMapping {
  endpointIndependent: boolean | null
  basis: string
  mappings: {server: string; mapped: string}[]
}

export interface PageReport {
  ok: boolean
  /** 0 when the browser's channel opened and the measurements finished, else 3. */
  exitCode: 0 | 3
  reason?: string
  mode: 'page'
  browser: {
    userAgent: string
    /** The browser's address as the page server saw it (the HTTP/WebSocket peer). */
    address: string
    candidates: BrowserCandidate[]
    /** Host candidates the browser hid behind mDNS names (`….local`); they are not passed to our ICE agent. */
    mdnsHostCandidates: number
    iceErrors: BrowserOffer['iceErrors']
    gatherMs: number | null
    mapping: BrowserMapping
    verdict: Verdict
    verdictReason: string
  }
  /** The pair as the browser's ICE agent reports it (local = browser). */
  selectedPair: SelectedPairEnd | null
  /** The same link as the CLI's ICE agent saw it. */
  cliSelectedPair: SelectedPairEnd | null
  /** Browser-measured, from applying the answer to the data channel being open. */
  openMs: number | null
  rttMs: number[]
  rttMedianMs: number | null
  bytes: number
  transferMs: number | null
  throughputMbps: number | null
  path: LinkMeasurement['path']
  iceServers: string[]
  cli: {answerer?: LinkSide; logs: string[]; reason?: string}
  privacy: PrivacyObserver[]
}

const MAX_CANDIDATES = 64
const str = (x: unknown, n: number) => (typeof x === 'string' ? x.slice(0, n) : '')
const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined)
const TYPES = new Set(['host', 'srflx', 'prflx', 'relay'])

/** The browser's offer message, checked field by field (it is untrusted input). */
export function parseBrowserOffer(m: Record<string, unknown>): BrowserOffer {
  if (typeof m.sdp !== 'string') throw new ProtocolError('PAGE_BAD_OFFER', 'the page sent an offer without an SDP')
  const candidates = (Array.isArray(m.candidates) ? m.candidates : []).slice(0, MAX_CANDIDATES).flatMap((c): BrowserCandidate[] => {
    if (typeof c !== 'object' || c === null) return []
    const o = c as Record<string, unknown>
    const port = num(o.port)
    if (!TYPES.has(String(o.type)) || port === undefined || typeof o.address !== 'string') return []
    const out: BrowserCandidate = {type: o.type as BrowserCandidate['type'], protocol: str(o.protocol, 8), address: str(o.address, 64), port, atMs: num(o.atMs) ?? 0}
    if (typeof o.relatedAddress === 'string') out.relatedAddress = str(o.relatedAddress, 64)
    if (num(o.relatedPort) !== undefined) out.relatedPort = num(o.relatedPort)
    if (typeof o.url === 'string') out.url = str(o.url, 200)
    return [out]
  })
  const iceErrors = (Array.isArray(m.iceErrors) ? m.iceErrors : []).slice(0, 20).flatMap((e) => {
    if (typeof e !== 'object' || e === null) return []
    const o = e as Record<string, unknown>
    return [{url: str(o.url, 200), errorCode: num(o.errorCode) ?? 0, errorText: str(o.errorText, 200)}]
  })
  return {sdp: m.sdp, userAgent: str(m.userAgent, 512), candidates, iceErrors, gatherMs: num(m.gatherMs) ?? null}
}

export function parseBrowserResult(m: Record<string, unknown>): BrowserResult {
  const rtts = Array.isArray(m.rttMs) ? m.rttMs.slice(0, 1000).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) : []
  const end = (e: unknown) => {
    if (typeof e !== 'object' || e === null) return undefined
    const r = e as Record<string, unknown>
    const port = num(r.port)
    if (typeof r.type !== 'string' || typeof r.address !== 'string' || port === undefined) return undefined
    return {type: str(r.type, 8), address: str(r.address, 64), port, transport: str(r.transport, 16).toUpperCase()}
  }
  const sp = m.selectedPair as Record<string, unknown> | null | undefined
  const local = sp ? end(sp.local) : undefined
  const remote = sp ? end(sp.remote) : undefined
  return {
    ok: m.ok === true,
    ...(typeof m.reason === 'string' ? {reason: str(m.reason, 300)} : {}),
    openMs: num(m.openMs),
    rttMs: rtts,
    rttMedianMs: num(m.rttMedianMs) ?? null,
    transferMs: num(m.transferMs) ?? null,
    throughputMbps: num(m.throughputMbps) ?? null,
    selectedPair: local && remote ? {local, remote} : null,
  }
}

/**
 * Removes the host candidates a browser hides behind mDNS names (Chromium and Firefox do unless
 * the page has camera/microphone permission): our ICE agent cannot resolve them (and must not send
 * multicast), and it does not need to — the browser's checks arrive from its real address, which
 * the agent learns as a peer-reflexive candidate (RFC 8445 §7.3.1.3).
 */
export function stripMdnsCandidates(sdp: string): {sdp: string; removed: number} {
  let removed = 0
  const lines = sdp.split(/\r?\n/).filter((l) => {
    if (/^a=candidate:\S+ \d+ \S+ \d+ [^\s]+\.local /i.test(l)) {
      removed++
      return false
    }
    return true
  })
  return {sdp: lines.join('\r\n'), removed}
}

/** Mapping behaviour from the browser's srflx candidates: several servers, one local port, same mapping? */
export function browserMapping(candidates: BrowserCandidate[], stunServers: number, iceErrors: BrowserOffer['iceErrors'] = []): BrowserMapping {
  const srflx = candidates.filter((c) => c.type === 'srflx' && c.protocol === 'udp')
  const mappings = srflx.map((c) => ({server: c.url ?? 'a STUN server', mapped: `${c.address}:${c.port}`}))
  if (!srflx.length) return {endpointIndependent: null, basis: 'no server-reflexive candidate', mappings}
  const byLocal = new Map<string, Set<string>>()
  for (const c of srflx) {
    const k = `${c.relatedAddress ?? '?'}:${c.relatedPort ?? '?'}`
    byLocal.set(k, (byLocal.get(k) ?? new Set()).add(`${c.address}:${c.port}`))
  }
  const servers = new Set(srflx.map((c) => c.url).filter(Boolean))
  if (servers.size >= 2) {
    const anyDiffers = [...byLocal.values()].some((x) => x.size > 1)
    return {
      endpointIndependent: !anyDiffers,
      basis: anyDiffers ? 'the same local port was mapped to different public ports by different STUN servers' : `${servers.size} STUN servers saw the same public mapping`,
      mappings,
    }
  }
  if (stunServers < 2) return {endpointIndependent: null, basis: 'one STUN server: a mapping was seen, its behaviour needs two (give a second --stun)', mappings}
  // Without per-candidate server URLs (Chromium hides raddr and url behind mDNS), count: the browser
  // gathers from one socket per interface and drops duplicate srflx candidates, so more distinct
  // mappings than UDP sockets means the NAT mapped one socket differently per server.
  const silent = iceErrors.filter((e) => /^stuns?:/i.test(e.url))
  if (silent.length) return {endpointIndependent: null, basis: `${silent.length} STUN request(s) failed in the browser (${silent[0]!.url} ${silent[0]!.errorCode}), so the mappings cannot be compared`, mappings}
  const sockets = Math.max(1, candidates.filter((c) => c.type === 'host' && c.protocol === 'udp').length)
  const distinct = new Set(srflx.map((c) => `${c.address}:${c.port}`)).size
  if (distinct > sockets) return {endpointIndependent: false, basis: `${distinct} different public mappings for ${sockets} local socket(s) from ${stunServers} STUN servers`, mappings}
  return {endpointIndependent: true, basis: `${stunServers} STUN servers, one public mapping per local socket (the browser merges identical ones)`, mappings}
}

export function browserVerdict(candidates: BrowserCandidate[], mapping: BrowserMapping, iceServers: IceServerSpec[]): {verdict: Verdict; verdictReason: string} {
  const stun = iceServers.filter((s) => !s.relayType).length
  const turn = iceServers.some((s) => s.relayType)
  const relay = candidates.some((c) => c.type === 'relay')
  if (!stun && !turn) return {verdict: 'undetermined', verdictReason: 'no STUN or TURN server given: only host candidates, so only peers on the same network can connect'}
  if (stun && !candidates.some((c) => c.type === 'srflx') && !relay) return {verdict: 'UDP blocked', verdictReason: 'no STUN server answered the browser over UDP and no TURN relay was allocated'}
  if (mapping.endpointIndependent === true) return {verdict: 'direct links likely', verdictReason: 'the browser’s NAT keeps one public mapping per local port (endpoint-independent)'}
  if (mapping.endpointIndependent === false) {
    return {verdict: 'TURN needed', verdictReason: `the browser’s NAT maps per destination (symmetric)${relay ? '; a TURN relay was allocated' : turn ? '; the TURN server gave no relay candidate' : '; give --turn'}`}
  }
  if (relay && !candidates.some((c) => c.type === 'srflx')) return {verdict: 'TURN needed', verdictReason: 'only the TURN relay answered the browser'}
  return {verdict: 'undetermined', verdictReason: mapping.basis}
}

const pathOf = (...pairs: (SelectedPairEnd | null | undefined)[]): LinkMeasurement['path'] => {
  const ps = pairs.filter((p): p is SelectedPairEnd => !!p)
  if (!ps.length) return 'unknown'
  return ps.some((p) => p.local.type === 'relay' || p.remote.type === 'relay') ? 'relayed' : 'direct'
}

/** Both ends of one page session, folded into the report both the CLI and the page show. */
export function buildPageReport(input: {
  offer: BrowserOffer
  mdnsHostCandidates: number
  browserAddress: string
  result: BrowserResult | undefined
  cli: LinkMeasurement
  iceServers: IceServerSpec[]
  bytes: number
  pageUrl: string
}): PageReport {
  const {offer, result, cli} = input
  const stunCount = input.iceServers.filter((s) => !s.relayType).length
  const mapping = browserMapping(offer.candidates, stunCount, offer.iceErrors)
  const verdict = browserVerdict(offer.candidates, mapping, input.iceServers)
  const servers = input.iceServers.map(describeIceServer)
  const selectedPair = result?.selectedPair ?? cli.offerer?.selectedPair ?? null
  const cliPair = cli.answerer?.selectedPair ?? null
  const ok = !!result?.ok && cli.ok
  const browserEnd: PrivacyEnd = {label: 'the browser', candidates: offer.candidates, servers}
  const cliEnd: PrivacyEnd = {label: 'the CLI', candidates: (cli.answerer?.localCandidates ?? []).map((c) => ({...c})), servers}
  const pageServer: PrivacyObserver = {
    server: input.pageUrl,
    role: 'page-server',
    sawAddresses: [input.browserAddress, ...sdpAddresses(browserEnd)].filter((a, i, xs) => a && xs.indexOf(a) === i),
    sawBothPeers: true,
    carriedData: false,
    learned: [
      'it is the CLI itself (one end of the link): no third party carries the signalling',
      `the browser's user agent and every candidate in its offer${input.mdnsHostCandidates ? ` (${input.mdnsHostCandidates} host candidate(s) hidden behind mDNS names)` : ''}`,
    ],
  }
  const report: PageReport = {
    ok,
    exitCode: ok ? ExitCode.ok : ExitCode.checkFailed,
    ...(ok ? {} : {reason: result?.reason ?? cli.reason ?? 'the browser did not report a result'}),
    mode: 'page',
    browser: {
      userAgent: offer.userAgent,
      address: input.browserAddress,
      candidates: offer.candidates,
      mdnsHostCandidates: input.mdnsHostCandidates,
      iceErrors: offer.iceErrors,
      gatherMs: offer.gatherMs,
      mapping,
      ...verdict,
    },
    selectedPair,
    cliSelectedPair: cliPair,
    openMs: result?.openMs ?? null,
    rttMs: result?.rttMs ?? [],
    rttMedianMs: result?.rttMedianMs ?? null,
    bytes: input.bytes,
    transferMs: result?.transferMs ?? null,
    throughputMbps: result?.throughputMbps ?? null,
    path: pathOf(selectedPair, cliPair),
    iceServers: servers,
    cli: {...(cli.answerer ? {answerer: cli.answerer} : {}), logs: cli.logs, ...(cli.reason ? {reason: cli.reason} : {})},
    privacy: linkPrivacy({local: browserEnd, remote: cliEnd, selectedPair, signalling: [pageServer]}),
  }
  return report
}
