/**
 * A crawl's settings from its options: defaults, validation, the bootnodes, and where to bind and
 * whom to trust. Everything here runs before the first packet.
 */
import {ENR} from '@chainsafe/enr'

import {BadInputError} from '../errors.js'
import {DestinationPolicy, trustedRangesFor} from '../net/index.js'
import {resolveProtocolId, type DiscoveryNetwork} from './protocol.js'
import {CRAWL_STRATEGIES, type CrawlOptions, type CrawlStrategy} from './crawl-types.js'

/** The numeric options with their defaults applied. */
export type CrawlLimits = Required<
  Pick<CrawlOptions, 'concurrency' | 'maxNewSessions' | 'rampMs' | 'requestTimeoutMs' | 'retries' | 'challengeTimeoutMs' | 'perNodeRate' | 'walkers' | 'progressIntervalMs'>
>

export interface CrawlSettings {
  strategy: CrawlStrategy
  protocolId: string
  network: DiscoveryNetwork | 'custom'
  now: () => number
  limits: CrawlLimits
}

/** Applies the defaults and checks the options; throws BadInputError on a bad one. */
export function crawlSettings(options: CrawlOptions): CrawlSettings {
  const strategy = options.strategy ?? 'exhaustive'
  if (!CRAWL_STRATEGIES.includes(strategy)) {
    throw new BadInputError('BAD_STRATEGY', `unknown strategy ${JSON.stringify(strategy)}`, {hint: `use one of ${CRAWL_STRATEGIES.join(', ')}`})
  }
  const protocolId = resolveProtocolId(options.network ?? 'waku', options.protocolId)
  const network = options.protocolId !== undefined && options.protocolId !== resolveProtocolId(options.network ?? 'waku') ? 'custom' : (options.network ?? 'waku')
  const limits: CrawlLimits = {
    concurrency: options.concurrency ?? 256,
    maxNewSessions: options.maxNewSessions ?? 48,
    rampMs: options.rampMs ?? 1000,
    requestTimeoutMs: options.requestTimeoutMs ?? 2500,
    retries: options.retries ?? 1,
    challengeTimeoutMs: options.challengeTimeoutMs ?? 1000,
    perNodeRate: options.perNodeRate ?? 10,
    walkers: options.walkers ?? 1,
    progressIntervalMs: options.progressIntervalMs ?? 250,
  }
  for (const [name, value, min] of [
    ['concurrency', limits.concurrency, 1],
    ['maxNewSessions', limits.maxNewSessions, 1],
    ['requestTimeoutMs', limits.requestTimeoutMs, 100],
    ['retries', limits.retries, 0],
    ['challengeTimeoutMs', limits.challengeTimeoutMs, 0],
    ['perNodeRate', limits.perNodeRate, 0],
    ['walkers', limits.walkers, 1],
  ] as const) {
    if (!Number.isFinite(value) || value < min) throw new BadInputError('BAD_CRAWL_OPTION', `${name} must be at least ${min}, got ${value}`)
  }
  return {strategy, protocolId, network, now: options.now ?? (() => performance.now()), limits}
}

export function parseBootnode(text: string, index: number): ENR {
  try {
    return ENR.decodeTxt(text.trim().startsWith('enr:') ? text.trim() : `enr:${text.trim()}`)
  } catch (error) {
    throw new BadInputError('BAD_BOOTNODE', `bootnode ${index + 1}: not a valid ENR (${(error as Error).message})`, {
      hint: 'give an enr:… record, a file of them, or an enrtree:// URL',
    })
  }
}

function isLoopback(ip: string | undefined): boolean {
  return ip !== undefined && (ip.startsWith('127.') || ip === '::1')
}

/**
 * The admission policy (the bootnodes' own ranges are trusted) and the local addresses: loopback
 * when every bootnode is, and dual stack when asked or when a bootnode can be reached over IPv6
 * (its neighbours then too).
 */
export function crawlEndpoints(options: CrawlOptions, bootnodes: readonly ENR[]): {policy: DestinationPolicy; bindHost: string; bindHost6: string | undefined} {
  const bootIps = bootnodes.flatMap((b) => [b.ip, b.udp6 !== undefined ? b.ip6 : undefined]).filter((ip): ip is string => ip !== undefined)
  const policy = new DestinationPolicy({
    allowPrivate: options.allowPrivate,
    allowLowPorts: options.allowLowPorts,
    trustedRanges: [...trustedRangesFor(bootIps), ...(options.trustedRanges ?? [])],
  })
  const loopbackOnly = bootIps.length > 0 && bootIps.every(isLoopback)
  const bindHost = options.bindHost ?? (loopbackOnly ? '127.0.0.1' : '0.0.0.0')
  const v6Boot = bootnodes.some((b) => b.ip6 !== undefined && b.udp6 !== undefined)
  const bindHost6 = options.bindHost6 === null || bindHost.includes(':') ? undefined : (options.bindHost6 ?? (v6Boot ? (loopbackOnly ? '::1' : '::') : undefined))
  return {policy, bindHost, bindHost6}
}
