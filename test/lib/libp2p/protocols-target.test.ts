import {describe, expect, it} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {CAPABILITIES, capabilitiesOf, nameProtocol, parseCapability, parseCapabilityList, parseShardList} from '../../../src/lib/libp2p/protocols.js'
import {parseTarget} from '../../../src/lib/libp2p/target.js'
import {loadVector} from '../../helpers/vectors.js'

const ids = loadVector('waku-protocol-ids.json')

describe('protocol names (test/vectors/waku-protocol-ids.json)', () => {
  it('names every Waku protocol id from nwaku codecs.nim', () => {
    for (const id of Object.values(ids.waku) as string[]) {
      const named = nameProtocol(id)
      expect(named.waku, id).toBe(true)
      expect(named.name, id).not.toMatch(/unrecognised|other/)
    }
  })

  it('maps nwaku\'s waku2 bit codecs to the capabilities the ENR bits promise', () => {
    const bitCodecs = ids.notes.waku2_bit_to_codec_nwaku as Record<string, string>
    expect(capabilitiesOf([bitCodecs['0 Relay']!])).toEqual(['relay'])
    expect(capabilitiesOf([bitCodecs['1 Store']!])).toEqual(['store', 'storev3'])
    expect(capabilitiesOf([bitCodecs['2 Filter']!])).toEqual(['filter'])
    expect(capabilitiesOf([bitCodecs['3 Lightpush']!])).toEqual(['lightpush', 'lightpushv3'])
    expect(capabilitiesOf([bitCodecs['4 Sync']!])).toEqual(['sync'])
  })

  it('names the identify list seen on an nwaku node', () => {
    const seen = (ids.notes.identify_observed_on_nwaku as string).replace(/ \(.*$/, '').split(/,\s*/)
    expect(seen.map((id) => nameProtocol(id).name)).toEqual(['identify', 'autonat', 'circuit relay hop', 'metadata', 'relay', 'libp2p rendezvous', 'ping'])
    expect(nameProtocol('/vac/waku/store/9.9.9')).toMatchObject({waku: true, name: 'waku (unrecognised version)'})
    expect(nameProtocol('/x/y')).toMatchObject({waku: false, name: 'other'})
  })

  it('parses --expect names, including wakucanary\'s and aliases', () => {
    for (const c of CAPABILITIES) expect(parseCapability(c.toUpperCase())).toBe(c)
    expect(parseCapability('px')).toBe('peer-exchange')
    expect(parseCapability('filter-subscribe')).toBe('filter')
    expect(parseCapability('telepathy')).toBeUndefined()
  })

  it('parses repeatable comma-separated --expect and --shard values (shared by caps and px serve)', () => {
    expect(parseCapabilityList(['relay, store', 'px', ''])).toEqual(['relay', 'store', 'peer-exchange'])
    expect(() => parseCapabilityList(['relay,telepathy'])).toThrow(expect.objectContaining({code: 'UNKNOWN_CAPABILITY', exitCode: 2, message: '--expect: unknown protocol name "telepathy"'}))
    expect(parseShardList(['0,7', ' 1023 '])).toEqual([0, 7, 1023])
    expect(parseShardList(undefined)).toEqual([])
    for (const bad of ['1024', '-1', '1e2', '0x10', 'x', '1.5']) {
      expect(() => parseShardList([bad])).toThrow(expect.objectContaining({code: 'BAD_SHARD', exitCode: 2}))
    }
  })
})

describe('targets', () => {
  it('takes a multiaddr with /p2p and an ENR (tcp, tcp6 and multiaddrs as dial addresses)', () => {
    const key = generatePrivateKey()
    const enr = encodeEnr({privateKey: key, ip: '127.0.0.1', tcp: 60000, ip6: '::1', tcp6: 60002, multiaddrs: ['/dns4/node.example.org/tcp/8000/wss']})
    const t = parseTarget(enr.text)
    expect(t.kind).toBe('enr')
    expect(t.peerId).toBe(enr.peerId)
    expect(t.multiaddrs).toEqual(
      expect.arrayContaining([`/ip4/127.0.0.1/tcp/60000/p2p/${enr.peerId}`, `/ip6/::1/tcp/60002/p2p/${enr.peerId}`, `/dns4/node.example.org/tcp/8000/wss/p2p/${enr.peerId}`]),
    )
    const m = parseTarget(`/dns4/node.example.org/tcp/8000/wss/p2p/${enr.peerId}`)
    expect(m).toMatchObject({kind: 'multiaddr', peerId: enr.peerId})
  })

  it('explains every refusal', () => {
    const discv5Only = encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', udp: 9000})
    expect(() => parseTarget(discv5Only.text)).toThrow(expect.objectContaining({code: 'ENR_NOT_DIALABLE', exitCode: 3}))
    expect(() => parseTarget('/ip4/127.0.0.1/tcp/1')).toThrow(expect.objectContaining({code: 'MISSING_PEER_ID', exitCode: 2}))
    expect(() => parseTarget('/ip4/999.0.0.1/tcp/1')).toThrow(expect.objectContaining({code: 'BAD_MULTIADDR'}))
    expect(() => parseTarget('/ip4/127.0.0.1/tcp/1/p2p/notapeerid')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parseTarget('enode://1234@127.0.0.1:30303')).toThrow(expect.objectContaining({code: 'ENODE_NOT_LIBP2P'}))
    expect(() => parseTarget('   ')).toThrow(expect.objectContaining({code: 'EMPTY_TARGET'}))
    expect(() => parseTarget('enr:-!!')).toThrow(expect.objectContaining({exitCode: 2}))
    // Neither form: say so, instead of a base64 or RLP message about a record the user never gave.
    for (const junk of ['garbage', 'foo.bar', 'localhost:60000']) {
      expect(() => parseTarget(junk)).toThrow(expect.objectContaining({code: 'BAD_TARGET', exitCode: 2, message: `not a multiaddr or ENR: ${junk}`}))
    }
    // A record without its enr: prefix is still read as a record.
    expect(() => parseTarget(discv5Only.text.slice(4))).toThrow(expect.objectContaining({code: 'ENR_NOT_DIALABLE'}))
  })
})
