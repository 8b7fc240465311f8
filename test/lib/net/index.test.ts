import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {BadInputError} from '../../../src/lib/errors.js'
import {
  DestinationPolicy,
  checkDestination,
  classifyIp,
  isAllowedDestination,
  trustedRangesFor,
} from '../../../src/lib/net/index.js'

describe('classifyIp', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2a00:1450:4001::1', 'public'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'reserved'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyIp(ip).class).toBe(cls)
  })

  it.each([
    ['::ffff:127.0.0.1', 'loopback', 'ipv4-mapped'],
    ['::ffff:7f00:1', 'loopback', 'ipv4-mapped'],
    ['::7f00:1', 'loopback', 'ipv4-compatible'],
    ['::a00:1', 'private', 'ipv4-compatible'],
    ['::ffff:0:a00:1', 'private', 'ipv4-translated'],
    ['64:ff9b::10.0.0.1', 'private', 'nat64'],
    ['64:ff9b::7f00:1', 'loopback', 'nat64'],
    ['2002:c0a8:0101::1', 'private', '6to4'],
    ['2002:7f00:1::', 'loopback', '6to4'],
    ['2002:0808:0808::1', 'public', '6to4'],
    // Teredo: the client IPv4 is the last 32 bits inverted: ~0x80fffffe = 127.0.0.1
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback', 'teredo'],
  ])('unwraps IPv4 hidden in %s → %s (%s)', (ip, cls, kind) => {
    const c = classifyIp(ip)
    expect(c.class).toBe(cls)
    expect(c.embedded).toBe(kind)
    expect(c.family).toBe(4)
  })

  it('does not treat :: and ::1 as IPv4-compatible', () => {
    expect(classifyIp('::').embedded).toBeUndefined()
    expect(classifyIp('::1').embedded).toBeUndefined()
  })

  it.each(['', '1', '256.1.1.1', '0x7f.0.0.1', '1.2.3', 'example.com', '::g', '1.2.3.4/8', ' '])('rejects %j with BadInputError', (bad) => {
    expect(() => classifyIp(bad)).toThrow(BadInputError)
  })

  it('classifies every embedded form like the IPv4 address itself (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const octets = v4.split('.').map(Number)
        const hi = ((octets[0]! << 8) | octets[1]!).toString(16)
        const lo = ((octets[2]! << 8) | octets[3]!).toString(16)
        const plain = classifyIp(v4).class
        for (const form of [`::ffff:${v4}`, `::ffff:${hi}:${lo}`, `64:ff9b::${hi}:${lo}`, `2002:${hi}:${lo}::1`]) {
          const c = classifyIp(form)
          expect(c.class, form).toBe(plain)
          expect(c.address, form).toBe(v4)
        }
      }),
      {numRuns: 300},
    )
  })

  it('never throws on arbitrary valid IPv6 addresses (property)', () => {
    fc.assert(fc.property(fc.ipV6(), (ip) => typeof classifyIp(ip).class === 'string'), {numRuns: 500})
  })
})

describe('isAllowedDestination', () => {
  it('allows public addresses on high ports by default', () => {
    expect(isAllowedDestination('8.8.8.8', 9000)).toBe(true)
    expect(isAllowedDestination('2a00:1450::1', 30303)).toBe(true)
  })

  it('refuses UDP ports ≤ 1024 unless allowed, and port 0 or > 65535 always', () => {
    expect(checkDestination('8.8.8.8', 53).reason).toBe('low-port')
    expect(checkDestination('8.8.8.8', 1024).reason).toBe('low-port')
    expect(isAllowedDestination('8.8.8.8', 1025)).toBe(true)
    expect(isAllowedDestination('8.8.8.8', 53, {allowLowPorts: true})).toBe(true)
    expect(checkDestination('8.8.8.8', 0, {allowLowPorts: true}).reason).toBe('bad-port')
    expect(checkDestination('8.8.8.8', 65_536).reason).toBe('bad-port')
    expect(checkDestination('8.8.8.8', 1.5).reason).toBe('bad-port')
  })

  it('refuses private, loopback, link-local and CGNAT by default, allows them with allowPrivate', () => {
    for (const ip of ['10.0.0.1', '127.0.0.1', '::1', '169.254.3.3', 'fe80::1', 'fd00::1', '100.64.0.9', '::ffff:192.168.1.1']) {
      expect(isAllowedDestination(ip, 9000), ip).toBe(false)
      expect(isAllowedDestination(ip, 9000, {allowPrivate: true}), ip).toBe(true)
    }
  })

  it('never allows multicast, broadcast or unspecified, even when trusted', () => {
    const policy = {allowPrivate: true, allowLowPorts: true, trustedRanges: ['0.0.0.0/0', '::/0']}
    for (const ip of ['224.0.0.251', 'ff02::fb', '255.255.255.255', '0.0.0.0', '::', '::ffff:224.0.0.1']) {
      expect(isAllowedDestination(ip, 5353, policy), ip).toBe(false)
    }
  })

  it('keeps reserved ranges and the metadata address out even with allowPrivate, unless trusted by CIDR', () => {
    expect(checkDestination('192.0.2.1', 9000, {allowPrivate: true}).reason).toBe('reserved')
    expect(checkDestination('169.254.169.254', 9000, {allowPrivate: true}).reason).toBe('metadata')
    expect(isAllowedDestination('198.18.0.5', 9000, {trustedRanges: ['198.18.0.0/15']})).toBe(true)
  })

  it("a loopback bootnode's range admits loopback neighbours but not LAN ones", () => {
    const trustedRanges = trustedRangesFor(['127.0.0.1'])
    expect(trustedRanges).toContain('127.0.0.0/8')
    const policy = new DestinationPolicy({trustedRanges})
    expect(policy.isAllowed('127.0.0.9', 40_000)).toBe(true)
    expect(policy.isAllowed('::ffff:127.0.0.9', 40_000)).toBe(true)
    expect(policy.isAllowed('::1', 40_000)).toBe(true)
    expect(policy.isAllowed('10.0.0.1', 40_000)).toBe(false)
    expect(policy.isAllowed('8.8.8.8', 40_000)).toBe(true)
    expect(policy.isAllowed('127.0.0.9', 53)).toBe(false)
  })

  it('a private bootnode vouches for the private ranges; a public one for nothing extra', () => {
    expect(trustedRangesFor(['10.9.8.7'])).toEqual(expect.arrayContaining(['10.0.0.0/8', '192.168.0.0/16', 'fc00::/7']))
    expect(trustedRangesFor(['8.8.8.8', 'garbage'])).toEqual([])
  })

  it('denied ranges win over everything', () => {
    expect(checkDestination('8.8.8.8', 9000, {deniedRanges: ['8.8.0.0/16']}).reason).toBe('denied')
    expect(checkDestination('::ffff:8.8.8.8', 9000, {deniedRanges: ['8.8.8.8']}).reason).toBe('denied')
  })

  it('returns invalid-ip for junk instead of throwing, and rejects bad CIDRs with BadInputError', () => {
    expect(checkDestination('not-an-ip', 9000).reason).toBe('invalid-ip')
    expect(() => new DestinationPolicy({trustedRanges: ['10.0.0.0/33']})).toThrow(BadInputError)
    expect(() => new DestinationPolicy({deniedRanges: ['nope']})).toThrow(BadInputError)
  })

  it('default policy only ever admits public addresses on ports > 1024 (property)', () => {
    const policy = new DestinationPolicy()
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({min: -5, max: 70_000}), (ip, port) => {
        const d = policy.check(ip, port)
        if (d.allowed) {
          expect(d.classification?.class).toBe('public')
          expect(port).toBeGreaterThan(1024)
          expect(port).toBeLessThanOrEqual(65_535)
        }
      }),
      {numRuns: 1000},
    )
  })
})
