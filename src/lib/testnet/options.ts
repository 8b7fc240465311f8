/** The testnet's options and how a bad value is reported (by option name, never by a CLI flag). */
import {BadInputError} from '../errors.js'

export interface TestnetOptions {
  /** Number of nodes (1–5000). */
  nodes: number
  /** Share of nodes with Waku ENRs, 0–1 (default 0.8). The bootnode is always a Waku node. */
  wakuShare?: number
  /** Waku cluster id of the Waku nodes (default 1). */
  cluster?: number
  /** Shards 0…S-1 the Waku nodes draw their `rs` shards from (default 8). */
  shards?: number
  /** 'd5waku' (default) or 'discv5'. */
  protocolId?: string
  /** Share of dead nodes, 0–0.9 (default 0). */
  dead?: number
  /** Share of misbehaving nodes, 0–0.9 (default 0). */
  liars?: number
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string
  /** Worker threads hosting the nodes; 0 = this thread (default: 1 from 200 nodes on, else 0). */
  workers?: number
  /** Share of honest Waku nodes that also run a libp2p listener (tcp), 0–1 (default 0). */
  libp2p?: number
  /** Listeners wait this long before each metadata answer (a stand-in for WAN latency in benchmarks; default 0). */
  libp2pDelayMs?: number
  /** Share of those listeners that lie or fail on purpose, 0–1 (default 0); roles cycle through LIBP2P_LIE_ROLES. */
  libp2pLies?: number
  /** Share of nodes on IPv6 only (bound to host6, records with ip6/udp6 and no ip), 0–1 (default 0). */
  ipv6?: number
  /** Share of nodes with both an IPv4 and an IPv6 socket (records with ip/udp and ip6/udp6), 0–1 (default 0). */
  dualStack?: number
  /** IPv6 loopback for those nodes (default ::1). */
  host6?: string
  /** Also serve a DNS tree of some Waku nodes (a quarter of its records stale) on loopback. */
  dns?: boolean
  /** Also run a peer-exchange responder handing out some Waku nodes (a quarter stale). */
  px?: boolean
  /** Also run a Waku rendezvous point where some libp2p listeners are registered. */
  rendezvous?: boolean
  /** PRNG seed for roles and Waku profiles (default random). */
  seed?: number
  signal?: AbortSignal
}

/** What each checked option is, for messages that name the option (commands map it to their own flag). */
const OPTION_WORDS: Partial<Record<keyof TestnetOptions, string>> = {
  nodes: 'number of nodes',
  wakuShare: 'share of Waku nodes',
  dead: 'share of dead nodes',
  liars: 'share of misbehaving nodes',
  libp2p: 'share of honest Waku nodes with a libp2p listener',
  libp2pLies: 'share of listeners that lie',
  ipv6: 'share of IPv6-only nodes',
  dualStack: 'share of dual-stack nodes',
  cluster: 'Waku cluster id',
  shards: 'number of shards',
}

/**
 * A bad option value. The message names the TestnetOptions field (`dead`), never a CLI flag: the
 * same option is `--dead` for `testnet` and `--testnet-dead` for `crawl`. `details` carries
 * `options`, `constraint` and `value` so a command can say it with its own flag names.
 */
export function badTestnetOption(options: (keyof TestnetOptions)[], constraint: string, value?: unknown): BadInputError {
  const named = options.map((o) => `${o} (${OPTION_WORDS[o] ?? o})`).join(' plus ')
  const got = value === undefined ? '' : `, got ${String(value)}`
  return new BadInputError('BAD_TESTNET_OPTION', `testnet option${options.length > 1 ? 's' : ''} ${named} ${constraint}${got}`, {
    details: {options, constraint, ...(value === undefined ? {} : {value: String(value)})},
  })
}

export function checkFraction(option: keyof TestnetOptions, value: number | undefined, fallback: number, max = 1): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v < 0 || v > max) throw badTestnetOption([option], `must be a fraction between 0 and ${max}`, value)
  return v
}
