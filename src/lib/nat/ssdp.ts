/**
 * SSDP (UPnP Device Architecture 1.1 §1.3) just enough to find an Internet Gateway Device:
 * M-SEARCH to 239.255.255.250:1900 (and, with a known gateway, unicast to it), then the HTTPU
 * answers. Only answers whose LOCATION points at the host that sent them are kept, so a stray or
 * hostile responder cannot make us fetch from a third address.
 */
import dgram from 'node:dgram'

import {abortError, ProtocolError} from '../errors.js'

export const SSDP_ADDRESS = '239.255.255.250'
export const SSDP_PORT = 1900
export const IGD_SEARCH_TARGETS = ['urn:schemas-upnp-org:device:InternetGatewayDevice:1', 'urn:schemas-upnp-org:device:InternetGatewayDevice:2'] as const
const MAX_DATAGRAM = 8192
const MAX_HEADERS = 64

export interface SsdpAnswer {
  /** Who answered (address of the datagram). */
  from: string
  location: string
  searchTarget?: string
  usn?: string
  server?: string
}

export function encodeMSearch(searchTarget: string, mx: number, host = `${SSDP_ADDRESS}:${SSDP_PORT}`): Uint8Array {
  return new TextEncoder().encode(`M-SEARCH * HTTP/1.1\r\nHOST: ${host}\r\nMAN: "ssdp:discover"\r\nMX: ${mx}\r\nST: ${searchTarget}\r\n\r\n`)
}

function malformed(message: string): ProtocolError {
  return new ProtocolError('SSDP_MALFORMED', `SSDP answer: ${message}`)
}

/** Parses one M-SEARCH answer (an HTTPU 200 response); throws a typed ProtocolError on anything else. */
export function parseSsdpAnswer(bytes: Uint8Array, from: string): SsdpAnswer {
  if (bytes.length > MAX_DATAGRAM) throw malformed(`${bytes.length} bytes, more than ${MAX_DATAGRAM}`)
  const text = new TextDecoder('utf-8', {fatal: false}).decode(bytes)
  const lines = text.split(/\r?\n/)
  const status = lines[0] ?? ''
  if (!/^HTTP\/1\.[01] 200\b/i.test(status)) throw malformed(`status line ${JSON.stringify(status.slice(0, 60))}, not "HTTP/1.1 200 OK"`)
  const headers = new Map<string, string>()
  for (const line of lines.slice(1)) {
    if (line === '') break
    if (headers.size >= MAX_HEADERS) throw malformed(`more than ${MAX_HEADERS} header lines`)
    const colon = line.indexOf(':')
    if (colon <= 0) throw malformed(`header line without a name: ${JSON.stringify(line.slice(0, 60))}`)
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  const location = headers.get('location')
  if (!location) throw malformed('no LOCATION header')
  let url: URL
  try {
    url = new URL(location)
  } catch {
    throw malformed(`LOCATION is not a URL: ${JSON.stringify(location.slice(0, 100))}`)
  }
  if (url.protocol !== 'http:') throw malformed(`LOCATION ${location.slice(0, 100)} is not http://`)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host !== from.replace(/^::ffff:/, '')) {
    throw new ProtocolError('SSDP_LOCATION_MISMATCH', `SSDP answer from ${from} points at ${host}: refused (we only fetch from the device that answered)`, {details: {from, location}})
  }
  return {from, location, searchTarget: headers.get('st'), usn: headers.get('usn'), server: headers.get('server')}
}

export interface SsdpSearchOptions {
  /** Also send the search unicast to this address, and keep only its answers. */
  gateway?: string
  timeoutMs: number
  /** Return as soon as one valid answer arrived (otherwise collect for the whole timeout). */
  first?: boolean
  signal?: AbortSignal
}

export interface SsdpSearchResult {
  answers: SsdpAnswer[]
  /** Datagrams that were not valid answers, with the first error. */
  rejected: number
  firstRejection?: {code: string; message: string}
  sent: number
}

/** Searches for IGDs; resolves with what answered in the window (possibly nothing). */
export async function ssdpSearch(options: SsdpSearchOptions): Promise<SsdpSearchResult> {
  if (options.signal?.aborted) throw abortError(options.signal, 'SSDP search')
  const socket = dgram.createSocket({type: 'udp4', reuseAddr: false})
  const result: SsdpSearchResult = {answers: [], rejected: 0, sent: 0}
  const seen = new Set<string>()
  let onAbort: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('error', (err) => reject(new ProtocolError('SSDP_SOCKET_ERROR', `SSDP search: ${err.message}`, {cause: err})))
      socket.on('message', (msg, rinfo) => {
        if (options.gateway !== undefined && rinfo.address !== options.gateway) return
        try {
          const answer = parseSsdpAnswer(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), rinfo.address)
          if (seen.has(answer.location)) return
          seen.add(answer.location)
          result.answers.push(answer)
          if (options.first) resolve()
        } catch (err) {
          result.rejected++
          if (!result.firstRejection && err instanceof ProtocolError) result.firstRejection = {code: err.code, message: err.message}
        }
      })
      onAbort = () => reject(abortError(options.signal!, 'SSDP search'))
      options.signal?.addEventListener('abort', onAbort, {once: true})
      timer = setTimeout(resolve, options.timeoutMs)
      socket.bind(0, () => {
        // UDA 1.1: TTL 2 so that the search does not leave the local network.
        socket.setMulticastTTL(2)
        const mx = Math.max(1, Math.min(5, Math.floor(options.timeoutMs / 1000)))
        for (const st of IGD_SEARCH_TARGETS) {
          const targets: Array<[string, string]> = [[SSDP_ADDRESS, `${SSDP_ADDRESS}:${SSDP_PORT}`]]
          if (options.gateway !== undefined) targets.push([options.gateway, `${options.gateway}:${SSDP_PORT}`])
          for (const [address, host] of targets) {
            result.sent++
            socket.send(encodeMSearch(st, mx, host), SSDP_PORT, address, (err) => {
              if (err) result.firstRejection ??= {code: 'SSDP_SEND_FAILED', message: `SSDP search to ${address}: ${err.message}`}
            })
          }
        }
      })
    })
  } finally {
    clearTimeout(timer)
    if (onAbort) options.signal?.removeEventListener('abort', onAbort)
    socket.close()
  }
  return result
}
