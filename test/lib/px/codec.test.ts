import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {ProtocolError} from '../../../src/lib/errors.js'
import {lengthPrefixed} from '../../../src/lib/libp2p/protobuf.js'
import {PX_STATUS, decodeRpc, effectiveStatus, encodeQuery, encodeResponse} from '../../../src/lib/px/codec.js'
import {loadVector} from '../../helpers/vectors.js'

// Derived vectors (research tool, from nwaku rpc_codec.nim / go-waku pb): test/vectors.
const vectors = loadVector('waku-peer-exchange-metadata-protobuf.json')
const byId = (id: string) => vectors.derived.find((v: {id: string}) => v.id === id)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))

describe('peer-exchange codec against the vendored vectors', () => {
  it('encodes the nwaku client request byte for byte, with its length prefix', () => {
    const v = byId('px-request-numPeers-2-nwaku-client')
    expect(hex(encodeQuery(2, 'nwaku'))).toBe(v.protobuf_hex)
    expect(hex(lengthPrefixed(encodeQuery(2, 'nwaku')))).toBe(v.length_prefixed_hex)
    const rpc = decodeRpc(bytes(v.protobuf_hex))
    expect(rpc.query?.numPeers).toBe(2n)
    expect(rpc.response).toEqual({enrs: [], statusCode: 0})
  })

  it('encodes the minimal (go-waku/js-waku) request and js-waku\'s default of 60', () => {
    const v = byId('px-request-numPeers-2-minimal')
    expect(hex(encodeQuery(2))).toBe(v.protobuf_hex)
    expect(hex(lengthPrefixed(encodeQuery(2)))).toBe(v.length_prefixed_hex)
    expect(hex(encodeQuery(60))).toBe(byId('px-request-numPeers-60-jswaku-default').protobuf_hex)
    expect(decodeRpc(bytes(v.protobuf_hex))).toEqual({query: {numPeers: 2n}})
  })

  it('decodes and re-encodes the nwaku server response with one ENR and status 200', () => {
    const v = byId('px-response-1-enr-nwaku-server')
    const rpc = decodeRpc(bytes(v.protobuf_hex))
    expect(rpc.query?.numPeers).toBe(0n)
    expect(rpc.response?.statusCode).toBe(200)
    expect(rpc.response?.enrs).toHaveLength(1)
    expect(rpc.response!.enrs[0]![0]).toBe(0xf8) // an RLP list
    expect(hex(encodeResponse({enrs: [rpc.response!.enrs[0]!], statusCode: 200}))).toBe(v.protobuf_hex)
  })

  it('decodes the go-waku response (no query, no status) as SUCCESS by nwaku\'s rule', () => {
    const v = byId('px-response-1-enr-gowaku-server')
    const rpc = decodeRpc(bytes(v.protobuf_hex))
    expect(rpc.query).toBeUndefined()
    expect(rpc.response?.statusCode).toBeUndefined()
    expect(effectiveStatus(rpc.response!)).toEqual({code: 200, name: 'SUCCESS', explicit: false})
    const enr = decodeRpc(bytes(byId('px-response-1-enr-nwaku-server').protobuf_hex)).response!.enrs[0]!
    expect(hex(encodeResponse({enrs: [enr], style: 'minimal'}))).toBe(v.protobuf_hex)
  })

  it('encodes nwaku\'s 429 answer', () => {
    const v = byId('px-response-too-many-requests-nwaku')
    expect(hex(encodeResponse({enrs: [], statusCode: PX_STATUS.TOO_MANY_REQUESTS}))).toBe(v.protobuf_hex)
    const rpc = decodeRpc(bytes(v.protobuf_hex))
    expect(effectiveStatus(rpc.response!)).toEqual({code: 429, name: 'TOO_MANY_REQUESTS', explicit: true})
  })

  it('reads status_desc (field 11) and names unrecognised codes without dropping them', () => {
    const rpc = decodeRpc(encodeResponse({enrs: [], statusCode: 418, statusDesc: 'teapot'}))
    expect(rpc.response).toMatchObject({statusCode: 418, statusDesc: 'teapot'})
    expect(effectiveStatus(rpc.response!)).toEqual({code: 418, name: 'UNRECOGNISED', explicit: true})
    expect(effectiveStatus({enrs: []})).toEqual({code: 503, name: 'SERVICE_UNAVAILABLE', explicit: false})
  })

  it('rejects malformed bytes with a typed error naming the offset', () => {
    for (const h of ['0a', '0a05', '12ff', '0a0208', '0f', '1205500000000000000000000001', '0aff01']) {
      expect(() => decodeRpc(bytes(h)), h).toThrow(ProtocolError)
    }
    expect(() => decodeRpc(bytes('0a05'))).toThrow(/claims 5 bytes but only 0 remain at byte 0/)
    // response as a varint instead of a message
    expect(() => decodeRpc(bytes('1001'))).toThrow(/response \(field 2\) must be a message/)
  })

  it('round-trips any response (property) and never throws anything but ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({maxLength: 40}), {maxLength: 8}),
        fc.option(fc.integer({min: 0, max: 2 ** 32 - 1}), {nil: undefined}),
        fc.option(fc.string({maxLength: 20}), {nil: undefined}),
        fc.constantFrom('minimal' as const, 'nwaku' as const),
        (enrs, statusCode, statusDesc, style) => {
          const rpc = decodeRpc(encodeResponse({enrs, statusCode, statusDesc, style}))
          expect(rpc.response!.enrs.map((e) => hex(e!))).toEqual(enrs.map(hex))
          expect(rpc.response!.statusDesc).toBe(statusDesc)
          if (statusCode !== undefined) expect(rpc.response!.statusCode).toBe(statusCode)
        },
      ),
    )
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), (junk) => {
        try {
          decodeRpc(junk)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
    )
  })
})
