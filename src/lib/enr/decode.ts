import {analyzeRecord} from './record-analysis.js'
import type {WakuCapability} from './fields.js'
import {enodeOf} from './enode.js'
import {lintEnr} from './lint.js'
import type {LintFinding} from './finding.js'
import type {EnrRecord} from './record.js'
import {bytesToHex} from '../keys/hex.js'

export interface WakuFields {
  waku2?: {raw: string; capabilities: WakuCapability[]; unknownBits: number[]}
  multiaddrs?: string[]
  cluster?: number
  shards?: number[]
  shardSource?: 'rs' | 'rsv'
}

/** JSON-safe view of every field of a record. */
export interface DecodedEnr {
  enr: string
  /** uint64 as a decimal string. */
  seq: string
  nodeId: string
  publicKey: string
  peerId: string
  size: number
  signatureValid: boolean
  id: string
  ip?: string
  tcp?: number
  udp?: number
  ip6?: string
  tcp6?: number
  udp6?: number
  quic?: number
  quic6?: number
  /** geth's enode URL for the record (IPv4 preferred), when it has an IP address. */
  enode?: string
  waku?: WakuFields
  eth2?: {forkDigest: string; nextForkVersion: string; nextForkEpoch: string}
  attnets?: number[]
  syncnets?: number[]
  client?: string[]
  /** Unknown keys → hex of the value (of the whole RLP encoding for list values). */
  otherKeys: Record<string, string>
  /** Multiaddrs with /p2p/<peerId>: ip+tcp, ip6+tcp6 (tcp when tcp6 is absent), and `multiaddrs`. */
  dialable: string[]
  /** /waku/2/rs/<cluster>/<shard> for each shard of `rs` (or `rsv`). */
  pubsubTopics: string[]
  /** Every lint finding (errors included) for this record. */
  warnings: LintFinding[]
}

/** The dialable libp2p multiaddrs of a record, each ending in /p2p/<peer id>. */
export function dialableMultiaddrs(record: EnrRecord): string[] {
  const a = analyzeRecord(record)
  const peer = record.peerId
  const out: string[] = []
  const tcp = a.ports.tcp
  if (a.ip !== undefined && tcp !== undefined && tcp !== 0) out.push(`/ip4/${a.ip}/tcp/${tcp}/p2p/${peer}`)
  const tcp6 = a.ports.tcp6 ?? tcp
  if (a.ip6 !== undefined && tcp6 !== undefined && tcp6 !== 0) out.push(`/ip6/${a.ip6}/tcp/${tcp6}/p2p/${peer}`)
  for (const m of a.multiaddrs?.addresses ?? []) {
    const full = `${m}/p2p/${peer}`
    if (!out.includes(full)) out.push(full)
  }
  return out
}

/** The shards a record announces: `rs` wins over `rsv` (nwaku, go-waku, and the spec's MAY). */
export function shardsOf(record: EnrRecord): {cluster: number; shards: number[]; source: 'rs' | 'rsv'} | undefined {
  const a = analyzeRecord(record)
  if (a.rs !== undefined) return {...a.rs, source: 'rs'}
  if (a.rsv !== undefined) return {...a.rsv, source: 'rsv'}
  return undefined
}

export function decodeEnr(record: EnrRecord): DecodedEnr {
  const a = analyzeRecord(record)
  // Built field by field so JSON output keeps a readable order.
  const d = {
    enr: record.text,
    seq: record.seq.toString(),
    nodeId: record.nodeId,
    publicKey: bytesToHex(record.publicKey),
    peerId: record.peerId,
    size: record.size,
    signatureValid: record.signatureValid,
    id: 'v4',
  } as DecodedEnr
  if (a.ip !== undefined) d.ip = a.ip
  if (a.ports.tcp !== undefined) d.tcp = a.ports.tcp
  if (a.ports.udp !== undefined) d.udp = a.ports.udp
  if (a.ip6 !== undefined) d.ip6 = a.ip6
  if (a.ports.tcp6 !== undefined) d.tcp6 = a.ports.tcp6
  if (a.ports.udp6 !== undefined) d.udp6 = a.ports.udp6
  if (a.ports.quic !== undefined) d.quic = a.ports.quic
  if (a.ports.quic6 !== undefined) d.quic6 = a.ports.quic6
  const enode = enodeOf(record)
  if (enode !== undefined) d.enode = enode
  const shards = shardsOf(record)
  if (a.waku2 !== undefined || a.multiaddrs !== undefined || shards !== undefined) {
    const w: WakuFields = {}
    if (a.waku2 !== undefined) w.waku2 = a.waku2
    if (a.multiaddrs !== undefined) w.multiaddrs = a.multiaddrs.addresses
    if (shards !== undefined) {
      w.cluster = shards.cluster
      w.shards = shards.shards
      w.shardSource = shards.source
    }
    d.waku = w
  }
  if (a.eth2 !== undefined) d.eth2 = a.eth2
  if (a.attnets !== undefined) d.attnets = a.attnets
  if (a.syncnets !== undefined) d.syncnets = a.syncnets
  if (a.client !== undefined) d.client = a.client
  d.otherKeys = a.otherKeys
  d.dialable = dialableMultiaddrs(record)
  d.pubsubTopics = shards === undefined ? [] : shards.shards.map((s) => `/waku/2/rs/${shards.cluster}/${s}`)
  d.warnings = lintEnr(record)
  return d
}

export interface NodeFilter {
  /** Only records with a `waku2` key. */
  wakuOnly?: boolean
  /** Every listed capability must be set. */
  capabilities?: WakuCapability[]
  cluster?: number
  shard?: number
}

export function matchesNodeFilter(decoded: DecodedEnr, filter: NodeFilter): boolean {
  const w = decoded.waku
  if (filter.wakuOnly && w?.waku2 === undefined) return false
  if (filter.capabilities !== undefined && filter.capabilities.length > 0) {
    const caps = w?.waku2?.capabilities ?? []
    if (!filter.capabilities.every((c) => caps.includes(c))) return false
  }
  if (filter.cluster !== undefined && w?.cluster !== filter.cluster) return false
  if (filter.shard !== undefined && !(w?.shards ?? []).includes(filter.shard)) return false
  return true
}
