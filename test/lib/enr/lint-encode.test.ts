// lintEnr: every check with its code, severity and sentence; encodeEnr: --from, seq, the 300-byte
// refusal naming the field to drop; matchesNodeFilter.
import {multiaddr} from '@multiformats/multiaddr'
import {describe, expect, it} from 'vitest'

import {decodeEnr, encodeEnr, lintEnr, matchesNodeFilter, parseEnr, type LintFinding} from '../../../src/lib/enr/index.js'
import {BadInputError} from '../../../src/lib/errors.js'
import {publicKeyOf} from '../../../src/lib/keys/index.js'
import {buildRecord, bytes, EIP778_KEY, hex, u16, type RawEntry} from '../../fixtures/enr/build.js'

const good: RawEntry[] = [['ip', bytes(8, 8, 4, 4)], ['tcp', u16(30303)], ['udp', u16(9000)], ['waku2', bytes(1)]]
const lint = (entries: RawEntry[], opts?: {publicList?: boolean; seq?: bigint}) => lintEnr(parseEnr(buildRecord(entries, EIP778_KEY, {seq: opts?.seq})), opts)
const codes = (fs: LintFinding[]) => fs.map((f) => f.code)
const find = (fs: LintFinding[], code: string) => fs.find((f) => f.code === code)
const replace = (key: string, value: Uint8Array, from = good): RawEntry[] => [...from.filter(([k]) => k !== key), [key, value]]

function errorOf(fn: () => unknown): BadInputError {
  try {
    fn()
  } catch (error) {
    return error as BadInputError
  }
  throw new Error('expected an error')
}

describe('lintEnr', () => {
  it('a clean public Waku record has no findings', () => {
    expect(lint(good, {publicList: true})).toEqual([])
  })

  it('every finding has a code naming its field, a severity and one sentence', () => {
    const all = [
      ...lint(replace('waku2', bytes(0)), {seq: 1000n}),
      ...lint([...good, ['rs', bytes(0, 1, 1, 0, 2)], ['rsv', hex('00490204' + '00'.repeat(126))]]),
      ...lint([['ip', bytes(192, 168, 1, 2)]], {publicList: true}),
    ]
    expect(all.length).toBeGreaterThan(5)
    for (const f of all) {
      expect(f.code.startsWith(`${f.field}.`)).toBe(true)
      expect(['error', 'warning', 'info']).toContain(f.severity)
      expect(f.message).not.toContain('\n')
      expect(f.message.length).toBeGreaterThan(20)
    }
  })

  it('seq.over-255 (js-waku writes seq as one byte)', () => {
    const f = find(lint(good, {seq: 256n}), 'seq.over-255')
    expect(f?.severity).toBe('warning')
    expect(f?.message).toContain('would store 0')
    expect(find(lint(good, {seq: 255n}), 'seq.over-255')).toBeUndefined()
  })

  it('waku2.not-one-byte, waku2.all-zero, unknown bits and bits js-waku cannot see', () => {
    expect(find(lint(replace('waku2', bytes(1, 0))), 'waku2.not-one-byte')?.severity).toBe('error')
    expect(find(lint(replace('waku2', bytes(0))), 'waku2.all-zero')?.severity).toBe('error')
    expect(find(lint(replace('waku2', bytes(0xc1))), 'waku2.unknown-bits')?.message).toContain('bits 6,7')
    const late = find(lint(replace('waku2', bytes(0x31))), 'waku2.bits-4-5-unknown-to-js-waku')
    expect(late?.message).toContain('sync and mix')
    expect(find(lint([...good.filter(([k]) => k !== 'waku2'), ['rs', bytes(0, 1, 1, 0, 0)]]), 'waku2.missing')?.severity).toBe('warning')
  })

  it('rs.rsv-both and rsv.js-waku-bit-order', () => {
    const fs = lint([...good, ['rs', bytes(0, 1, 1, 0, 2)], ['rsv', hex('00490204' + '00'.repeat(126))]])
    expect(find(fs, 'rs.rsv-both')?.severity).toBe('error')
    expect(find(fs, 'rsv.js-waku-bit-order')?.message).toBe(
      'js-waku would read this rsv as shards 6,13 (nwaku and go-waku read 1,10), so js-waku clients subscribe to the wrong topics',
    )
    // A palindromic bit pattern (0x81: bits 0 and 7) reads the same in both orders: no finding.
    const sym = lint([...good, ['rsv', hex('0001' + '81' + '00'.repeat(127))]])
    expect(find(sym, 'rsv.js-waku-bit-order')).toBeUndefined()
  })

  it('rs shard checks', () => {
    expect(find(lint([...good, ['rs', bytes(0, 1, 1, 0x04, 0x00)]]), 'rs.shard-over-1023')?.severity).toBe('error')
    expect(find(lint([...good, ['rs', bytes(0, 1, 0)]]), 'rs.no-shards')?.severity).toBe('warning')
    expect(find(lint([...good, ['rs', bytes(0, 1, 2, 0, 3, 0, 3)]]), 'rs.duplicate-shards')).toBeDefined()
  })

  it('multiaddrs: holds own /p2p, circuit-relay entries, unparseable entries, empty', () => {
    const self = parseEnr(buildRecord(good)).peerId
    // The binary form of /dns4/a.example.org/tcp/443/wss/p2p/<self>, which encodeEnr would strip.
    const withSelf = encodeEnr({privateKey: EIP778_KEY, udp: 9000, waku2: ['relay'], multiaddrs: ['/dns4/a.example.org/tcp/443/wss']})
    const maBytes = withSelf.get('multiaddrs')!
    const p2p = multiaddr(`/p2p/${self}`).bytes
    const body = Uint8Array.from([...maBytes.subarray(2), ...p2p])
    const field = Uint8Array.from([body.length >> 8, body.length & 0xff, ...body])
    const fs = lint([...good, ['multiaddrs', field]])
    expect(find(fs, 'multiaddrs.holds-p2p')?.severity).toBe('warning')
    expect(decodeEnr(parseEnr(buildRecord([...good, ['multiaddrs', field]]))).waku?.multiaddrs).toEqual([`/dns4/a.example.org/tcp/443/wss/p2p/${self}/p2p-circuit`])
    const junk = Uint8Array.from([0, 3, 0xff, 0xff, 0xff])
    expect(find(lint([...good, ['multiaddrs', junk]]), 'multiaddrs.unparseable-entry')?.severity).toBe('warning')
    expect(find(lint([...good, ['multiaddrs', new Uint8Array(0)]]), 'multiaddrs.empty')?.severity).toBe('info')
    // /dns4/a.org with its length as a non-minimal varint (0x85 0x00): not the canonical bytes.
    const odd = Uint8Array.from([0x36, 0x85, 0x00, ...new TextEncoder().encode('a.org')])
    const oddField = Uint8Array.from([0, odd.length, ...odd])
    expect(find(lint([...good, ['multiaddrs', oddField]]), 'multiaddrs.unparseable-entry')).toBeDefined()
    expect(decodeEnr(parseEnr(buildRecord([...good, ['multiaddrs', oddField]]))).waku?.multiaddrs).toEqual([])
  })

  it('udp.missing, dialable.none, zero ports', () => {
    const fs = lint([['waku2', bytes(1)]])
    expect(find(fs, 'udp.missing')?.severity).toBe('warning')
    expect(find(fs, 'dialable.none')?.severity).toBe('warning')
    expect(find(lint([['waku2', bytes(1)]], {publicList: true}), 'dialable.none')?.severity).toBe('error')
    expect(find(lint(replace('tcp', new Uint8Array(0))), 'tcp.zero')).toBeDefined()
  })

  it('ip.private / ip6.private / multiaddrs.private only for public lists', () => {
    for (const ip of [bytes(127, 0, 0, 1), bytes(10, 1, 2, 3), bytes(192, 168, 0, 1), bytes(169, 254, 1, 1), bytes(100, 64, 0, 1), bytes(0, 0, 0, 0)]) {
      expect(find(lint(replace('ip', ip), {publicList: true}), 'ip.private')?.severity, ip.join('.')).toBe('error')
      expect(find(lint(replace('ip', ip)), 'ip.private')).toBeUndefined()
    }
    expect(find(lint([...good, ['ip6', hex('fd000000000000000000000000000001')]], {publicList: true}), 'ip6.private')).toBeDefined()
    expect(find(lint([...good, ['ip6', hex('00000000000000000000ffff0a000001')]], {publicList: true}), 'ip6.private')?.message).toContain('private')
    const r = encodeEnr({privateKey: EIP778_KEY, udp: 9000, waku2: ['relay'], multiaddrs: ['/ip4/10.0.0.1/tcp/8000/ws']})
    expect(codes(lintEnr(r, {publicList: true}))).toContain('multiaddrs.private')
  })

  it('size: exactly 300 warns about js-waku; >300 is an error (via inspect)', () => {
    let pad = 0
    let raw = buildRecord([...good, ['zz', new Uint8Array(pad)]])
    pad = 300 - raw.length - 4
    raw = buildRecord([...good, ['zz', new Uint8Array(pad)]])
    while (raw.length < 300) raw = buildRecord([...good, ['zz', new Uint8Array(++pad)]])
    expect(raw.length).toBe(300)
    expect(find(lintEnr(parseEnr(raw)), 'size.js-waku-encoder-limit')?.severity).toBe('warning')
  })
})

describe('encodeEnr', () => {
  it('--from keeps other keys, bumps seq and re-signs', () => {
    const a = encodeEnr({privateKey: EIP778_KEY, seq: 41n, ip: '8.8.4.4', udp: 9000, waku2: ['relay'], extra: {custom: bytes(1, 2)}})
    const b = encodeEnr({privateKey: EIP778_KEY, from: a, udp: 9001})
    expect(b.seq).toBe(42n)
    const d = decodeEnr(b)
    expect(d.udp).toBe(9001)
    expect(d.ip).toBe('8.8.4.4')
    expect(d.otherKeys).toEqual({custom: '0102'})
    expect(d.waku?.waku2?.capabilities).toEqual(['relay'])
    expect(b.signatureValid).toBe(true)
  })

  it('--from with another key is refused (it would change the node id)', () => {
    const a = encodeEnr({privateKey: EIP778_KEY, udp: 9000})
    const err = errorOf(() => encodeEnr({privateKey: Uint8Array.from({length: 32}, () => 5), from: a}))
    expect(err.code).toBe('ENCODE_KEY_MISMATCH')
  })

  it('refuses > 300 bytes and names the field (or multiaddr) to drop', () => {
    const addrs = ['/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/8000/wss', '/dns6/node-01.ac-cn-hongkong-c.waku.sandbox.status.im/tcp/443/wss', '/dns4/node-01.gc-us-central1-a.waku.sandbox.status.im/tcp/30303']
    const err = errorOf(() => encodeEnr({privateKey: EIP778_KEY, ip: '1.2.3.4', tcp: 30303, udp: 9000, waku2: ['relay', 'store'], multiaddrs: addrs, cluster: 1, shards: [0, 1, 2, 3, 4, 5, 6, 7]}))
    expect(err).toBeInstanceOf(BadInputError)
    expect(err.code).toBe('SIZE_OVER_LIMIT')
    expect(err.message).toMatch(/^record would be \d+ bytes, \d+ over the 300-byte limit; drop the multiaddr \/dns/)
    const big = errorOf(() => encodeEnr({privateKey: EIP778_KEY, udp: 9000, extra: {blob: new Uint8Array(250)}}))
    expect(big.message).toMatch(/drop blob \(\d+ bytes\)/)
  })

  it('rejects bad inputs with typed errors', () => {
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, ip: '1.2.3'})).code).toBe('IP_MALFORMED')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, ip6: 'zz::1'})).code).toBe('IP6_MALFORMED')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, tcp: 70000})).code).toBe('TCP_OUT_OF_RANGE')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, shards: [1]})).code).toBe('RS_MISSING_CLUSTER')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, cluster: 1, shards: [1024]})).code).toBe('RS_SHARD_OUT_OF_RANGE')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, multiaddrs: ['not a multiaddr']})).code).toBe('MULTIADDRS_MALFORMED')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, waku2: []})).code).toBe('WAKU2_ALL_ZERO')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, seq: 2n ** 64n})).code).toBe('SEQ_OUT_OF_RANGE')
    expect(errorOf(() => encodeEnr({privateKey: new Uint8Array(32)})).code).toBe('KEY_INVALID')
  })

  it('strips this node\'s own /p2p from multiaddrs and keeps circuit addresses without /p2p-circuit', () => {
    const self = parseEnr(encodeEnr({privateKey: EIP778_KEY}).raw).peerId
    const relay = '16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT'
    const r = encodeEnr({privateKey: EIP778_KEY, waku2: ['relay'], multiaddrs: [`/dns4/a.example.org/tcp/443/wss/p2p/${self}`, `/dns4/relay.example.org/tcp/443/wss/p2p/${relay}/p2p-circuit`]})
    const d = decodeEnr(r)
    expect(d.waku?.multiaddrs).toEqual(['/dns4/a.example.org/tcp/443/wss', `/dns4/relay.example.org/tcp/443/wss/p2p/${relay}/p2p-circuit`])
    expect(d.dialable).toContain(`/dns4/relay.example.org/tcp/443/wss/p2p/${relay}/p2p-circuit/p2p/${self}`)
    expect(codes(d.warnings)).toContain('multiaddrs.circuit-relay')
    expect(errorOf(() => encodeEnr({privateKey: EIP778_KEY, multiaddrs: [`/dns4/a.example.org/tcp/443/wss/p2p/${relay}`]})).code).toBe('MULTIADDRS_HOLDS_P2P')
  })

  it('the public key in the record is the key\'s', () => {
    expect(Buffer.from(encodeEnr({privateKey: EIP778_KEY}).publicKey)).toEqual(Buffer.from(publicKeyOf(EIP778_KEY)))
  })
})

describe('matchesNodeFilter', () => {
  const d = decodeEnr(encodeEnr({privateKey: EIP778_KEY, udp: 9000, waku2: ['relay', 'store'], cluster: 1, shards: [0, 5]}))
  const eth = decodeEnr(encodeEnr({privateKey: EIP778_KEY, udp: 9000}))
  it('filters by waku, capabilities, cluster and shard', () => {
    expect(matchesNodeFilter(d, {})).toBe(true)
    expect(matchesNodeFilter(eth, {wakuOnly: true})).toBe(false)
    expect(matchesNodeFilter(d, {wakuOnly: true, capabilities: ['relay', 'store']})).toBe(true)
    expect(matchesNodeFilter(d, {capabilities: ['filter']})).toBe(false)
    expect(matchesNodeFilter(d, {cluster: 1, shard: 5})).toBe(true)
    expect(matchesNodeFilter(d, {cluster: 2})).toBe(false)
    expect(matchesNodeFilter(d, {shard: 1})).toBe(false)
  })
})

describe('other known keys', () => {
  it('client (EIP-7636 list), attnets/syncnets bits, eth2; malformed ones are warnings, not failures', () => {
    const enc = new TextEncoder()
    const r = parseEnr(
      buildRecord([
        ...good,
        ['client', [enc.encode('nimbus'), enc.encode('v24.1.0')]],
        ['attnets', bytes(0x05, 0, 0, 0, 0, 0, 0, 0x80)],
        ['syncnets', bytes(0x0a)],
        ['eth2', hex('f6775d0700000113ffffffffffff1f00')],
        ['other', [bytes(1), bytes(2)]],
      ]),
    )
    const d = decodeEnr(r)
    expect(d.client).toEqual(['nimbus', 'v24.1.0'])
    expect(d.attnets).toEqual([0, 2, 63])
    expect(d.syncnets).toEqual([1, 3])
    expect(d.eth2).toEqual({forkDigest: 'f6775d07', nextForkVersion: '00000113', nextForkEpoch: '9007199254740991'})
    expect(d.otherKeys).toEqual({other: 'c20102'})
    const bad = parseEnr(buildRecord([...good, ['client', bytes(1)], ['eth2', bytes(1, 2)], ['syncnets', bytes(0xf0)]]))
    const codes = lintEnr(bad).map((f) => [f.code, f.severity])
    expect(codes).toEqual(expect.arrayContaining([['client.malformed', 'warning'], ['eth2.bad-length', 'warning'], ['syncnets.bad-bits', 'warning']]))
  })
})
