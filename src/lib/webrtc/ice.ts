import {BadInputError} from '../errors.js'
import {formatHostPort, parseHostPort} from '../stun/endpoint.js'

/** An ICE server in node-datachannel's object form (the URL form cannot carry IPv6 literals). */
export interface IceServerSpec {
  hostname: string
  port: number
  username?: string
  password?: string
  relayType?: 'TurnUdp' | 'TurnTcp' | 'TurnTls'
}

export interface StunServerUrl {
  kind: 'stun'
  url: string
  host: string
  port: number
}

export interface TurnServerUrl {
  kind: 'turn'
  url: string
  host: string
  port: number
  transport: 'udp' | 'tcp' | 'tls'
  /** False when libjuice (node-datachannel's ICE backend) cannot use this transport. */
  supported: boolean
}

const MAX_URL = 300

/** Parses `stun:HOST[:PORT]` (or plain `HOST[:PORT]`), default port 3478. */
export function parseStunUrl(text: string): StunServerUrl {
  const t = text.trim()
  if (t.length > MAX_URL) throw new BadInputError('BAD_STUN_URL', `--stun URL is longer than ${MAX_URL} characters`)
  let rest = t
  const m = /^([a-z]+):(.*)$/i.exec(t)
  if (m && !/^\d+$/.test(m[2]!) && !t.startsWith('[')) {
    const scheme = m[1]!.toLowerCase()
    if (scheme === 'stuns') throw new BadInputError('BAD_STUN_URL', `"${t}": STUN over TLS (stuns:) is not supported by node-datachannel's ICE agent`)
    if (scheme !== 'stun') throw new BadInputError('BAD_STUN_URL', `"${t}" is not a STUN URL (expected stun:HOST[:PORT])`)
    rest = m[2]!
  }
  if (rest.includes('@') || rest.includes('?')) throw new BadInputError('BAD_STUN_URL', `"${t}": a STUN URL takes no credentials or query`)
  const hp = parseHostPort(rest, `--stun ${t}`, {defaultPort: 3478})
  return {kind: 'stun', url: `stun:${formatHostPort(hp)}`, host: hp.host, port: hp.port}
}

/** Parses `turn:HOST[:PORT][?transport=udp|tcp]` or `turns:HOST[:PORT]` (RFC 7065), default 3478/5349. */
export function parseTurnUrl(text: string): TurnServerUrl {
  const t = text.trim()
  if (t.length > MAX_URL) throw new BadInputError('BAD_TURN_URL', `--turn URL is longer than ${MAX_URL} characters`)
  const m = /^(turns?):(.*)$/i.exec(t)
  if (!m) throw new BadInputError('BAD_TURN_URL', `"${t}" is not a TURN URL (expected turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT])`)
  const secure = m[1]!.toLowerCase() === 'turns'
  let rest = m[2]!
  if (rest.includes('@')) {
    throw new BadInputError('BAD_TURN_URL', `"${t.replace(/:[^:@]*@/, ':***@')}": put no credentials in the URL`, {
      hint: 'use --turn-user and WAKU_DISC_TURN_PASSWORD or --turn-password-file',
    })
  }
  let transport: 'udp' | 'tcp' | 'tls' = secure ? 'tls' : 'udp'
  const q = rest.indexOf('?')
  if (q >= 0) {
    const query = rest.slice(q + 1)
    rest = rest.slice(0, q)
    const tm = /^transport=(udp|tcp)$/i.exec(query)
    if (!tm) throw new BadInputError('BAD_TURN_URL', `"${t}": unknown query "${query}" (only ?transport=udp or ?transport=tcp)`)
    const tr = tm[1]!.toLowerCase() as 'udp' | 'tcp'
    transport = secure ? 'tls' : tr
  }
  const hp = parseHostPort(rest, `--turn ${t}`, {defaultPort: secure ? 5349 : 3478})
  const url = `${secure ? 'turns' : 'turn'}:${formatHostPort(hp)}${!secure && transport === 'tcp' ? '?transport=tcp' : ''}`
  return {kind: 'turn', url, host: hp.host, port: hp.port, transport, supported: transport === 'udp'}
}

export function stunIceServer(s: StunServerUrl): IceServerSpec {
  return {hostname: s.host, port: s.port}
}

export function turnIceServer(t: TurnServerUrl, username: string, password: string): IceServerSpec {
  return {hostname: t.host, port: t.port, username, password, relayType: t.transport === 'udp' ? 'TurnUdp' : t.transport === 'tcp' ? 'TurnTcp' : 'TurnTls'}
}

/** Splits repeatable, comma-separated flag values. */
export function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}
