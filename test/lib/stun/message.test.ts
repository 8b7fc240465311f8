import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ProtocolError} from '../../../src/lib/errors.js'
import {
  decodeAddress,
  decodeStunMessage,
  encodeAddress,
  encodeStunMessage,
  readBindingResult,
  StunAttr,
  xorKey,
} from '../../../src/lib/stun/message.js'

// RFC 5769 §2.2 and §2.3 sample Binding responses (IPv4 and IPv6), with SOFTWARE,
// MESSAGE-INTEGRITY and FINGERPRINT.
const RFC5769_V4 =
  '0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96'
const RFC5769_V6 =
  '010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c'

const tid = Uint8Array.from({length: 12}, (_, i) => i + 1)
const hexBuf = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))

function expectMalformed(buf: Uint8Array, pattern: RegExp): void {
  let err: unknown
  try {
    readBindingResult(decodeStunMessage(buf))
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(ProtocolError)
  expect((err as ProtocolError).code).toBe('STUN_MALFORMED')
  expect((err as Error).message).toMatch(pattern)
}

describe('STUN codec', () => {
  it('decodes the RFC 5769 IPv4 and IPv6 sample responses (fingerprint checked)', () => {
    const v4 = decodeStunMessage(hexBuf(RFC5769_V4))
    expect(v4.cls).toBe('success')
    expect(v4.rfc5389).toBe(true)
    const r4 = readBindingResult(v4)
    expect(r4.xorMapped).toEqual({family: 4, address: '192.0.2.1', port: 32853})
    expect(r4.software).toBe('test vector')
    expect(r4.fingerprintOk).toBe(true)
    const r6 = readBindingResult(decodeStunMessage(hexBuf(RFC5769_V6)))
    expect(r6.xorMapped).toEqual({family: 6, address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853})
  })

  it('rejects the RFC 5769 vector with one flipped bit (FINGERPRINT mismatch)', () => {
    const b = hexBuf(RFC5769_V4)
    b[30]! ^= 1
    expectMalformed(b, /FINGERPRINT mismatch/)
  })

  it('round-trips messages with XOR and plain addresses (property)', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
    const v6 = fc.array(fc.nat(0xffff), {minLength: 8, maxLength: 8}).map((g) => g.map((x) => x.toString(16)).join(':'))
    fc.assert(
      fc.property(fc.oneof(v4, v6), fc.integer({min: 0, max: 65535}), fc.uint8Array({minLength: 12, maxLength: 12}), (ip, port, id) => {
        const addr = {family: (ip.includes(':') ? 6 : 4) as 4 | 6, address: ip, port}
        const msg = {
          method: 1,
          cls: 'success' as const,
          transactionId: id,
          rfc5389: true,
          attributes: [
            {type: StunAttr.XOR_MAPPED_ADDRESS, value: encodeAddress(addr, xorKey(id))},
            {type: StunAttr.OTHER_ADDRESS, value: encodeAddress(addr)},
          ],
        }
        const decoded = decodeStunMessage(encodeStunMessage(msg, {fingerprint: true}))
        const r = readBindingResult(decoded)
        const norm = (a: string) => (a.includes(':') ? decodeAddress('x', encodeAddress({family: 6, address: a, port: 0})).address : a)
        expect(r.xorMapped).toEqual({...addr, address: norm(ip)})
        expect(r.otherAddress).toEqual({...addr, address: norm(ip)})
        expect(r.fingerprintOk).toBe(true)
      }),
      {numRuns: 300},
    )
  })

  it('reports a precise error for each structural fault', () => {
    expectMalformed(new Uint8Array(10), /shorter than the 20-byte header/)
    const hdr = (len: number, extra: number[] = []) => Uint8Array.from([0x01, 0x01, len >> 8, len & 0xff, 0x21, 0x12, 0xa4, 0x42, ...tid, ...extra])
    expectMalformed(Uint8Array.from([0xc1, ...hdr(0).slice(1)]), /two most significant bits/)
    expectMalformed(hdr(3, [0, 0, 0]), /not a multiple of 4/)
    expectMalformed(hdr(8), /says 8 body bytes but the datagram has 0/)
    expectMalformed(hdr(4, [0x00, 0x20, 0x00, 0x08]), /declares 8 bytes but only 0 remain/)
    expectMalformed(hdr(12, [0x00, 0x20, 0x00, 0x08, 0x00, 0x07, 0, 0, 0, 0, 0, 0]), /unknown address family 0x07/)
    expectMalformed(hdr(8, [0x00, 0x20, 0x00, 0x04, 0x00, 0x01, 0, 0]), /4 bytes, too short|expected 8 for IPv4/)
    expectMalformed(hdr(12, [0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x22, 0, 0]), /FINGERPRINT attribute is not the last/)
    expectMalformed(hdr(8, [0x00, 0x09, 0x00, 0x02, 0x00, 0x04, 0, 0]), /ERROR-CODE is 2 bytes/)
  })

  it('first occurrence wins and duplicates are listed (RFC 8489 §14)', () => {
    const a = {family: 4 as const, address: '198.51.100.1', port: 1}
    const b = {family: 4 as const, address: '198.51.100.2', port: 2}
    const m = decodeStunMessage(
      encodeStunMessage({
        method: 1,
        cls: 'success',
        transactionId: tid,
        rfc5389: true,
        attributes: [
          {type: StunAttr.XOR_MAPPED_ADDRESS, value: encodeAddress(a, xorKey(tid))},
          {type: StunAttr.XOR_MAPPED_ADDRESS, value: encodeAddress(b, xorKey(tid))},
        ],
      }),
    )
    const r = readBindingResult(m)
    expect(r.xorMapped).toEqual(a)
    expect(r.duplicates).toEqual(['XOR-MAPPED-ADDRESS'])
  })

  it('never throws anything but ProtocolError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), fc.boolean(), (tail, cookie) => {
        const buf = new Uint8Array(20 + tail.length)
        buf.set(tail, 20)
        buf[3] = tail.length & 0xff
        buf[2] = tail.length >> 8
        buf[1] = 0x01
        if (cookie) buf.set([0x21, 0x12, 0xa4, 0x42], 4)
        try {
          readBindingResult(decodeStunMessage(buf))
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 2000},
    )
  })
})
