// fast-check properties: sign → encode → decode is the identity; no input (strings, bytes,
// mutated or re-signed records) throws anything but our typed errors; field codecs never throw.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {
  decodeEnr,
  decodeMultiaddrs,
  decodeRs,
  decodeRsv,
  decodeWaku2,
  encodeEnr,
  inspectEnr,
  lintEnr,
  parseEnr,
  WAKU2_BITS,
  type WakuCapability,
} from '../../../src/lib/enr/index.js'
import {decodeBitvector, decodeEth2, decodeIPv4, decodeIPv6, decodePort} from '../../../src/lib/enr/fields.js'
import {BadInputError, WakuDiscError} from '../../../src/lib/errors.js'
import {buildRecord, toText, type RawEntry} from '../../fixtures/enr/build.js'

const privateKey = fc.uint8Array({minLength: 32, maxLength: 32}).filter((k) => k.some((b) => b !== 0) && k[0]! < 0xff)
const port = fc.integer({min: 1, max: 65535})
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'))
const ipv6 = fc.ipV6().map((a) => a)
const caps = fc.subarray([...WAKU2_BITS] as WakuCapability[], {minLength: 1})
const host = fc.stringMatching(/^[a-z][a-z0-9]{0,12}\.example\.org$/)
const multiaddr = fc.oneof(
  host.map((h) => `/dns4/${h}/tcp/443/wss`),
  host.map((h) => `/dns6/${h}/tcp/8000/ws`),
  fc.tuple(ipv4, port).map(([ip, p]) => `/ip4/${ip}/tcp/${p}/ws`),
)

function expectTyped(fn: () => unknown): void {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof WakuDiscError)) throw error
    expect(error.message).not.toContain('\n')
  }
}

describe('ENR properties', () => {
  it('encodeEnr → text → parseEnr → decodeEnr reproduces every field and the exact bytes', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            privateKey,
            seq: fc.bigInt({min: 0n, max: 2n ** 64n - 1n}),
            ip: ipv4,
            tcp: port,
            udp: port,
            ip6: ipv6,
            waku2: caps,
            multiaddrs: fc.array(multiaddr, {minLength: 1, maxLength: 2}),
            sharding: fc.record({
              cluster: fc.integer({min: 0, max: 65535}),
              shards: fc.uniqueArray(fc.integer({min: 0, max: 1023}), {minLength: 1, maxLength: 8}),
            }),
          },
          {requiredKeys: ['privateKey', 'seq']},
        ),
        ({sharding, ...rest}) => {
          const opts = {...rest, ...sharding}
          let record
          try {
            record = encodeEnr(opts)
          } catch (error) {
            // The only acceptable refusal: the record would not fit in 300 bytes.
            expect(error).toBeInstanceOf(BadInputError)
            expect((error as BadInputError).code).toBe('SIZE_OVER_LIMIT')
            return
          }
          const again = parseEnr(record.text)
          expect(Buffer.from(again.raw).equals(Buffer.from(record.raw))).toBe(true)
          expect(again.signatureValid).toBe(true)
          const d = decodeEnr(again)
          expect(d.seq).toBe(opts.seq.toString())
          if (opts.ip !== undefined) expect(d.ip).toBe(opts.ip)
          if (opts.tcp !== undefined) expect(d.tcp).toBe(opts.tcp)
          if (opts.udp !== undefined) expect(d.udp).toBe(opts.udp)
          if (opts.waku2 !== undefined) expect(new Set(d.waku?.waku2?.capabilities)).toEqual(new Set(opts.waku2))
          if (opts.multiaddrs !== undefined) expect(d.waku?.multiaddrs).toEqual(opts.multiaddrs)
          if (opts.cluster !== undefined && opts.shards !== undefined) {
            expect(d.waku?.cluster).toBe(opts.cluster)
            expect(d.waku?.shards).toEqual([...opts.shards].sort((a, b) => a - b))
          }
          // keys are sorted bytewise
          const keys = again.keyBytes().map((k) => Buffer.from(k))
          for (let i = 1; i < keys.length; i++) expect(Buffer.compare(keys[i - 1]!, keys[i]!)).toBeLessThan(0)
        },
      ),
      {numRuns: 150},
    )
  })

  it('arbitrary strings never throw anything but typed errors', () => {
    const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{0,400}$/)
    fc.assert(
      fc.property(fc.oneof(fc.string({maxLength: 300}), b64.map((s) => `enr:${s}`), b64, fc.stringMatching(/^(0x)?[0-9a-f]{0,500}$/)), (s) => {
        expectTyped(() => parseEnr(s))
      }),
      {numRuns: 1500},
    )
  })

  it('arbitrary bytes and RLP-shaped bytes never throw anything but typed errors', () => {
    const rlpish = fc.tuple(fc.constantFrom(0xf8, 0xf9, 0xc5, 0xf7), fc.uint8Array({maxLength: 320})).map(([h, b]) => Uint8Array.from([h, ...b]))
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({maxLength: 400}), rlpish), (bytes) => {
        expectTyped(() => parseEnr(bytes))
      }),
      {numRuns: 1500},
    )
  })

  it('bit flips, insertions and deletions in a valid record only give typed errors', () => {
    const valid = encodeEnr({privateKey: Uint8Array.from({length: 32}, (_, i) => i + 1), ip: '1.2.3.4', tcp: 30303, udp: 9000, waku2: ['relay'], multiaddrs: ['/dns4/a.example.org/tcp/443/wss'], cluster: 1, shards: [0, 1]}).raw
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.nat(255), fc.constantFrom('flip', 'insert', 'delete', 'set'), (at, value, op) => {
        const b = Array.from(valid)
        if (op === 'flip') b[at]! ^= 1 << (value % 8)
        else if (op === 'insert') b.splice(at, 0, value)
        else if (op === 'delete') b.splice(at, 1)
        else b[at] = value
        const bytes = Uint8Array.from(b)
        expectTyped(() => parseEnr(bytes))
        expectTyped(() => parseEnr(toText(bytes)))
      }),
      {numRuns: 800},
    )
  })

  it('re-signed records with arbitrary values for known keys decode and lint without throwing', () => {
    const key = Uint8Array.from({length: 32}, (_, i) => 7 * i + 3)
    const known = ['ip', 'ip6', 'tcp', 'udp', 'tcp6', 'udp6', 'quic', 'waku2', 'multiaddrs', 'rs', 'rsv', 'eth2', 'attnets', 'syncnets', 'client', 'x']
    const entry: fc.Arbitrary<RawEntry> = fc.tuple(
      fc.constantFrom(...known),
      fc.oneof(fc.uint8Array({maxLength: 40}), fc.uint8Array({minLength: 128, maxLength: 132}), fc.array(fc.uint8Array({maxLength: 8}), {maxLength: 3})),
    )
    fc.assert(
      fc.property(fc.uniqueArray(entry, {selector: (e) => e[0], maxLength: 6}), (entries) => {
        const raw = buildRecord(entries, key)
        let inspection
        try {
          inspection = inspectEnr(raw)
        } catch (error) {
          expect(error).toBeInstanceOf(WakuDiscError)
          return
        }
        const d = decodeEnr(inspection.record)
        expect(d.signatureValid).toBe(true)
        expect(() => JSON.stringify(d)).not.toThrow()
        lintEnr(inspection.record, {publicList: true})
        // parseEnr agrees with the inspection: it throws exactly when failures were found
        if (inspection.failures.length > 0) expect(() => parseEnr(raw)).toThrow(WakuDiscError)
        else expect(parseEnr(raw).nodeId).toBe(d.nodeId)
      }),
      {numRuns: 300},
    )
  })

  it('field codecs never throw on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), (b) => {
        decodeMultiaddrs(b)
        decodeRs(b)
        decodeRsv(b)
        decodeRsv(b, 'msb-first')
        decodeRsv(b, 'spec-big-endian')
        decodeWaku2(b)
        decodePort(b, 'tcp')
        decodeIPv4(b)
        decodeIPv6(b)
        decodeEth2(b)
        decodeBitvector(b, 'attnets', 8, 64)
      }),
      {numRuns: 3000},
    )
  })

  it('multiaddrs built from valid entries decode to the same entries', () => {
    fc.assert(
      fc.property(fc.array(multiaddr, {maxLength: 4}), (addrs) => {
        const r = encodeEnr({privateKey: Uint8Array.from({length: 32}, () => 9), multiaddrs: addrs.length > 0 ? addrs : undefined, waku2: ['relay']})
        expect(decodeEnr(r).waku?.multiaddrs ?? []).toEqual(addrs)
      }),
      {numRuns: 60},
    )
  })
})
