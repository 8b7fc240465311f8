/**
 * Test network guard: the test suite may only send traffic to loopback (network namespaces are
 * reached through child processes started with `ip netns exec`, which do not load this guard).
 * Loaded by vitest (setupFiles) and by every CLI process the tests start (runCli), it makes a TCP
 * connect, a UDP send or connect, or a DNS lookup towards anything else throw before anything is
 * sent, so a test that would leak traffic fails instead.
 */
import dgram from 'node:dgram'
import dns from 'node:dns'
import net from 'node:net'

const LOCAL_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost'])

export function isLoopbackTarget(host: string | undefined): boolean {
  if (host === undefined || host === '') return true // Node's default is localhost
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (LOCAL_NAMES.has(h)) return true
  if (net.isIPv4(h)) return h.startsWith('127.') || h === '0.0.0.0'
  if (net.isIPv6(h)) return h === '::1' || h === '::' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1'
  return false
}

export class TestNetworkGuardError extends Error {
  override name = 'TestNetworkGuardError'
}

function refuse(what: string, host: string | undefined): never {
  throw new TestNetworkGuardError(`test network guard: ${what} to ${host} refused (tests may only reach loopback)`)
}

/** The host of `Socket#connect(...)` arguments (net.connect passes its normalized array as one argument). */
function tcpTarget(args: unknown[]): string | undefined {
  let first = args[0]
  if (Array.isArray(first)) first = first[0]
  if (typeof first === 'object' && first !== null) {
    const options = first as {host?: string; path?: string}
    return options.path === undefined ? options.host : 'localhost'
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return 'localhost' // a unix socket path
  return typeof args[1] === 'string' ? args[1] : undefined
}

interface GuardTargets {
  tcpSocket: {prototype: {connect: (...a: any[]) => unknown}}
  udpSocket: {prototype: {send: (...a: any[]) => unknown; connect: (...a: any[]) => unknown; addMembership?: (...a: any[]) => unknown; addSourceSpecificMembership?: (...a: any[]) => unknown}}
  dns: {lookup: (...a: any[]) => unknown; promises: {lookup: (...a: any[]) => Promise<unknown>}}
}

/** Wraps the connect/send/lookup functions of `targets` so that non-loopback destinations throw. */
export function installNetworkGuard(targets: GuardTargets): void {
  const tcpConnect = targets.tcpSocket.prototype.connect
  targets.tcpSocket.prototype.connect = function (this: unknown, ...args: unknown[]) {
    const host = tcpTarget(args)
    if (!isLoopbackTarget(host)) refuse('TCP connection', host)
    return tcpConnect.apply(this, args)
  }
  const udpSend = targets.udpSocket.prototype.send
  targets.udpSocket.prototype.send = function (this: unknown, ...args: unknown[]) {
    // send(msg, [offset, length,] [port, [address]], [callback]): the address is the last string.
    const address = args.filter((a) => typeof a === 'string').at(-1) as string | undefined
    if (!isLoopbackTarget(address)) refuse('UDP datagram', address)
    return udpSend.apply(this, args)
  }
  const udpConnect = targets.udpSocket.prototype.connect
  targets.udpSocket.prototype.connect = function (this: unknown, ...args: unknown[]) {
    const address = typeof args[1] === 'string' ? args[1] : undefined
    if (!isLoopbackTarget(address)) refuse('UDP connect', address)
    return udpConnect.apply(this, args)
  }
  // Joining a multicast group sends an IGMP/MLD report on the wire, whatever the group: refused
  // outright (multicast and broadcast sends are already refused above: they are not loopback).
  for (const method of ['addMembership', 'addSourceSpecificMembership'] as const) {
    if (typeof targets.udpSocket.prototype[method] !== 'function') continue
    targets.udpSocket.prototype[method] = function (this: unknown, ...args: unknown[]) {
      refuse(`multicast group join (${method})`, String(args.at(method === 'addMembership' ? 0 : 1)))
    }
  }
  // Name lookups would reach the machine's resolver: only local names (and IP literals) pass.
  const lookup = targets.dns.lookup
  targets.dns.lookup = function (hostname: string, ...rest: unknown[]) {
    if (!isLoopbackTarget(hostname) && !net.isIP(hostname)) refuse('DNS lookup', hostname)
    return lookup.call(targets.dns, hostname, ...rest)
  }
  const promisesLookup = targets.dns.promises.lookup
  targets.dns.promises.lookup = function (hostname: string, ...rest: unknown[]) {
    if (!isLoopbackTarget(hostname) && !net.isIP(hostname)) return Promise.reject(new TestNetworkGuardError(`test network guard: DNS lookup of ${hostname} refused`))
    return promisesLookup.call(targets.dns.promises, hostname, ...rest)
  }
}

if (process.env.WAKU_DISC_TEST_NETWORK_GUARD !== 'off') {
  installNetworkGuard({tcpSocket: net.Socket, udpSocket: dgram.Socket, dns})
  if (process.env.WAKU_DISC_TEST_NETWORK_GUARD === 'announce') process.stderr.write('test network guard: active\n')
}
