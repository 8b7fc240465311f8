/**
 * `enode://` URLs (go-ethereum p2p/enode/urlv4.go): `enode://<128 hex: x‖y>@<ip or host>:<tcp>[?discport=<udp>]`,
 * or an incomplete `enode://<hex>` without an address. No signature, no Waku fields: an enode URL
 * only names a key and an endpoint.
 */
import ipaddr from 'ipaddr.js'

import {BadInputError} from '../errors.js'
import {keyIdentity} from '../keys/index.js'
import {bytesToHex, hexToBytes} from '../keys/hex.js'
import {analyzeRecord} from './record-analysis.js'
import type {EnrRecord} from './record.js'

export interface EnodeInfo {
  /** 33-byte compressed key, hex. */
  publicKey: string
  nodeId: string
  peerId: string
  ip?: string
  /** A DNS name in place of an IP (geth resolves it when dialing). */
  hostname?: string
  tcp: number
  udp: number
  /** True for `enode://<key>` without an address. */
  incomplete: boolean
  /** The canonical URL form. */
  url: string
}

function fail(code: string, message: string): never {
  throw new BadInputError(code, message)
}

function port(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) fail(`ENODE_${what === 'port' ? 'PORT' : 'DISCPORT'}`, `enode URL has an invalid ${what === 'port' ? 'port' : 'discport in query'} ${JSON.stringify(text)}`)
  return Number(text)
}

export function parseEnode(input: string): EnodeInfo {
  const text = input.trim()
  const m = /^enode:\/\/([^@?#]*)(?:@([^?#]*))?(?:\?([^#]*))?$/i.exec(text)
  if (m === null) fail('ENODE_SCHEME', "not an enode URL (expected enode://<128 hex characters>@host:port)")
  const keyHex = m[1]!
  if (!/^[0-9a-fA-F]{128}$/.test(keyHex)) fail('ENODE_PUBLIC_KEY', `enode URL has an invalid public key (${keyHex.length} characters; want 128 hex characters, the uncompressed key without 04)`)
  let identity
  try {
    identity = keyIdentity(hexToBytes(keyHex))
  } catch {
    fail('ENODE_PUBLIC_KEY', 'enode URL public key is not a point on secp256k1')
  }
  if (m[2] === undefined) {
    return {...pick(identity), tcp: 0, udp: 0, incomplete: true, url: `enode://${keyHex.toLowerCase()}`}
  }
  const hostPort = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]*)$/.exec(m[2])
  if (hostPort === null) fail('ENODE_HOST', `enode URL has an invalid host:port ${JSON.stringify(m[2])}`)
  const host = hostPort[1] ?? hostPort[2]!
  const tcp = port(hostPort[3]!, 'port')
  let udp = tcp
  if (m[3] !== undefined && m[3] !== '') {
    const params = new URLSearchParams(m[3])
    const disc = params.get('discport')
    if (disc !== null) udp = port(disc, 'discport')
  }
  const out: EnodeInfo = {...pick(identity), tcp, udp, incomplete: false, url: ''}
  if (hostPort[1] !== undefined) {
    if (!ipaddr.IPv6.isValid(host)) fail('ENODE_HOST', `enode URL has an invalid IPv6 address ${JSON.stringify(host)}`)
    out.ip = ipaddr.IPv6.parse(host).toString()
  } else if (ipaddr.IPv4.isValidFourPartDecimal(host)) {
    out.ip = host
  } else if (/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}\.?)*$/.test(host) && host.length <= 253) {
    out.hostname = host
  } else {
    fail('ENODE_HOST', `enode URL has an invalid host ${JSON.stringify(host)}`)
  }
  out.url = formatEnode(keyHex.toLowerCase(), out.ip ?? out.hostname!, tcp, udp)
  return out
}

function pick(id: ReturnType<typeof keyIdentity>): Pick<EnodeInfo, 'publicKey' | 'nodeId' | 'peerId'> {
  return {publicKey: id.publicKey, nodeId: id.nodeId, peerId: id.peerId}
}

function formatEnode(xyHex: string, host: string, tcp: number, udp: number): string {
  const h = host.includes(':') ? `[${host}]` : host
  return `enode://${xyHex}@${h}:${tcp}${udp !== tcp ? `?discport=${udp}` : ''}`
}

export interface NodeEndpoint {
  ip?: string
  udp: number
  tcp: number
  quic: number
}

// geth localityScore: how far an address reaches.
function locality(ip: string): number {
  let a: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(ip)
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address()
  const r = a.range()
  if (r === 'multicast') return -1
  if (r === 'unspecified') return 0
  if (r === 'loopback') return 1
  if (r === 'linkLocal') return 2
  if (r === 'private' || r === 'uniqueLocal' || r === 'carrierGradeNat') return 3
  return 4
}

/**
 * The endpoint geth would use for a record (p2p/enode newNodeWithID): IPv4 unless the IPv6
 * address reaches further (unspecified < loopback < link-local < private < global); IPv6 takes
 * udp6/tcp6, falling back to udp/tcp, and only quic6; multicast addresses are unusable.
 */
export function nodeEndpoint(record: EnrRecord): NodeEndpoint {
  const a = analyzeRecord(record)
  const s4 = a.ip === undefined ? -1 : locality(a.ip)
  const s6 = a.ip6 === undefined ? -1 : locality(a.ip6)
  if (s4 >= 0 && s4 >= s6) return {ip: a.ip, udp: a.ports.udp ?? 0, tcp: a.ports.tcp ?? 0, quic: a.ports.quic ?? 0}
  if (s6 >= 0) return {ip: a.ip6, udp: a.ports.udp6 ?? a.ports.udp ?? 0, tcp: a.ports.tcp6 ?? a.ports.tcp ?? 0, quic: a.ports.quic6 ?? 0}
  return {udp: a.ports.udp ?? 0, tcp: a.ports.tcp ?? 0, quic: 0}
}

/**
 * The enode URL of a record (geth URLv4) at the endpoint geth would pick: tcp as the port,
 * discport when udp differs. Undefined when the record has no usable IP address.
 */
export function enodeOf(record: EnrRecord): string | undefined {
  const e = nodeEndpoint(record)
  if (e.ip === undefined) return undefined
  return formatEnode(bytesToHex(record.publicKeyUncompressed.subarray(1)), e.ip, e.tcp, e.udp)
}
