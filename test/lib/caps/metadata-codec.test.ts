import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {decodeMetadata, encodeMetadata} from '../../../src/lib/caps/metadata-codec.js'
import {ProtocolError} from '../../../src/lib/errors.js'
import {loadVector} from '../../helpers/vectors.js'

const vectors = loadVector('waku-peer-exchange-metadata-protobuf.json')
const byId = (id: string) => vectors.derived.find((v: {id: string}) => v.id === id)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))

describe('metadata codec against the vendored vectors', () => {
  it('writes nwaku\'s layout (unpacked field 2 + packed field 3) byte for byte', () => {
    const v = byId('metadata-request-cluster1-shards0-7-nwaku-style')
    expect(hex(encodeMetadata(1, [0, 1, 2, 3, 4, 5, 6, 7], 'nwaku'))).toBe(v.protobuf_hex)
    expect(decodeMetadata(bytes(v.protobuf_hex))).toEqual({clusterId: 1, shards: [0, 1, 2, 3, 4, 5, 6, 7], shardsField: 'field3'})
  })

  it('writes and reads nwaku\'s cluster-16 answer with an empty packed field 3', () => {
    const v = byId('metadata-response-cluster16-no-shards-nwaku-style')
    expect(hex(encodeMetadata(16, [], 'nwaku'))).toBe(v.protobuf_hex)
    expect(decodeMetadata(bytes(v.protobuf_hex))).toEqual({clusterId: 16, shards: [], shardsField: 'field3'})
  })

  it('reads the spec form (packed field 2)', () => {
    const v = byId('metadata-request-cluster1-shards0-7-spec-style')
    expect(hex(encodeMetadata(1, [0, 1, 2, 3, 4, 5, 6, 7], 'spec'))).toBe(v.protobuf_hex)
    expect(decodeMetadata(bytes(v.protobuf_hex))).toEqual({clusterId: 1, shards: [0, 1, 2, 3, 4, 5, 6, 7], shardsField: 'field2'})
  })

  it('reads unpacked field 2 alone, a cluster-only answer (js-waku), and reports 2/3 disagreement', () => {
    expect(decodeMetadata(bytes('0801100510'+'06'))).toEqual({clusterId: 1, shards: [5, 6], shardsField: 'field2'})
    expect(decodeMetadata(bytes('0802'))).toEqual({clusterId: 2, shards: [], shardsField: 'none'})
    expect(decodeMetadata(bytes('080110011a020203'))).toEqual({
      clusterId: 1, shards: [2, 3], shardsField: 'field3', fieldMismatch: {field2: [1], field3: [2, 3]},
    })
  })

  it('rejects garbage, oversized shard numbers and wrong wire types', () => {
    expect(() => decodeMetadata(bytes('1a05'))).toThrow(ProtocolError)
    expect(() => decodeMetadata(bytes('1a02ff0f'))).toThrow(/shard 2047 is outside 0..1023/)
    expect(() => decodeMetadata(bytes('0a0101'))).toThrow(/cluster_id must be a varint/)
    expect(() => decodeMetadata(bytes('08ffffffff1f'))).toThrow(/exceeds uint32/)
  })

  it('round-trips both layouts (property)', () => {
    fc.assert(
      fc.property(fc.option(fc.integer({min: 0, max: 65535}), {nil: undefined}), fc.array(fc.integer({min: 0, max: 1023}), {maxLength: 30}), fc.constantFrom('nwaku' as const, 'spec' as const), (cluster, shards, style) => {
        const m = decodeMetadata(encodeMetadata(cluster, shards, style))
        expect(m.clusterId).toBe(cluster)
        expect(m.shards).toEqual(shards)
      }),
    )
  })
})
