// enode:// URLs against go-ethereum's parseNodeTests (test/vectors/enode-parse.json), and the
// enode URL derived from a record.
import {describe, expect, it} from 'vitest'

import {decodeEnr, encodeEnr, enodeOf, nodeEndpoint, parseEnode, parseEnr} from '../../../src/lib/enr/index.js'
import {buildRecord, EIP778_KEY, u16} from '../../fixtures/enr/build.js'
import ipaddr from 'ipaddr.js'
import {BadInputError, CheckFailedError} from '../../../src/lib/errors.js'
import {keyIdentity, publicKeyOf} from '../../../src/lib/keys/index.js'
import {loadVector} from '../../helpers/vectors.js'

const v = loadVector('enode-parse.json')

function errorOf(fn: () => unknown): Error & {code?: string} {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

describe('enode-parse.json (geth parseNodeTests)', () => {
  for (const c of v.cases) {
    it(`${c.input.slice(0, 60) || '(empty)'} → ${c.want_error ?? 'ok'}`, () => {
      if (c.input.startsWith('enr:')) {
        if (c.want_error) {
          const err = errorOf(() => parseEnr(c.input))
          const expected: Record<string, string> = {EOF: 'ENR_EMPTY', 'illegal base64 data at input byte 0': 'ENR_BASE64_LENGTH', 'invalid signature on node record': 'SIGNATURE_BAD_LENGTH'}
          expect(err.code).toBe(expected[c.want_error])
          expect(err).toBeInstanceOf(c.want_error.includes('signature') ? CheckFailedError : BadInputError)
        } else {
          const r = parseEnr(c.input)
          const d = decodeEnr(r)
          expect(d.seq).toBe(String(c.want.seq))
          expect(d.ip).toBe(c.want.ip)
          expect(d.udp).toBe(c.want.udp)
          expect(d.nodeId).toBe(c.want.derived_node_id)
          expect(d.signatureValid).toBe(c.want.derived_sig_valid)
          expect(d.publicKey).toBe(keyIdentity(publicKeyOf(Uint8Array.from(Buffer.from(c.want.private_key_hex, 'hex')))).publicKey)
        }
        return
      }
      if (c.want_error) {
        const err = errorOf(() => parseEnode(c.input))
        expect(err).toBeInstanceOf(BadInputError)
        const code: Record<string, string> = {
          'invalid port': 'ENODE_PORT',
          'invalid discport in query': 'ENODE_DISCPORT',
          'invalid public key (wrong length, want 128 hex chars)': 'ENODE_PUBLIC_KEY',
          "missing 'enr:' prefix for base64-encoded record": 'ENODE_SCHEME',
        }
        expect(err.code).toBe(code[c.want_error])
        if (c.want_error !== "missing 'enr:' prefix for base64-encoded record") expect(err.message).toContain(c.want_error.replace(/ \(.*/, '').replace('invalid public key', 'invalid public key'))
        return
      }
      const e = parseEnode(c.input)
      const xy = Buffer.from(keyIdentity(Uint8Array.from(Buffer.from(e.publicKey, 'hex'))).publicKeyUncompressed, 'hex').subarray(1).toString('hex')
      expect(xy).toBe(c.want.pubkey)
      expect(e.ip ?? null).toBe(c.want.ip)
      expect(e.tcp).toBe(c.want.tcp)
      expect(e.udp).toBe(c.want.udp)
      if (c.want.hostname) expect(e.hostname).toBe(c.want.hostname)
      expect(e.incomplete).toBe(Boolean(c.want.incomplete))
      if (c.roundtrip_string) expect(e.url).toBe(c.input)
    })
  }
})

describe('enodeOf', () => {
  it('matches the URL derived for the EIP-778 record', () => {
    const eip = loadVector('enr-eip778.json')
    const r = parseEnr(eip.enr)
    expect(enodeOf(r)).toBe(eip.derived_verified.enode_url)
    expect(decodeEnr(r).enode).toBe(eip.derived_verified.enode_url)
    expect(parseEnode(eip.derived_verified.enode_url).nodeId).toBe(r.nodeId)
  })
})

describe('nodeEndpoint (geth TestNodeEndpoints, enr-record-misc.json)', () => {
  const misc = loadVector('enr-record-misc.json')
  for (const c of misc['endpoint_selection_cases(TestNodeEndpoints, null scheme)']) {
    it(c.name, () => {
      const entries: Array<[string, Uint8Array]> = []
      if (c.ip) entries.push(['ip', Uint8Array.from(ipaddr.IPv4.parse(c.ip).toByteArray())])
      if (c.ip6) entries.push(['ip6', Uint8Array.from(ipaddr.IPv6.parse(c.ip6).toByteArray())])
      for (const k of ['udp', 'tcp', 'quic', 'udp6', 'tcp6', 'quic6']) if (c[k] !== undefined) entries.push([k, u16(c[k])])
      const e = nodeEndpoint(parseEnr(buildRecord(entries, EIP778_KEY)))
      if (c.want_ip !== undefined) expect(e.ip).toBe(ipaddr.parse(c.want_ip).toString())
      if (c.want_udp !== undefined) expect(e.udp).toBe(c.want_udp)
      if (c.want_tcp !== undefined) expect(e.tcp).toBe(c.want_tcp)
      if (c.want_quic !== undefined) expect(e.quic).toBe(c.want_quic)
    })
  }
  it('an enode URL uses the chosen endpoint', () => {
    const r = encodeEnr({privateKey: EIP778_KEY, ip: '127.0.0.1', udp: 30304, ip6: '2001::ff00:42:8329', udp6: 30306, tcp6: 30307})
    expect(enodeOf(r)).toMatch(/@\[2001::ff00:42:8329\]:30307\?discport=30306$/)
  })
})
