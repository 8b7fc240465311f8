import dgram from 'node:dgram'
import dns from 'node:dns'
import net from 'node:net'
import {describe, expect, it} from 'vitest'

import {runCli} from './cli.js'
import {installNetworkGuard, isLoopbackTarget} from './loopback-guard.js'

// TEST-NET-3 (RFC 5737). The guard is exercised on stand-in socket classes that only record
// calls, so even a broken guard sends nothing.
const FORBIDDEN = '203.0.113.9'

function standIns() {
  const calls: string[] = []
  class Tcp {
    connect(...args: unknown[]) {
      calls.push(`tcp ${JSON.stringify(args)}`)
      return this
    }
  }
  class Udp {
    send(...args: unknown[]) {
      calls.push(`udp ${JSON.stringify(args)}`)
    }
    connect(...args: unknown[]) {
      calls.push(`udp-connect ${JSON.stringify(args)}`)
    }
    addMembership(...args: unknown[]) {
      calls.push(`join ${JSON.stringify(args)}`)
    }
  }
  const dns = {
    lookup: (host: string) => calls.push(`lookup ${host}`),
    promises: {lookup: async (host: string) => calls.push(`plookup ${host}`)},
  }
  installNetworkGuard({tcpSocket: Tcp, udpSocket: Udp, dns})
  return {calls, tcp: new Tcp(), udp: new Udp(), dns}
}

describe('test network guard', () => {
  it('tells loopback from everything else', () => {
    for (const host of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackTarget(host)).toBe(true)
    for (const host of [FORBIDDEN, '10.0.0.1', '192.168.1.1', '2001:db8::1', 'example.org', '::ffff:10.0.0.1']) expect(isLoopbackTarget(host)).toBe(false)
  })

  it('refuses every call form towards a non-loopback target and lets loopback through', async () => {
    const {calls, tcp, udp, dns} = standIns()
    expect(() => tcp.connect({host: FORBIDDEN, port: 9})).toThrow(/test network guard/)
    expect(() => tcp.connect([{host: FORBIDDEN, port: 9}, null])).toThrow(/test network guard/) // net.connect's form
    expect(() => tcp.connect(9, FORBIDDEN)).toThrow(/test network guard/)
    expect(() => udp.send(Buffer.from('x'), 9, FORBIDDEN)).toThrow(/test network guard/)
    expect(() => udp.send(Buffer.from('x'), 0, 1, 9, FORBIDDEN, () => {})).toThrow(/test network guard/)
    expect(() => udp.connect(9, FORBIDDEN)).toThrow(/test network guard/)
    expect(() => dns.lookup('example.org')).toThrow(/test network guard/)
    await expect(dns.promises.lookup('example.org')).rejects.toThrow(/test network guard/)
    expect(calls).toEqual([])

    tcp.connect([{host: '127.0.0.1', port: 9}, null])
    tcp.connect({path: '/tmp/x.sock'})
    udp.send(Buffer.from('x'), 9, '::1')
    dns.lookup('localhost')
    expect(calls).toHaveLength(4)
  })

  it('refuses multicast and broadcast destinations (SSDP, mDNS, NAT-PMP announcements) and group joins', () => {
    const {calls, udp} = standIns()
    for (const target of ['239.255.255.250', '224.0.0.251', '224.0.0.1', '255.255.255.255', '10.20.0.255', 'ff02::c', 'ff02::fb']) {
      expect(() => udp.send(Buffer.from('M-SEARCH'), 1900, target), target).toThrow(/refused/)
    }
    expect(() => udp.addMembership('239.255.255.250')).toThrow(/multicast group join/)
    expect(calls).toEqual([])
  })

  it('is installed on the real socket classes in the test process', () => {
    // Checked by identity, not by a real connect: a broken guard must not send anything.
    for (const fn of [net.Socket.prototype.connect, dgram.Socket.prototype.send, dgram.Socket.prototype.connect, dns.lookup]) {
      expect(fn.toString()).toMatch(/isLoopbackTarget/)
    }
  })

  it('is loaded into CLI processes started by runCli', async () => {
    const r = await runCli(['--version'], {env: {WAKU_DISC_TEST_NETWORK_GUARD: 'announce'}})
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('test network guard: active')
  })
})
