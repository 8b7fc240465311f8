// Byte-level tests on the public vectors (test/vectors): EIP-778, go-ethereum record cases,
// nwaku and js-waku Waku ENRs, and the rs/rsv layouts incl. all three rsv bit orders. Upstream
// fields (`expected_by_upstream_test`, `expected_by_spec`) are the truth; `decoded_by_research_tool`
// fields are a second opinion that we also match.
import {describe, expect, it} from 'vitest'

import {BadInputError, CheckFailedError} from '../../../src/lib/errors.js'
import {decodeEnr, decodeRs, decodeRsv, encodeEnr, encodeRs, encodeRsv, inspectEnr, lintEnr, parseEnr} from '../../../src/lib/enr/index.js'
import {keccak256} from '../../../src/lib/keys/index.js'
import {buildRecord, bytes, EIP778_KEY, hex, toText} from '../../fixtures/enr/build.js'
import {loadVector} from '../../helpers/vectors.js'

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function errorOf(fn: () => unknown): Error & {code: string} {
  try {
    fn()
  } catch (error) {
    return error as Error & {code: string}
  }
  throw new Error('expected an error')
}

describe('EIP-778 example record (enr-eip778.json)', () => {
  const v = loadVector('enr-eip778.json')
  it('decodes every field, the node id and the signature', () => {
    const r = parseEnr(v.enr)
    expect(toHex(r.raw)).toBe(v.rlp_hex)
    expect(r.size).toBe(v.derived_verified.encoded_size_bytes)
    expect(r.nodeId).toBe(v.node_id_hex)
    expect(r.seq).toBe(BigInt(v.seq))
    expect(toHex(r.signature)).toBe(v.rlp_structure.signature)
    expect(r.keys()).toEqual(v.rlp_structure.pairs.map((p: string[]) => p[0]))
    expect(toHex(r.signedContent())).toBe(v.derived_verified.signed_content_rlp_hex)
    expect(toHex(keccak256(r.signedContent()))).toBe(v.derived_verified.signed_content_keccak256_hex)
    expect(r.signatureValid).toBe(true)
    const d = decodeEnr(r)
    expect(d.ip).toBe(v.expected_fields.ip)
    expect(d.udp).toBe(v.expected_fields.udp)
    expect(d.id).toBe(v.expected_fields.id)
    expect(d.publicKey).toBe(v.expected_fields.secp256k1)
    expect(r.text).toBe(v.enr)
  })
  it('accepts the same record as bare base64, hex, 0x-hex, upper-case prefix and bytes', () => {
    const bare = v.enr.slice(4)
    for (const input of [bare, v.rlp_hex, '0x' + v.rlp_hex, 'ENR:' + bare, `  ${v.enr}\n`, hex(v.rlp_hex)]) {
      expect(parseEnr(input).nodeId).toBe(v.node_id_hex)
    }
  })
  it('re-encoding from the private key reproduces the record byte for byte (RFC 6979, low-s)', () => {
    const r = encodeEnr({privateKey: hex(v.private_key_hex), seq: 1n, ip: '127.0.0.1', udp: 30303})
    expect(r.text).toBe(v.enr)
  })
  it('rejects every non-canonical text form of the same bytes', () => {
    const bare: string = v.enr.slice(4)
    const cases: Array<[string, string]> = [
      [v.enr + '=', 'ENR_BASE64_PADDING'],
      [v.enr.slice(0, -1) + '9', 'ENR_BASE64_TRAILING_BITS'],
      ['enr:+' + bare.slice(1), 'ENR_BASE64_ALPHABET'],
      [v.enr.replace('Q', '/'), 'ENR_BASE64_ALPHABET'],
      [v.enr.slice(0, 40) + ' ' + v.enr.slice(40), 'ENR_BASE64_ALPHABET'],
      [v.enr.slice(0, 40) + '!' + v.enr.slice(40), 'ENR_BASE64_ALPHABET'],
      [v.enr + 'AA', 'ENR_BASE64_LENGTH'],
      [v.enr + 'AAAA', 'RLP_MORE_THAN_ONE_VALUE'],
    ]
    for (const [input, code] of cases) {
      const err = errorOf(() => parseEnr(input))
      expect(err, input).toBeInstanceOf(BadInputError)
      expect(err.code, input).toBe(code)
    }
    // Node's Buffer would have accepted all of these (it decodes base64 leniently):
    expect(Buffer.from(bare + '=', 'base64url').length).toBe(134)
  })
})

describe('go-ethereum record cases (enr-record-misc.json)', () => {
  const v = loadVector('enr-record-misc.json')
  for (const c of v.decode_incomplete) {
    it(`structure ${c.input_hex}: ${c.error ?? 'ok'}`, () => {
      const err = errorOf(() => parseEnr(hex(c.input_hex)))
      if (c.error === null) {
        // Structurally fine for geth; it fails later for lack of an identity scheme.
        expect(err).toBeInstanceOf(CheckFailedError)
        expect(err.code).toBe('ID_MISSING')
      } else {
        expect(err).toBeInstanceOf(BadInputError)
        expect(err.code).toBe(c.error.includes('less than two') ? 'ENR_TOO_SHORT' : 'ENR_INCOMPLETE_PAIR')
      }
    })
  }
  it('size limit: 300 bytes accepted, 301 rejected', () => {
    const sized = (n: number) => {
      // find a padding length giving exactly n bytes
      const base = buildRecord([['z', new Uint8Array(0)]]).length
      for (let pad = Math.max(0, n - base - 4); pad < n; pad++) {
        const raw = buildRecord([['z', new Uint8Array(pad).fill(0x61)]])
        if (raw.length === n) return raw
      }
      throw new Error(`no record of ${n} bytes`)
    }
    const r300 = sized(300)
    expect(parseEnr(r300).size).toBe(300)
    expect(lintEnr(parseEnr(r300)).map((f) => f.code)).toContain('size.js-waku-encoder-limit')
    const err = errorOf(() => parseEnr(sized(301)))
    expect(err).toBeInstanceOf(CheckFailedError)
    expect(err.code).toBe('SIZE_OVER_LIMIT')
    expect(err.message).toMatch(/301 bytes/)
  })
  it('a huge input is refused by size before any decoding', () => {
    const err = errorOf(() => parseEnr('enr:' + 'A'.repeat(400_000)))
    expect(err).toBeInstanceOf(CheckFailedError)
    expect(err.code).toBe('SIZE_OVER_LIMIT')
  })
  it('keys must be sorted bytewise and unique (not localeCompare order)', () => {
    // Byte order: '-' < '1' < 'Z' < '_' < 'a'; localeCompare would put '_' and '-' first and 'Z' last.
    const keys = ['Z', 'a', '_', '1', '-']
    const ok = buildRecord(keys.map((k) => [k, bytes(1)]))
    expect(parseEnr(ok).keys()).toEqual(['-', '1', 'Z', '_', 'a', 'id', 'secp256k1'])
    const locale = [...keys, 'id', 'secp256k1'].sort((x, y) => x.localeCompare(y))
    const unsorted = buildRecord(locale.filter((k) => k !== 'id' && k !== 'secp256k1').map((k) => [k, bytes(1)]), EIP778_KEY, {sort: false})
    expect(errorOf(() => parseEnr(unsorted)).code).toBe('ENR_KEYS_UNSORTED')
    const dup = buildRecord([['a', bytes(1)], ['a', bytes(2)]])
    expect(errorOf(() => parseEnr(dup)).code).toBe('ENR_DUPLICATE_KEY')
  })
})

function checkResearch(d: ReturnType<typeof decodeEnr>, t: Record<string, any>): void {
  expect(d.size).toBe(t.rlp_size_bytes)
  expect(d.seq).toBe(String(t.seq))
  expect(d.publicKey).toBe(t.secp256k1)
  expect(d.peerId).toBe(t.peer_id)
  expect(d.nodeId).toBe(t.node_id)
  expect(d.signatureValid).toBe(t.signature_valid)
  for (const k of ['ip', 'tcp', 'udp', 'ip6', 'tcp6', 'udp6'] as const) expect(d[k], k).toBe(t[k])
  if (t.waku2_raw_hex !== undefined) {
    expect(d.waku?.waku2?.raw).toBe(t.waku2_raw_hex)
    const caps = d.waku!.waku2!.capabilities
    for (const name of ['relay', 'store', 'filter', 'lightpush', 'sync'] as const) expect(caps.includes(name), name).toBe(t.waku2[name])
    expect(caps.includes('mix')).toBe(t.waku2['mix(bit5, nwaku-only)'])
  } else {
    expect(d.waku?.waku2).toBeUndefined()
  }
  if (t.multiaddrs !== undefined) expect(d.waku?.multiaddrs).toEqual(t.multiaddrs)
  if (t.rs !== undefined) {
    expect(d.waku?.cluster).toBe(t.rs.cluster_id)
    expect(d.waku?.shards).toEqual(t.rs.shards)
    expect(d.waku?.shardSource).toBe('rs')
    expect(d.pubsubTopics).toEqual(t.rs.shards.map((s: number) => `/waku/2/rs/${t.rs.cluster_id}/${s}`))
  }
}

describe('nwaku Waku ENRs (waku-enr-nwaku.json)', () => {
  const v = loadVector('waku-enr-nwaku.json')
  for (const vec of v.vectors) {
    it(vec.id, () => {
      if (vec.decoded_by_research_tool.error) {
        // Negative vectors: truncated RLP (the list header claims more bytes than there are).
        const err = errorOf(() => parseEnr(vec.input))
        expect(err).toBeInstanceOf(BadInputError)
        expect(err.code).toBe('RLP_VALUE_TOO_LARGE')
        expect(err.message).toBe('ENR is not valid RLP: rlp: value size exceeds available input length at byte 0')
        return
      }
      const d = decodeEnr(parseEnr(vec.input))
      checkResearch(d, vec.decoded_by_research_tool)
      const up = vec.expected_by_upstream_test
      if (up.toCapabilities) expect(d.waku?.waku2?.capabilities).toEqual(up.toCapabilities.map((c: string) => c.toLowerCase()))
      if (up.waku2 && typeof up.waku2 === 'object') {
        for (const [name, set] of Object.entries(up.waku2)) expect(d.waku?.waku2?.capabilities.includes(name.toLowerCase() as any), name).toBe(set)
      }
      if (up.waku2 === null) {
        expect(d.waku?.waku2).toBeUndefined()
        expect(up.getCapabilities).toEqual([])
      }
      if (up.multiaddrs_len !== undefined) {
        expect(d.waku?.multiaddrs).toHaveLength(up.multiaddrs_len)
        for (const m of up.multiaddrs_contains) expect(d.waku?.multiaddrs).toContain(m)
        for (const m of up.multiaddrs_contains) expect(d.dialable).toContain(`${m}/p2p/${d.peerId}`)
      }
      if (up.toBase64_equals_input_without_prefix) expect(d.enr).toBe(vec.input)
      if (vec.decoded_by_research_tool.other_keys_hex) expect(d.eth2).toBeDefined()
    })
  }
  it('eth2 key of the consensus-layer record decodes as an SSZ ENRForkID', () => {
    const vec = v.vectors.find((x: any) => x.id === 'nwaku-non-waku-eth-enr')
    const d = decodeEnr(parseEnr(vec.input))
    expect(d.eth2).toEqual({forkDigest: 'f5a5fd42', nextForkVersion: '00000000', nextForkEpoch: (2n ** 64n - 1n).toString()})
    expect(d.otherKeys).toEqual({})
  })
})

describe('js-waku Waku ENRs (waku-enr-jswaku.json)', () => {
  const v = loadVector('waku-enr-jswaku.json')
  for (const vec of v.vectors) {
    it(vec.id, () => {
      const up = vec.expected_by_upstream_test
      if (up['EnrDecoder.fromString']) {
        // Negative vector: mangled key name → no secp256k1 key.
        const err = errorOf(() => parseEnr(vec.input))
        expect(err).toBeInstanceOf(CheckFailedError)
        expect(err.code).toBe('SECP256K1_MISSING')
        return
      }
      const r = parseEnr(vec.input)
      const d = decodeEnr(r)
      checkResearch(d, vec.decoded_by_research_tool)
      if (up["get('eth2')_hex"]) expect(toHex(r.get('eth2')!)).toBe(up["get('eth2')_hex"])
      if (up.tcp !== undefined) expect(d.tcp).toBe(up.tcp)
      if (up.ip !== undefined) expect(d.ip).toBe(up.ip)
      if (up.udp !== undefined) expect(d.udp).toBe(up.udp)
      if (up.peerId !== undefined) expect(d.peerId).toBe(up.peerId)
      if (up.seq !== undefined) expect(d.seq).toBe(String(up.seq))
      if (up.multiaddrs_len !== undefined) {
        expect(d.waku?.multiaddrs).toHaveLength(up.multiaddrs_len)
        for (const m of up.multiaddrs_include) expect(d.waku?.multiaddrs).toContain(m)
      }
      if (up.waku2) {
        for (const [name, set] of Object.entries(up.waku2)) expect(d.waku?.waku2?.capabilities.includes(name.toLowerCase() as any), name).toBe(set)
      }
      const nodeIdFromKey = up['nodeId_of_record_built_from_privkey_b71c71a6...']
      if (nodeIdFromKey) expect(encodeEnr({privateKey: EIP778_KEY, ip: '127.0.0.1', udp: 30303}).nodeId).toBe(nodeIdFromKey)
    })
  }
  it('the 298-byte shared vector is under the limit and has no size finding', () => {
    const vec = v.vectors.find((x: any) => x.id === 'jswaku-shared-multiaddrs-vector')
    const codes = lintEnr(parseEnr(vec.input)).map((f) => f.code)
    expect(codes.filter((c) => c.startsWith('size.'))).toEqual([])
  })
  it('the attnets bit vector is decoded', () => {
    const vec = v.vectors.find((x: any) => x.id === 'jswaku-eth2-enr')
    expect(decodeEnr(parseEnr(vec.input)).attnets).toEqual([])
  })
})

describe('rs / rsv layouts (waku-relay-shard-fields.json)', () => {
  const v = loadVector('waku-relay-shard-fields.json')
  const byId = (id: string) => v.vectors.find((x: any) => x.id === id)
  it('nwaku index list', () => {
    const vec = byId('nwaku-index-list')
    const r = decodeRs(Uint8Array.from(vec.input_bytes))
    expect(r).toEqual({ok: true, value: {cluster: vec.expected_by_upstream_test.clusterId, shards: vec.expected_by_upstream_test.shardIds}})
    expect(Array.from(encodeRs(73, [1, 10]))).toEqual(vec.input_bytes)
  })
  it('nwaku bit vector in all three bit orders', () => {
    const vec = byId('nwaku-bit-vector')
    const b = hex(vec.input_bytes_hex)
    const up = vec.expected_by_upstream_test
    expect(decodeRsv(b)).toEqual({ok: true, value: {cluster: up.clusterId, shards: up.shardIds}})
    expect(decodeRsv(b, 'msb-first')).toEqual({ok: true, value: {cluster: 73, shards: vec.interpretations.shards_jswaku_msb_first}})
    expect(decodeRsv(b, 'spec-big-endian')).toEqual({ok: true, value: {cluster: 73, shards: vec.interpretations.shards_spec_text_rightmost_is_0}})
    expect(toHex(encodeRsv(73, [1, 10]))).toBe(vec.input_bytes_hex)
  })
  it('spec rs example', () => {
    const vec = byId('spec-rs-example')
    expect(decodeRs(hex(vec.input_bytes_hex))).toEqual({ok: true, value: {cluster: 16, shards: vec.expected_by_spec.shards}})
  })
  it('spec rsv example: the three readings (the spec prose is inconsistent with its own rule)', () => {
    const vec = byId('spec-rsv-example')
    const b = hex(vec.input_bytes_hex)
    const i = vec.interpretations
    expect(decodeRsv(b)).toEqual({ok: true, value: {cluster: 16, shards: i.shards_nwaku_gowaku_lsb_first}})
    expect(decodeRsv(b, 'msb-first')).toEqual({ok: true, value: {cluster: 16, shards: i.shards_jswaku_msb_first}})
    expect(decodeRsv(b, 'spec-big-endian')).toEqual({ok: true, value: {cluster: 16, shards: i.shards_spec_text_rightmost_is_0}})
  })
  it('a record carrying the nwaku bit vector decodes LSB-first and lints the js-waku reading', () => {
    const vec = byId('nwaku-bit-vector')
    const r = parseEnr(buildRecord([['rsv', hex(vec.input_bytes_hex)], ['waku2', bytes(1)], ['udp', bytes(0x23, 0x28)]]))
    const d = decodeEnr(r)
    expect(d.waku).toMatchObject({cluster: 73, shards: [1, 10], shardSource: 'rsv'})
    expect(d.pubsubTopics).toEqual(['/waku/2/rs/73/1', '/waku/2/rs/73/10'])
    const f = lintEnr(r).find((x) => x.code === 'rsv.js-waku-bit-order')
    expect(f?.severity).toBe('error')
    expect(f?.message).toContain('js-waku would read this rsv as shards 6,13')
    expect(f?.message).toContain('1,10')
  })
  it('decode rules: rs exact length, rsv exactly 130 bytes, rs wins over rsv', () => {
    expect(decodeRs(bytes(0, 1))).toMatchObject({ok: false, code: 'rs.bad-length'})
    expect(decodeRs(bytes(0, 1, 1, 0))).toMatchObject({ok: false, code: 'rs.bad-length'})
    expect(decodeRs(bytes(0, 1, 1, 0, 1, 0))).toMatchObject({ok: false, code: 'rs.bad-length'})
    expect(decodeRs(bytes(0, 1, 0))).toEqual({ok: true, value: {cluster: 1, shards: []}})
    expect(decodeRsv(new Uint8Array(129))).toMatchObject({ok: false, code: 'rsv.bad-length'})
    const both = parseEnr(buildRecord([['rs', bytes(0, 1, 1, 0, 1)], ['rsv', encodeRsv(1, [5])], ['waku2', bytes(1)]]))
    const d = decodeEnr(both)
    expect(d.waku).toMatchObject({cluster: 1, shards: [1], shardSource: 'rs'})
    expect(d.warnings.map((w) => w.code)).toContain('rs.rsv-both')
  })
  it('nwaku discv5 predicate inline records', () => {
    const vec = byId('nwaku-discv5-predicate-inline-records')
    expect(decodeRs(Uint8Array.from(vec.records.enrRelay.rs))).toEqual({ok: true, value: {cluster: 1, shards: [1]}})
    expect(decodeRs(Uint8Array.from(vec.records.enrNoCapabilities.rs))).toEqual({ok: true, value: {cluster: 0, shards: [0]}})
  })
  it('encodeEnr picks rs below 64 shards and rsv (LSB-first) from 64', () => {
    const small = encodeEnr({privateKey: EIP778_KEY, cluster: 1, shards: [0, 1, 2]})
    expect(small.keys()).toContain('rs')
    const many = Array.from({length: 64}, (_, i) => i * 3)
    const big = encodeEnr({privateKey: EIP778_KEY, cluster: 1, shards: many})
    expect(big.keys()).toContain('rsv')
    expect(big.keys()).not.toContain('rs')
    expect(decodeEnr(big).waku?.shards).toEqual(many)
  })
})

describe('inspectEnr: collects failures without throwing', () => {
  it('reports per-key errors and keeps the rest of the record', () => {
    const raw = buildRecord([['ip', bytes(1, 2, 3)], ['tcp', bytes(0, 80)], ['udp', bytes(0x23, 0x28)]])
    const {record, failures} = inspectEnr(raw)
    expect(failures.map((f) => f.code).sort()).toEqual(['ip.bad-length', 'tcp.non-canonical'])
    expect(decodeEnr(record).udp).toBe(9000)
    expect(toText(raw)).toBe(record.text)
  })
})
