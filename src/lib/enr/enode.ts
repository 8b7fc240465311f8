/**
 * `enode://` URLs (go-ethereum p2p/enode/urlv4.go): `enode://<128 hex: x‖y>@<ip or host>:<tcp>[?discport=<udp>]`,
 * or an incomplete `enode://<hex>` without an address. No signature, no Waku fields: an enode URL
 * only names a key and an endpoint.
 */
import ipaddr from 'ipaddr.js'

import {BadInputError} from '../errors.js'
import {keyIdentity} from '../keys/index.js'
import {bytesToHex, hexToBytes} from '../keys/hex.js'
import {analyzeRecord} from './analysis.js'
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
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) fail(`enode.${what === 'port' ? 'port' : 'discport'}`, `enode URL has an invalid ${what === 'port' ? 'port' : 'discport in query'} ${JSON.stringify(text)}`)
  return Number(text)
}

export function parseEnode(input: string): EnodeInfo {
  const text = input.trim()
  const m = /^enode:\/\/([^@?#]*)(?:@([^?#]*))?(?:\?([^#]*))?$/i.exec(text)
  if (m === null) fail('enode.scheme', "not an enode URL (expected enode://<128 hex characters>@host:port)")
  const keyHex = m[1]!
  if (!/^[0-9a-fA-F]{128}$/.test(keyHex)) fail('enode.public-key', `enode URL has an invalid public key (${keyHex.length} characters; want 128 hex characters, the uncompressed key without 04)`)
  let identity
  try {
    identity = keyIdentity(hexToBytes(keyHex))
  } catch {
    fail('enode.public-key', 'enode URL public key is not a point on secp256k1')
  }
  if (m[2] === undefined) {
    return {...pick(identity), tcp: 0, udp: 0, incomplete: true, url: `enode://${keyHex.toLowerCase()}`}
  }
  const hostPort = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]*)$/.exec(m[2])
  if (hostPort === null) fail('enode.host', `enode URL has an invalid host:port ${JSON.stringify(m[2])}`)
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
    if (!ipaddr.IPv6.isValid(host)) fail('enode.host', `enode URL has an invalid IPv6 address ${JSON.stringify(host)}`)
    out.ip = ipaddr.IPv6.parse(host).toString()
  } else if (ipaddr.IPv4.isValidFourPartDecimal(host)) {
    out.ip = host
  } else if (/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}\.?)*$/.test(host) && host.length <= 253) {
    out.hostname = host
  } else {
    fail('enode.host', `enode URL has an invalid host ${JSON.stringify(host)}`)
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

/**
 * The enode URL of a record (geth URLv4): IPv4 preferred, tcp as the port, discport when udp
 * differs. Undefined when the record has no IP address.
 */
export function enodeOf(record: EnrRecord): string | undefined {
  const a = analyzeRecord(record)
  const xy = bytesToHex(hexToBytes(keyIdentity(record.publicKey).publicKeyUncompressed).subarray(1))
  if (a.ip !== undefined) return formatEnode(xy, a.ip, a.ports.tcp ?? 0, a.ports.udp ?? 0)
  if (a.ip6 !== undefined) return formatEnode(xy, a.ip6, a.ports.tcp6 ?? a.ports.tcp ?? 0, a.ports.udp6 ?? a.ports.udp ?? 0)
  return undefined
}
