/**
 * One request/response exchange over UDP with retransmission, shared by the NAT-PMP and PCP
 * clients (both talk to port 5351 of the gateway). RFC 6886 §3.1 retransmits from 250 ms,
 * doubling; RFC 6887 §8.1.1 starts at 3 s, which is too slow for a diagnostic that tries three
 * protocols, so both use the NAT-PMP schedule within the caller's budget.
 */
import dgram from 'node:dgram'
import {isIPv6} from 'node:net'

import {abortError, UnreachableError} from '../errors.js'

export interface UdpExchangeOptions {
  host: string
  port: number
  /** Total time to wait for an accepted answer. */
  timeoutMs: number
  /** First retransmission interval (doubles after each send). */
  initialRetransmitMs?: number
  signal?: AbortSignal
  /** What the exchange is, for error messages ("NAT-PMP external address request"). */
  what: string
}

export interface UdpExchangeResult<T> {
  value: T
  /** Time from the first send to the accepted answer. */
  rttMs: number
  /** Datagrams sent (1 = answered without retransmission). */
  attempts: number
  /** The local address the socket used towards the gateway (PCP needs it in its header). */
  localAddress: string
}

/**
 * Sends `request(localAddress)` until `accept(bytes)` returns a value (not undefined) or throws.
 * Datagrams from any other source than host:port are ignored, as both RFCs require. `accept`
 * throwing (a malformed answer) ends the exchange with that error.
 */
export async function udpExchange<T>(options: UdpExchangeOptions, request: (localAddress: string) => Uint8Array, accept: (bytes: Uint8Array) => T | undefined): Promise<UdpExchangeResult<T>> {
  const {host, port, timeoutMs, signal, what} = options
  if (signal?.aborted) throw abortError(signal, what)
  const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4')
  let timer: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<UdpExchangeResult<T>>((resolve, reject) => {
      let attempts = 0
      let interval = options.initialRetransmitMs ?? 250
      let started = 0
      let payload: Uint8Array | undefined
      let localAddress = ''
      const send = () => {
        attempts++
        socket.send(payload!, (err) => {
          if (err) reject(new UnreachableError('GATEWAY_SEND_FAILED', `${what} to ${host}:${port}: ${err.message}`, {cause: err}))
        })
        timer = setTimeout(send, interval)
        interval *= 2
      }
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // On a connected socket an ICMP port-unreachable comes back as ECONNREFUSED: nothing listens there.
        if (err.code === 'ECONNREFUSED') reject(new UnreachableError('GATEWAY_PORT_CLOSED', `${what}: ${host}:${port} refused the datagram (ICMP port unreachable: nothing listens there)`, {details: {host, port, attempts}}))
        else reject(new UnreachableError('GATEWAY_SOCKET_ERROR', `${what} to ${host}:${port}: ${err.message}`, {cause: err}))
      })
      socket.on('message', (msg, rinfo) => {
        if (rinfo.address.replace(/^::ffff:/, '') !== host.replace(/^::ffff:/, '') || rinfo.port !== port) return
        try {
          const value = accept(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength))
          if (value !== undefined) resolve({value, rttMs: Math.round(performance.now() - started), attempts, localAddress})
        } catch (err) {
          reject(err)
        }
      })
      onAbort = () => reject(abortError(signal!, what))
      signal?.addEventListener('abort', onAbort, {once: true})
      deadline = setTimeout(() => reject(new UnreachableError('GATEWAY_TIMEOUT', `${what}: no answer from ${host}:${port} in ${timeoutMs} ms (${attempts} datagrams sent)`, {details: {host, port, attempts}})), timeoutMs)
      // connect() fixes the route, so address() names the local address the gateway will see.
      socket.connect(port, host, () => {
        localAddress = socket.address().address
        try {
          payload = request(localAddress)
        } catch (err) {
          reject(err)
          return
        }
        started = performance.now()
        send()
      })
    })
  } finally {
    clearTimeout(timer)
    clearTimeout(deadline)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    socket.close()
  }
}
