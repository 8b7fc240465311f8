import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'

import {BadInputError, UnreachableError} from '../errors.js'

export interface HostPort {
  host: string
  port: number
}

export function parsePort(text: string, what: string, {allowZero = false} = {}): number {
  if (!/^\d{1,5}$/.test(text)) throw new BadInputError('BAD_PORT', `${what}: port "${text}" is not a number from ${allowZero ? 0 : 1} to 65535`)
  const port = Number(text)
  if (port > 65535 || (!allowZero && port === 0)) {
    throw new BadInputError('BAD_PORT', `${what}: port ${port} is out of range (${allowZero ? 0 : 1}..65535)`)
  }
  return port
}

/** Parses `HOST:PORT`, `[IPv6]:PORT` (or `HOST` when a default port is given). */
export function parseHostPort(text: string, what: string, options: {defaultPort?: number; allowZero?: boolean} = {}): HostPort {
  const t = text.trim()
  if (t === '' || t.length > 300) throw new BadInputError('BAD_ADDRESS', `${what}: expected HOST:PORT, got "${t.slice(0, 60)}"`)
  let host: string
  let portText: string | undefined
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(t)
  if (v6) {
    host = v6[1]!
    portText = v6[2]
    if (isIP(host) !== 6) throw new BadInputError('BAD_ADDRESS', `${what}: "${host}" is not an IPv6 address`)
  } else if (isIP(t) === 6) {
    host = t
  } else {
    const i = t.lastIndexOf(':')
    host = i < 0 ? t : t.slice(0, i)
    portText = i < 0 ? undefined : t.slice(i + 1)
  }
  if (!/^[A-Za-z0-9.\-:%]+$/.test(host)) throw new BadInputError('BAD_ADDRESS', `${what}: "${host}" is not a host name or IP address`)
  let port: number
  if (portText === undefined || portText === '') {
    if (options.defaultPort === undefined) throw new BadInputError('BAD_ADDRESS', `${what}: "${t}" has no port (expected HOST:PORT)`)
    port = options.defaultPort
  } else port = parsePort(portText, what, {allowZero: options.allowZero})
  return {host, port}
}

export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`
}

/** Resolves a host name to one IP address (IP literals pass through). */
export async function resolveHost(host: string, what: string): Promise<{address: string; family: 4 | 6}> {
  const fam = isIP(host)
  if (fam) return {address: host, family: fam as 4 | 6}
  try {
    const r = await lookup(host)
    return {address: r.address, family: r.family as 4 | 6}
  } catch (err) {
    throw new UnreachableError('DNS_FAILED', `${what}: cannot resolve "${host}": ${(err as Error).message}`, {cause: err})
  }
}
