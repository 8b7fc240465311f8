import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {WakuDiscError} from '../../../src/lib/errors.js'
import {browserMapping, browserVerdict, parseBrowserOffer, parseBrowserResult, stripMdnsCandidates, type BrowserCandidate} from '../../../src/lib/webrtc/page-report.js'
import {validateSdp} from '../../../src/lib/webrtc/sdp.js'

// Candidate lines as Chromium 156 wrote them in the NAT lab (mDNS host, two srflx from two servers).
const CHROMIUM_SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 18226 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 198.18.1.2',
  'a=candidate:3197573215 1 udp 2113937151 8f1c0871-6510-42e6-8390-9bce1e26a111.local 47594 typ host generation 0 network-cost 999',
  'a=candidate:1604163123 1 udp 1677729535 198.18.1.2 18226 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-cost 999',
  'a=candidate:1604163123 1 udp 1677729535 198.18.1.2 51669 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-cost 999',
  'a=ice-ufrag:Ab3d',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=fingerprint:sha-256 AA:BB:CC',
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
].join('\r\n')

const cand = (type: BrowserCandidate['type'], address: string, port: number, extra: Partial<BrowserCandidate> = {}): BrowserCandidate => ({type, protocol: 'udp', address, port, atMs: 1, ...extra})

describe('page report pieces', () => {
  it('mDNS host candidates are removed before the SDP reaches our checks, which then accept it', () => {
    expect(() => validateSdp(CHROMIUM_SDP)).toThrow(/mDNS names are refused/)
    const s = stripMdnsCandidates(CHROMIUM_SDP)
    expect(s.removed).toBe(1)
    expect(validateSdp(s.sdp).summary.candidates.map((c) => c.port)).toEqual([18226, 51669])
  })

  it('mapping: two distinct mappings for one socket = symmetric; one = independent; URLs win when present', () => {
    const host = cand('host', 'x.local', 1)
    expect(browserMapping([host, cand('srflx', '198.18.1.2', 2), cand('srflx', '198.18.1.2', 3)], 2).endpointIndependent).toBe(false)
    expect(browserMapping([host, cand('srflx', '198.18.1.2', 2)], 2).endpointIndependent).toBe(true)
    expect(browserMapping([host, cand('srflx', '198.18.1.2', 2)], 1).endpointIndependent).toBeNull()
    expect(browserMapping([host], 2).endpointIndependent).toBeNull()
    // A STUN server that failed in the browser means a missing mapping, not a merged one.
    expect(browserMapping([host, cand('srflx', '198.18.1.2', 2)], 2, [{url: 'stun:198.18.0.2:3478', errorCode: 701, errorText: 'timeout'}]).endpointIndependent).toBeNull()
    const a = {relatedAddress: '10.0.0.2', relatedPort: 5}
    expect(
      browserMapping([cand('srflx', '1.2.3.4', 7, {...a, url: 'stun:s1:3478'}), cand('srflx', '1.2.3.4', 7, {...a, url: 'stun:s2:3478'})], 2).endpointIndependent,
    ).toBe(true)
    expect(
      browserMapping([cand('srflx', '1.2.3.4', 7, {...a, url: 'stun:s1:3478'}), cand('srflx', '1.2.3.4', 8, {...a, url: 'stun:s2:3478'})], 2).endpointIndependent,
    ).toBe(false)
  })

  it('verdicts', () => {
    const stun2 = [{hostname: 'a', port: 1}, {hostname: 'b', port: 1}]
    const turn = [{hostname: 't', port: 1, relayType: 'TurnUdp' as const}]
    expect(browserVerdict([], {endpointIndependent: null, basis: '', mappings: []}, []).verdict).toBe('undetermined')
    expect(browserVerdict([cand('host', 'h', 1)], {endpointIndependent: null, basis: '', mappings: []}, stun2).verdict).toBe('UDP blocked')
    expect(browserVerdict([cand('srflx', 'h', 1)], {endpointIndependent: true, basis: '', mappings: []}, stun2).verdict).toBe('direct links likely')
    expect(browserVerdict([cand('srflx', 'h', 1)], {endpointIndependent: false, basis: '', mappings: []}, stun2).verdict).toBe('TURN needed')
    expect(browserVerdict([cand('relay', 'h', 1)], {endpointIndependent: null, basis: '', mappings: []}, turn).verdict).toBe('TURN needed')
  })

  it('whatever the page sends, parsing gives a typed error or bounded, well-typed fields', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('sdp', 'userAgent', 'candidates', 'iceErrors', 'gatherMs', 'ok', 'rttMs', 'selectedPair', 'reason'), fc.anything()), (m) => {
        try {
          const o = parseBrowserOffer(m)
          expect(typeof o.sdp).toBe('string')
          expect(o.userAgent.length).toBeLessThanOrEqual(512)
          expect(o.candidates.length).toBeLessThanOrEqual(64)
          for (const c of o.candidates) expect(['host', 'srflx', 'prflx', 'relay']).toContain(c.type)
        } catch (err) {
          expect(err).toBeInstanceOf(WakuDiscError)
        }
        const r = parseBrowserResult(m)
        expect(r.rttMs!.every((x) => Number.isFinite(x))).toBe(true)
        expect(typeof r.ok).toBe('boolean')
      }),
      {numRuns: 500},
    )
  })
})
