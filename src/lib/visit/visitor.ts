/**
 * Visits: every responsive node of a crawl whose record gives a libp2p address is dialled with the
 * code `caps` uses (identify, Waku metadata, ping) on one shared client node, a bounded number at
 * a time, each under its own budget. Addresses pass the crawl's destination policy first; names
 * are resolved here and their addresses checked too, so nothing is dialled that the crawler
 * itself would refuse.
 */
import {lookup} from 'node:dns/promises'

import {checkCapabilities, type CapsReport} from '../caps/check.js'
import {decodeEnr, parseEnr, type DecodedEnr} from '../enr/index.js'
import {InterruptedError, isWakuDiscError} from '../errors.js'
import {createProbeNode, type ProbeNode} from '../libp2p/node.js'
import type {Target} from '../libp2p/target.js'
import type {DestinationPolicy} from '../net/index.js'
import {Limiter} from '../pool.js'
import {classifyDialError, type DialErrorClass} from './classes.js'
import {visitFindings, type VisitFinding} from './findings.js'

/** What a visit learned (the NDJSON `visit` object). */
export interface PeerVisit {
  peerId: string
  /** Addresses dialled (after the safety rules and name resolution). */
  addresses: string[]
  /** The address the connection used. */
  remoteAddr: string | null
  agentVersion: string | null
  protocolVersion: string | null
  protocols: string[]
  listenAddrs: string[]
  observedAddr: string | null
  metadata: {clusterId: number | null; shards: number[]} | null
  pingMs: number | null
  dialMs: number | null
  /** The whole visit (dial to last answer). */
  ms: number
  error: {class: DialErrorClass; message: string} | null
  findings: VisitFinding[]
}

export interface VisitorOptions {
  /** Visits in flight at once (default 32: a visit is mostly waiting; two cores keep up). */
  concurrency?: number
  /** Budget for one peer, dial to ping (default 5000 ms). */
  timeoutMs?: number
  /** The crawl's destination policy; tcp ports are checked with it. */
  policy: DestinationPolicy
  /** Resolves dns4/dns6 names (default node:dns lookup; tests inject one). */
  resolve?: (name: string, family: 4 | 6) => Promise<string[]>
  /**
   * Holds new visits while it returns true (the crawl: while its event loop lags during the
   * discv5 traversal, so visits' CPU never makes live nodes miss their answers).
   */
  holdWhile?: () => boolean
  /** An existing client node (tests); else one is created and stopped by the visitor. */
  node?: ProbeNode
  signal?: AbortSignal
}

/**
 * Names that must never reach a resolver (RFC 6761/6762/7686): they cannot name a public host,
 * and looking them up leaks what the crawler saw to whoever answers.
 */
const SPECIAL_USE = /(^|\.)(test|invalid|example|localhost|local|onion|home\.arpa|internal)\.?$/i

/** Secure websockets on 443 are how Waku nodes serve browsers; the low-port rule is for UDP abuse. */
const WSS_PORTS = new Set([443])

export class Visitor {
  private readonly limiter: Limiter
  private readonly timeoutMs: number
  private node?: ProbeNode
  private starting?: Promise<ProbeNode>
  private stopped = false

  constructor(private readonly options: VisitorOptions) {
    this.limiter = new Limiter(options.concurrency ?? 32)
    this.timeoutMs = options.timeoutMs ?? 5000
    this.node = options.node
  }

  get active(): number {
    return this.limiter.active
  }

  get pending(): number {
    return this.limiter.pending
  }

  private async client(): Promise<ProbeNode> {
    if (this.node) return this.node
    // Our metadata answers echo the remote's cluster: nwaku drops a peer that does not answer.
    this.starting ??= createProbeNode({dialTimeoutMs: this.timeoutMs, metadata: {}}).then((n) => (this.node = n))
    return this.starting
  }

  /** Visits one record (ENR text). Never throws for the peer's faults; resolves undefined when cancelled. */
  async visit(enrText: string): Promise<PeerVisit | undefined> {
    return this.limiter.run(async () => {
      if (this.stopped || this.options.signal?.aborted) return undefined
      const started = performance.now()
      let decoded: DecodedEnr
      try {
        decoded = decodeEnr(parseEnr(enrText))
      } catch (err) {
        return failed('', [], started, 'other', `record cannot be decoded: ${(err as Error).message}`)
      }
      if (decoded.dialable.length === 0) return failed(decoded.peerId, [], started, 'no-libp2p-address', 'the record has no tcp/tcp6 port and no multiaddrs')
      const admitted = await this.admit(decoded.dialable)
      if (admitted.addresses.length === 0) return nothingToDial(decoded.peerId, admitted, started)
      // Only visits that will dial wait for the crawl (a refused or address-less one costs nothing).
      if (!(await this.waitForTurn())) return undefined
      const target: Target = {input: enrText, kind: 'enr', peerId: decoded.peerId, multiaddrs: admitted.addresses, enr: decoded}
      let report: CapsReport
      try {
        report = await checkCapabilities(target, {
          node: await this.client(),
          timeoutMs: this.timeoutMs,
          signal: this.options.signal,
          announce: {clusterId: decoded.waku?.cluster, shards: decoded.waku?.shards ?? []},
        })
      } catch (err) {
        if (err instanceof InterruptedError || this.options.signal?.aborted) return undefined
        const message = isWakuDiscError(err) ? err.message : String((err as Error)?.message ?? err)
        return failed(decoded.peerId, admitted.addresses, started, 'other', message)
      }
      // A crawl cut short by its own budget must not report its peers as timed out.
      if (this.options.signal?.aborted) return undefined
      return toVisit(decoded, decoded.peerId, admitted.addresses, report, started)
    })
  }

  /**
   * Visits a peer known only by peer id and multiaddrs (a rendezvous registration): the same
   * dial, safety rules and classes, without the record checks (there is no record).
   */
  async visitPeer(peerId: string, addresses: readonly string[]): Promise<PeerVisit | undefined> {
    return this.limiter.run(async () => {
      if (this.stopped || this.options.signal?.aborted) return undefined
      const started = performance.now()
      const bare = addresses.map((a) => a.replace(/\/p2p\/[^/]+$/, ''))
      if (bare.length === 0) return failed(peerId, [], started, 'no-libp2p-address', 'the peer record lists no addresses')
      const admitted = await this.admit(bare)
      if (admitted.addresses.length === 0) return nothingToDial(peerId, admitted, started)
      if (!(await this.waitForTurn())) return undefined
      const multiaddrs = admitted.addresses.map((a) => `${a}/p2p/${peerId}`)
      const target: Target = {input: multiaddrs[0]!, kind: 'multiaddr', peerId, multiaddrs}
      let report: CapsReport
      try {
        report = await checkCapabilities(target, {node: await this.client(), timeoutMs: this.timeoutMs, signal: this.options.signal})
      } catch (err) {
        if (err instanceof InterruptedError || this.options.signal?.aborted) return undefined
        return failed(peerId, multiaddrs, started, 'other', isWakuDiscError(err) ? err.message : String((err as Error)?.message ?? err))
      }
      if (this.options.signal?.aborted) return undefined
      return toVisit(undefined, peerId, multiaddrs, report, started)
    })
  }

  /** Waits while holdWhile says so; false when the visitor was stopped or cancelled meanwhile. */
  private async waitForTurn(): Promise<boolean> {
    while (this.options.holdWhile?.() && !this.stopped && !this.options.signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 25))
    return !this.stopped && !this.options.signal?.aborted
  }

  /** Applies the safety rules to each dial address; resolves names and checks what they resolve to. */
  private async admit(addresses: string[]): Promise<{addresses: string[]; refusals: string[]; dnsFailures: string[]}> {
    const out: string[] = []
    const refusals: string[] = []
    const dnsFailures: string[] = []
    for (const addr of addresses) {
      const m = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)(\/.*)?$/.exec(addr)
      if (!m) {
        refusals.push(`${addr}: not a tcp address`)
        continue
      }
      const [, proto, host, portText, rest = ''] = m
      const port = Number(portText)
      const wss = /\/(wss|tls\/ws)(\/|$)/.test(rest)
      const check = (ip: string) => {
        const d = this.options.policy.check(ip, port)
        if (d.allowed) return undefined
        if (d.reason === 'low-port' && wss && WSS_PORTS.has(port)) return undefined
        return d.reason
      }
      if (proto === 'ip4' || proto === 'ip6') {
        const reason = check(host!)
        if (reason) refusals.push(`${addr}: ${reason}`)
        else out.push(addr)
        continue
      }
      if (SPECIAL_USE.test(host!)) {
        refusals.push(`${addr}: ${host} is a special-use name (not resolved)`)
        continue
      }
      let ips: string[]
      try {
        ips = await (this.options.resolve ?? defaultResolve)(host!, proto === 'dns6' ? 6 : 4)
      } catch (err) {
        dnsFailures.push(`${addr}: ${(err as Error).message}`)
        continue
      }
      const allowed = ips.filter((ip) => check(ip) === undefined)
      if (allowed.length === 0) {
        refusals.push(`${addr}: ${host} resolves to ${ips.join(', ') || 'nothing'}, refused`)
        continue
      }
      // TLS needs the name (SNI and the certificate); plain tcp/ws dial the checked address.
      if (wss) out.push(addr)
      else out.push(`/${allowed[0]!.includes(':') ? 'ip6' : 'ip4'}/${allowed[0]}/tcp/${port}${rest}`)
    }
    return {addresses: out, refusals, dnsFailures}
  }

  /** Waits for every visit started so far. */
  async idle(): Promise<void> {
    await this.limiter.idle()
  }

  async stop(): Promise<void> {
    this.stopped = true
    const node = this.node ?? (await this.starting?.catch(() => undefined))
    if (node && !this.options.node) await Promise.resolve(node.stop()).catch(() => undefined)
  }
}

async function defaultResolve(name: string, family: 4 | 6): Promise<string[]> {
  const found = await lookup(name, {all: true, family})
  return found.map((f) => f.address)
}

/** Every address was refused or did not resolve: dns-failed when resolution alone failed. */
function nothingToDial(peerId: string, admitted: {refusals: string[]; dnsFailures: string[]}, started: number): PeerVisit {
  const cls: DialErrorClass = admitted.dnsFailures.length > 0 && admitted.refusals.length === 0 ? 'dns-failed' : 'address-refused'
  return failed(peerId, [], started, cls, [...admitted.refusals, ...admitted.dnsFailures].join('; '))
}

function failed(peerId: string, addresses: string[], started: number, cls: DialErrorClass, message: string): PeerVisit {
  return {
    peerId,
    addresses,
    remoteAddr: null,
    agentVersion: null,
    protocolVersion: null,
    protocols: [],
    listenAddrs: [],
    observedAddr: null,
    metadata: null,
    pingMs: null,
    dialMs: null,
    ms: Math.round(performance.now() - started),
    error: {class: cls, message},
    findings: [],
  }
}

function toVisit(decoded: DecodedEnr | undefined, peerId: string, addresses: string[], report: CapsReport, started: number): PeerVisit {
  const visit: PeerVisit = {
    peerId,
    addresses,
    remoteAddr: report.remoteAddr ?? null,
    agentVersion: report.identify?.agentVersion ?? null,
    protocolVersion: report.identify?.protocolVersion ?? null,
    protocols: report.identify?.protocols.map((p) => p.id) ?? [],
    listenAddrs: report.identify?.listenAddrs ?? [],
    observedAddr: report.identify?.observedAddr ?? null,
    metadata: report.metadata ? {clusterId: report.metadata.clusterId ?? null, shards: [...report.metadata.shards]} : null,
    pingMs: report.pingMs ?? null,
    dialMs: report.dialMs ?? null,
    ms: Math.round(performance.now() - started),
    error: null,
    findings: [],
  }
  const error = !report.reachable ? report.error : report.identify ? undefined : report.identifyError
  if (error) {
    const unsupported = report.reachable && /protocol selection failed|not supported|unsupported/i.test(error.message)
    visit.error = {class: unsupported ? 'protocol-not-supported' : classifyDialError(error), message: error.message}
  }
  visit.findings = decoded ? visitFindings(decoded, report) : []
  return visit
}
