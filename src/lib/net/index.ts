/**
 * Address admission: decides, before a single packet is sent, whether an IP:port learned from the
 * network may be contacted: a crawler must never be turned into a scanner of private networks by
 * the addresses peers hand it.
 *
 * The rule follows go-ethereum's `netutil.CheckRelayAddr` and coturn's 2026 hardening:
 *  1. IPv4 hidden in IPv6 (::ffff:a.b.c.d, ::a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b::/96 NAT64,
 *     2002::/16 6to4, 2001::/32 Teredo) is unwrapped first, so `::ffff:127.0.0.1` is loopback.
 *  2. Unspecified, broadcast and multicast are never contacted; reserved / documentation /
 *     benchmarking ranges and the cloud metadata address only when explicitly trusted by CIDR.
 *  3. Private (RFC 1918, CGNAT, unique-local, site-local), link-local and loopback addresses
 *     only with `allowPrivate` or when inside a trusted range (the bootstrap node's own range:
 *     a loopback bootnode lets the crawl reach loopback neighbours).
 *  4. UDP ports ≤ 1024 (DNS/NTP/SSDP reflectors) only with `allowLowPorts`; port 0 never.
 *
 * ipaddr.js does the parsing and range naming; the embedded-IPv4 extraction is ours because
 * ipaddr.js's `process()` only unwraps the IPv4-mapped form.
 */
import ipaddr from 'ipaddr.js'

import {BadInputError} from '../errors.js'

/** Where an address sits, after unwrapping embedded IPv4. */
export type AddressClass =
  | 'public'
  | 'private' // RFC 1918, fc00::/7 unique-local, fec0::/10 site-local
  | 'cgnat' // 100.64.0.0/10
  | 'loopback'
  | 'link-local'
  | 'metadata' // 169.254.169.254, fd00:ec2::254: cloud instance metadata
  | 'multicast'
  | 'broadcast'
  | 'unspecified'
  | 'reserved' // documentation, benchmarking, IETF protocol assignments, 240/4, orchid, discard…

/** How an IPv4 address was found inside an IPv6 one. */
export type EmbeddingKind = 'ipv4-mapped' | 'ipv4-compatible' | 'ipv4-translated' | 'nat64' | '6to4' | 'teredo'

export interface IpClassification {
  /** The address as given. */
  input: string
  /** The address that was classified (the embedded IPv4 when there is one), normalised. */
  address: string
  family: 4 | 6
  class: AddressClass
  /** ipaddr.js's range name of `address` (e.g. 'private', 'uniqueLocal', 'unicast'). */
  range: string
  /** Set when `address` was extracted from an IPv6 form. */
  embedded?: EmbeddingKind
}

const LAN_CLASSES: ReadonlySet<AddressClass> = new Set(['private', 'cgnat', 'loopback', 'link-local'])
const NEVER_CLASSES: ReadonlySet<AddressClass> = new Set(['multicast', 'broadcast', 'unspecified'])

function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const text = ip.trim()
  // Zone ids (fe80::1%eth0) are a local concept: classify the address part.
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text
  if (!ipaddr.isValid(bare) || (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !bare.includes(':'))) {
    throw new BadInputError('BAD_IP', `not an IP address: ${JSON.stringify(ip)}`, {
      hint: 'give a dotted-quad IPv4 address or an IPv6 address',
    })
  }
  return ipaddr.parse(bare)
}

function v4FromWords(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([(hi >> 8) & 0xff, hi & 0xff, (lo >> 8) & 0xff, lo & 0xff])
}

/**
 * The IPv4 address embedded in an IPv6 address, or undefined. Teredo yields the client address
 * (last 32 bits, inverted), which is where the packets would end up.
 */
export function embeddedIpv4(ip: ipaddr.IPv6): {address: ipaddr.IPv4; kind: EmbeddingKind} | undefined {
  const p = ip.parts
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0)
  if (zeros(0, 5) && p[5] === 0xffff) return {address: v4FromWords(p[6]!, p[7]!), kind: 'ipv4-mapped'}
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return {address: v4FromWords(p[6]!, p[7]!), kind: 'ipv4-translated'}
  // ::a.b.c.d (deprecated IPv4-compatible), but not :: and ::1 themselves.
  if (zeros(0, 6) && (p[6] !== 0 || p[7]! > 1)) return {address: v4FromWords(p[6]!, p[7]!), kind: 'ipv4-compatible'}
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return {address: v4FromWords(p[6]!, p[7]!), kind: 'nat64'}
  if (p[0] === 0x2002) return {address: v4FromWords(p[1]!, p[2]!), kind: '6to4'}
  if (p[0] === 0x2001 && p[1] === 0) return {address: v4FromWords(p[6]! ^ 0xffff, p[7]! ^ 0xffff), kind: 'teredo'}
  return undefined
}

function classOfV4(a: ipaddr.IPv4): AddressClass {
  const s = a.toString()
  if (s === '169.254.169.254') return 'metadata'
  switch (a.range()) {
    case 'unicast':
      return 'public'
    case 'private':
      return 'private'
    case 'carrierGradeNat':
      return 'cgnat'
    case 'loopback':
      return 'loopback'
    case 'linkLocal':
      return 'link-local'
    case 'multicast':
      return 'multicast'
    case 'broadcast':
      return 'broadcast'
    case 'unspecified':
      return 'unspecified'
    default:
      return 'reserved' // reserved, as112, amt, …
  }
}

function classOfV6(a: ipaddr.IPv6): AddressClass {
  const p = a.parts
  if (p[0] === 0xfd00 && p[1] === 0x0ec2 && p.slice(2, 7).every((x) => x === 0) && p[7] === 0x254) return 'metadata'
  switch (a.range() as string) {
    case 'unicast':
      return 'public'
    case 'uniqueLocal':
    case 'deprecatedSiteLocal':
      return 'private'
    case 'loopback':
      return 'loopback'
    case 'linkLocal':
      return 'link-local'
    case 'multicast':
      return 'multicast'
    case 'unspecified':
      return 'unspecified'
    default:
      // discard (100::/64), reserved (2001::/23, 2001:db8::/32, 3fff::/20), benchmarking, orchid,
      // as112v6, amt, segmentRouting, and the local-use NAT64 prefix 64:ff9b:1::/48.
      return 'reserved'
  }
}

/** Classifies an IP address (IPv4 or IPv6, embedded IPv4 unwrapped). Throws BadInputError if unparsable. */
export function classifyIp(ip: string): IpClassification {
  const parsed = parseIp(ip)
  if (parsed.kind() === 'ipv4') {
    const v4 = parsed as ipaddr.IPv4
    return {input: ip, address: v4.toString(), family: 4, class: classOfV4(v4), range: v4.range()}
  }
  const v6 = parsed as ipaddr.IPv6
  const inner = embeddedIpv4(v6)
  if (inner) {
    return {
      input: ip,
      address: inner.address.toString(),
      family: 4,
      class: classOfV4(inner.address),
      range: inner.address.range(),
      embedded: inner.kind,
    }
  }
  return {input: ip, address: v6.toNormalizedString(), family: 6, class: classOfV6(v6), range: v6.range()}
}

export interface DestinationPolicyOptions {
  /** Contact private, CGNAT, link-local and loopback addresses (never multicast/broadcast/unspecified). */
  allowPrivate?: boolean
  /** Contact UDP ports 1–1024. */
  allowLowPorts?: boolean
  /**
   * CIDRs (e.g. '127.0.0.0/8', '10.1.0.0/16', '::1/128') that are allowed whatever their class
   * (except multicast, broadcast, unspecified). Typically the bootstrap nodes' own ranges, from
   * `trustedRangesFor`.
   */
  trustedRanges?: readonly string[]
  /** CIDRs never contacted, whatever else allows them. */
  deniedRanges?: readonly string[]
}

/** Why a destination is refused. */
export type RefusalReason = 'invalid-ip' | 'bad-port' | 'low-port' | 'denied' | AddressClass

export interface DestinationDecision {
  allowed: boolean
  /** Set when refused. */
  reason?: RefusalReason
  /** Set when the IP parsed. */
  classification?: IpClassification
}

type ParsedCidr = [ipaddr.IPv4 | ipaddr.IPv6, number]

function parseCidrs(list: readonly string[] | undefined, what: string): ParsedCidr[] {
  return (list ?? []).map((cidr) => {
    const text = cidr.includes('/') ? cidr : cidr.includes(':') ? `${cidr}/128` : `${cidr}/32`
    try {
      const [addr, bits] = ipaddr.parseCIDR(text)
      // Store IPv4-mapped CIDRs as IPv4 so they match classified (unwrapped) addresses.
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96] as ParsedCidr
      }
      return [addr, bits] as ParsedCidr
    } catch {
      throw new BadInputError('BAD_CIDR', `${what}: not a CIDR range: ${JSON.stringify(cidr)}`, {
        hint: 'write ranges as ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8',
      })
    }
  })
}

function inRanges(c: IpClassification, ranges: readonly ParsedCidr[]): boolean {
  if (ranges.length === 0) return false
  const addr = ipaddr.parse(c.address)
  // Also match the original IPv6 form (a trusted 2002::/16 covers a 6to4 address by its v6 form).
  const original = c.embedded ? ipaddr.parse(c.input.includes('%') ? c.input.slice(0, c.input.indexOf('%')) : c.input.trim()) : undefined
  return ranges.some(([net, bits]) => {
    if (addr.kind() === net.kind() && addr.match(net as never, bits)) return true
    return original !== undefined && original.kind() === net.kind() && original.match(net as never, bits)
  })
}

/** A compiled admission policy: parse the CIDRs once, check many destinations. */
export class DestinationPolicy {
  readonly options: Readonly<DestinationPolicyOptions>
  private readonly trusted: ParsedCidr[]
  private readonly denied: ParsedCidr[]

  constructor(options: DestinationPolicyOptions = {}) {
    this.options = {...options}
    this.trusted = parseCidrs(options.trustedRanges, 'trusted range')
    this.denied = parseCidrs(options.deniedRanges, 'denied range')
  }

  /** Decides whether `ip:port` (UDP) may be contacted. Never throws. */
  check(ip: string, port: number): DestinationDecision {
    let classification: IpClassification
    try {
      classification = classifyIp(ip)
    } catch {
      return {allowed: false, reason: 'invalid-ip'}
    }
    const refuse = (reason: RefusalReason): DestinationDecision => ({allowed: false, reason, classification})
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return refuse('bad-port')
    if (port <= 1024 && !this.options.allowLowPorts) return refuse('low-port')
    const cls = classification.class
    if (NEVER_CLASSES.has(cls)) return refuse(cls)
    if (inRanges(classification, this.denied)) return refuse('denied')
    if (cls === 'public') return {allowed: true, classification}
    if (inRanges(classification, this.trusted)) return {allowed: true, classification}
    if (LAN_CLASSES.has(cls) && this.options.allowPrivate) return {allowed: true, classification}
    return refuse(cls)
  }

  isAllowed(ip: string, port: number): boolean {
    return this.check(ip, port).allowed
  }
}

/** One-shot form of `new DestinationPolicy(policy).isAllowed(ip, port)`. */
export function isAllowedDestination(ip: string, port: number, policy: DestinationPolicyOptions = {}): boolean {
  return new DestinationPolicy(policy).isAllowed(ip, port)
}

/** One-shot form of `new DestinationPolicy(policy).check(ip, port)`, with the refusal reason. */
export function checkDestination(ip: string, port: number, policy: DestinationPolicyOptions = {}): DestinationDecision {
  return new DestinationPolicy(policy).check(ip, port)
}

const CLASS_RANGES: Partial<Record<AddressClass, string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10'],
  cgnat: ['100.64.0.0/10'],
  'link-local': ['169.254.0.0/16', 'fe80::/10'],
}

/**
 * The ranges a bootstrap node at `ip` vouches for: the whole range class it sits in (a loopback
 * bootnode → 127.0.0.0/8 and ::1; a 10.x bootnode → the private ranges). Public or unusable
 * addresses vouch for nothing extra.
 */
export function trustedRangesFor(ips: Iterable<string>): string[] {
  const out = new Set<string>()
  for (const ip of ips) {
    let cls: AddressClass
    try {
      cls = classifyIp(ip).class
    } catch {
      continue
    }
    for (const r of CLASS_RANGES[cls] ?? []) out.add(r)
  }
  return [...out]
}

/** True for the address classes a public node could not legitimately point at. */
export function isNonPublicClass(cls: AddressClass): boolean {
  return cls !== 'public'
}
