import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ProtocolError} from '../../../src/lib/errors.js'
import {decodeNatPmpResponse, encodeExternalAddressRequest, encodeMappingRequest, NATPMP_RESULT} from '../../../src/lib/nat/natpmp.js'
import {decodePcpAddress, decodePcpMapResponse, encodePcpAddress, encodePcpMapRequest, isUnsupportedVersion, PCP_PROTOCOL, PCP_RESULT, pcpResultName} from '../../../src/lib/nat/pcp.js'

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'))
const nonce = hex('0102030405060708090a0b0c')

describe('PCP (RFC 6887)', () => {
  it('a MAP request is laid out as RFC 6887 §7.1 and §11.1 say', () => {
    const bytes = encodePcpMapRequest({lifetime: 7200, clientIp: '192.168.1.20', nonce, protocol: PCP_PROTOCOL.udp, internalPort: 9000, suggestedExternalPort: 9000})
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '02' + '01' + '0000' + '00001c20' + '00000000000000000000ffffc0a80114' + // header: version, MAP, reserved, lifetime, client IP (IPv4-mapped)
        '0102030405060708090a0b0c' + '11' + '000000' + '2328' + '2328' + '00000000000000000000ffff00000000', // nonce, UDP, reserved, ports, no address preference
    )
    expect(bytes.length).toBe(60)
  })

  it('decodes a MAP response: result, lifetime, epoch, the echoed nonce and the assigned address', () => {
    const response = hex('02 81 00 00 00001c20 0000002a 000000000000000000000000' + '0102030405060708090a0b0c 11 000000 2328 c350 00000000000000000000ffffcb007109')
    const r = decodePcpMapResponse(response)
    expect(r).toMatchObject({version: 2, opcode: 1, resultCode: 0, resultName: 'SUCCESS', lifetime: 7200, epoch: 42, protocol: 17, internalPort: 9000, externalPort: 50000, externalIp: '203.0.113.9'})
    expect([...r.nonce]).toEqual([...nonce])
  })

  it('an error answer without a MAP body keeps its result code; a short success is malformed', () => {
    const refused = decodePcpMapResponse(hex('02 81 00 02 00000000 00000005 000000000000000000000000'))
    expect(refused.resultName).toBe('NOT_AUTHORIZED')
    expect(() => decodePcpMapResponse(hex('02 81 00 00 00000000 00000005 000000000000000000000000'))).toThrow(/no 36-byte MAP body/)
    expect(isUnsupportedVersion(hex('00 81 00 01 00000000 00000000 000000000000000000000000'))).toBe(true)
    expect(() => decodePcpMapResponse(hex('02 01 00 00'))).toThrow(ProtocolError)
  })

  it('every result code has a name, and addresses round-trip (IPv4-mapped for IPv4)', () => {
    for (const [name, code] of Object.entries(PCP_RESULT)) expect(pcpResultName(code)).toBe(name)
    for (const ip of ['10.0.0.1', '203.0.113.9', '2001:db8::1', '::']) expect(decodePcpAddress(encodePcpAddress(ip))).toBe(ip)
    expect(() => encodePcpAddress('not-an-ip')).toThrow(/not an IP address/)
  })

  it('decoding random bytes never throws anything but a typed ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 1200}), (bytes) => {
        try {
          decodePcpMapResponse(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 3000},
    )
  })
})

describe('NAT-PMP (RFC 6886)', () => {
  it('requests are laid out as RFC 6886 §3.2 and §3.3 say', () => {
    expect([...encodeExternalAddressRequest()]).toEqual([0, 0])
    expect(Buffer.from(encodeMappingRequest({protocol: 'tcp', internalPort: 60000, suggestedExternalPort: 60001, lifetime: 3600})).toString('hex')).toBe('00020000ea60ea6100000e10')
    expect(encodeMappingRequest({protocol: 'udp', internalPort: 9000, lifetime: 0})[1]).toBe(1)
    expect(() => encodeMappingRequest({protocol: 'udp', internalPort: 70000, lifetime: 1})).toThrow(/0–65535/)
  })

  it('decodes the external address and a mapping, with result names', () => {
    expect(decodeNatPmpResponse(hex('00 80 0000 00000010 cb007109'), 0)).toEqual({opcode: 0, resultCode: 0, resultName: 'SUCCESS', epoch: 16, externalAddress: '203.0.113.9'})
    expect(decodeNatPmpResponse(hex('00 82 0000 00000011 ea60 ea61 00000e10'), 2)).toMatchObject({internalPort: 60000, externalPort: 60001, lifetime: 3600})
    expect(decodeNatPmpResponse(hex('00 81 0002 00000011'), 1).resultName).toBe('NOT_AUTHORIZED')
    expect(NATPMP_RESULT.UNSUPPORTED_OPCODE).toBe(5)
    expect(() => decodeNatPmpResponse(hex('02 80 0000 00000010 cb007109'), 0)).toThrow(/a PCP answer/)
    expect(() => decodeNatPmpResponse(hex('00 81 0000 00000010 cb007109'), 0)).toThrow(/opcode 129, expected 128/)
  })

  it('decoding random bytes never throws anything but a typed ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), fc.constantFrom(0 as const, 1 as const, 2 as const), (bytes, op) => {
        try {
          decodeNatPmpResponse(bytes, op)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 3000},
    )
  })
})
