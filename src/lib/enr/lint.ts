/**
 * Interop checks: things real implementations trip on, each with a stable code (prefixed by the
 * field it names), a severity, and one sentence on what breaks and for whom. Each rule comes from
 * how nwaku, go-waku, js-waku and go-ethereum actually read the field (the sentence names which);
 * test/lib/enr/differential.test.ts checks the js-waku readings against @waku/enr itself.
 */
import {multiaddr} from '@multiformats/multiaddr'
import ipaddr from 'ipaddr.js'

import {analyzeRecord} from './record-analysis.js'
import type {LintFinding} from './finding.js'
import {ENR_SIZE_LIMIT, type EnrRecord} from './record.js'
import {MAX_SHARD} from './fields.js'

export interface LintOptions {
  /** The record is meant for a public list (DNS tree, bootstrap list): private addresses are errors. */
  publicList?: boolean
}

/** Classifies an address; undefined when it is publicly routable. */
export function nonPublicRange(ip: string): string | undefined {
  let addr: ipaddr.IPv4 | ipaddr.IPv6
  try {
    addr = ipaddr.parse(ip)
  } catch {
    return 'unparseable'
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address()
  const range = addr.range()
  return range === 'unicast' ? undefined : range
}

const list = (xs: number[]) => (xs.length === 0 ? 'none' : xs.join(','))

export function lintEnr(record: EnrRecord, options: LintOptions = {}): LintFinding[] {
  const a = analyzeRecord(record)
  const out: LintFinding[] = []
  const add = (code: string, severity: LintFinding['severity'], message: string) => out.push({code, field: code.split('.')[0]!, severity, message})

  // size
  if (record.size > ENR_SIZE_LIMIT) {
    add('size.over-limit', 'error', `record is ${record.size} bytes, over EIP-778's 300-byte limit; geth and sigp-based peers reject it`)
  } else if (record.size === ENR_SIZE_LIMIT) {
    add('size.js-waku-encoder-limit', 'warning', "record is exactly 300 bytes: valid, but js-waku's encoder refuses records of 300 bytes or more, so a js-waku node could not produce or re-sign it")
  }

  // signature
  if (record.signature.length !== 64) {
    add('signature.bad-length', 'error', `signature is ${record.signature.length} bytes; v4 needs 64 bytes r‖s, so no client accepts the record`)
  } else if (!record.signatureValid) {
    add('signature.invalid', 'error', 'signature does not verify against the record content and its secp256k1 key (or has a high s); every client rejects the record')
  }

  // seq
  if (record.seq > 255n) {
    add('seq.over-255', 'warning', `seq is ${record.seq}; js-waku writes seq as one byte, so a js-waku node re-encoding this record would store ${record.seq % 256n} and break its signature`)
  }

  // Malformed known fields (per-key errors and warnings from the codecs).
  out.push(...a.problems)

  // Endpoints
  const hasUdp = a.ports.udp !== undefined || a.ports.udp6 !== undefined
  if (!hasUdp) add('udp.missing', 'warning', 'no udp or udp6 port: discv5 peers cannot find or revalidate this node (only static lists or DNS trees can reach it)')
  for (const key of ['tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6'] as const) {
    if (a.ports[key] === 0) add(`${key}.zero`, 'warning', `${key} is 0, which no peer can connect to; geth treats the endpoint as absent`)
  }
  if (a.ip === undefined && !record.has('ip') && (a.ports.tcp !== undefined || a.ports.udp !== undefined) && a.ip6 === undefined) {
    add('ip.missing', 'warning', 'record has tcp/udp ports but no ip or ip6, so the ports are unusable')
  }
  if (a.ip6 !== undefined) {
    const v6 = ipaddr.IPv6.parse(a.ip6)
    if (v6.isIPv4MappedAddress()) add('ip6.ipv4-mapped', 'info', `ip6 ${a.ip6} is an IPv4-mapped address; geth treats it as the IPv4 address ${v6.toIPv4Address().toString()}`)
  }
  if (options.publicList) {
    for (const [key, ip] of [['ip', a.ip], ['ip6', a.ip6]] as const) {
      if (ip === undefined) continue
      const range = nonPublicRange(ip)
      if (range !== undefined) add(`${key}.private`, 'error', `${key} ${ip} is not publicly routable (${range}); peers that take this record from a public list cannot reach it`)
    }
    for (const m of a.multiaddrs?.addresses ?? []) {
      try {
        for (const c of multiaddr(m).getComponents()) {
          if ((c.name === 'ip4' || c.name === 'ip6') && c.value !== undefined) {
            const range = nonPublicRange(c.value)
            if (range !== undefined) add('multiaddrs.private', 'error', `multiaddrs entry ${m} uses ${c.value} (${range}); peers taking this record from a public list cannot reach it`)
          }
        }
      } catch {
        // unparseable entries are reported separately
      }
    }
  }

  // waku2
  if (a.waku2 !== undefined) {
    if (a.waku2Length !== 1) {
      add('waku2.not-one-byte', 'error', `waku2 is ${a.waku2Length} bytes; nwaku reads it only when it is exactly 1 byte, so nwaku peers see no capabilities (js-waku and go-waku read only the first byte)`)
    }
    const allZero = a.waku2.capabilities.length === 0 && a.waku2.unknownBits.length === 0
    if (allZero) add('waku2.all-zero', 'error', 'waku2 has no bit set; Waku discv5 peers must drop records whose waku2 is zero, so this node is never selected')
    if (a.waku2.unknownBits.length > 0) add('waku2.unknown-bits', 'info', `waku2 sets bits ${a.waku2.unknownBits.join(',')}, which no implementation defines; they are kept but ignored`)
    const late = a.waku2.capabilities.filter((c) => c === 'sync' || c === 'mix')
    if (late.length > 0) add('waku2.bits-4-5-unknown-to-js-waku', 'info', `waku2 sets ${late.join(' and ')} (bit${late.length > 1 ? 's' : ''} 4-5); js-waku and go-waku decode only bits 0-3, so they do not see ${late.join(' or ')}`)
  } else if (a.multiaddrs !== undefined || a.rs !== undefined || a.rsv !== undefined || record.has('multiaddrs') || record.has('rs') || record.has('rsv')) {
    add('waku2.missing', 'warning', 'record carries Waku keys (multiaddrs/rs/rsv) but no waku2; Waku discv5 peers drop records without waku2')
  }

  // rs / rsv
  if (record.has('rs') && record.has('rsv')) {
    add('rs.rsv-both', 'error', 'record has both rs and rsv; the spec says receivers SHOULD ignore such a record (nwaku and go-waku use rs, js-waku uses rs and logs a warning)')
  }
  if (a.rs !== undefined) {
    const over = a.rs.shards.filter((s) => s > MAX_SHARD)
    if (over.length > 0) add('rs.shard-over-1023', 'error', `rs lists shard ${over.join(',')} above 1023; nwaku rejects such shards and go-waku rejects the whole list`)
    if (a.rs.shards.length === 0) add('rs.no-shards', 'warning', 'rs lists no shards; go-waku rejects an empty shard list and the node subscribes to nothing')
    if (new Set(a.rs.shards).size !== a.rs.shards.length) add('rs.duplicate-shards', 'warning', `rs lists a shard more than once (${a.rs.shards.join(',')}); go-waku deduplicates, others keep duplicates`)
    if (a.rs.shards.length >= 64) add('rs.use-rsv', 'info', `rs lists ${a.rs.shards.length} shards; the spec says to use rsv from 64 shards (rs is ${3 + 2 * a.rs.shards.length} bytes of the 300-byte budget)`)
  }
  if (a.rsv !== undefined) {
    const js = a.rsvJsWaku!
    if (list(js.shards) !== list(a.rsv.shards)) {
      add('rsv.js-waku-bit-order', 'error', `js-waku would read this rsv as shards ${list(js.shards)} (nwaku and go-waku read ${list(a.rsv.shards)}), so js-waku clients subscribe to the wrong topics`)
    }
    if (a.rsv.shards.length === 0) add('rsv.no-shards', 'warning', 'rsv has no bit set; the node announces a cluster but no shard')
    else if (a.rsv.shards.length < 64 && !record.has('rs')) add('rsv.use-rs', 'info', `rsv holds ${a.rsv.shards.length} shards; the spec says to use rs below 64 shards (${3 + 2 * a.rsv.shards.length} bytes instead of 130)`)
  }

  // multiaddrs
  if (a.multiaddrs !== undefined) {
    if (a.multiaddrs.addresses.length === 0 && a.multiaddrs.unparseable.length === 0) {
      add('multiaddrs.empty', 'info', 'multiaddrs is present but empty; it costs 11 bytes and announces nothing')
    }
    for (const u of a.multiaddrs.unparseable) {
      add('multiaddrs.unparseable-entry', 'warning', `multiaddrs entry ${u.index} (0x${u.hex.slice(0, 40)}${u.hex.length > 40 ? '…' : ''}) is not a valid multiaddr (${u.reason}); nwaku skips it, js-waku fails to decode the whole field`)
    }
    const self = record.peerId
    for (const i of a.multiaddrs.withP2p) {
      const m = a.multiaddrs.addresses[i - a.multiaddrs.unparseable.filter((u) => u.index < i).length]
      if (m === undefined) continue
      if (m.includes(`/p2p/${self}`)) {
        add('multiaddrs.holds-p2p', 'warning', `multiaddrs entry ${m.replace(/\/p2p-circuit$/, '')} holds this node's own /p2p id; the spec says to strip it, decoders then take it for a circuit-relay address, and js-waku's encoder refuses it`)
      } else {
        add('multiaddrs.circuit-relay', 'info', `multiaddrs entry ${m} is a circuit-relay address; js-waku and nwaku do not re-append /p2p-circuit and would dial the relay as if it were this node`)
      }
    }
  }

  // dialable
  const tcp = a.ports.tcp
  const tcp6 = a.ports.tcp6 ?? tcp
  const dialable = (a.ip !== undefined && tcp !== undefined && tcp !== 0) || (a.ip6 !== undefined && tcp6 !== undefined && tcp6 !== 0) || (a.multiaddrs?.addresses.length ?? 0) > 0
  if (!dialable) {
    add('dialable.none', options.publicList ? 'error' : 'warning', 'no dialable address (ip+tcp, ip6+tcp6 or multiaddrs): libp2p peers cannot connect to this node, only discv5 can talk to it')
  }

  // keys
  const odd = record.keys().filter((k) => k.startsWith('0x'))
  if (odd.length > 0) add('keys.non-printable', 'info', `keys ${odd.join(', ')} are not printable text; JS decoders convert keys with lossy UTF-8 and may merge or drop them`)

  return out
}
