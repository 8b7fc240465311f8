import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {BadInputError, ProtocolError} from '../../../src/lib/errors.js'
import {parseStunUrl, parseTurnUrl} from '../../../src/lib/webrtc/ice.js'
import {loadTurnConfig} from '../../../src/lib/webrtc/credentials.js'
import {
  decodeCompactDescription,
  encodeCompactDescription,
  MAX_REMOTE_CANDIDATES,
  parseCandidate,
  validateSdp,
} from '../../../src/lib/webrtc/sdp.js'

// A local description produced by node-datachannel 0.33.4 on this machine (libdatachannel 0.24.5).
const REAL_SDP =
  'v=0\r\no=rtc 4036007048 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\na=ice-options:ice2,trickle\r\na=fingerprint:sha-256 B1:E5:D7:8A:EF:84:97:B6:3C:21:32:E7:1C:E3:C6:8E:85:A1:B8:22:D5:42:56:1B:F5:AB:10:4A:35:CF:8D:3E\r\nm=application 36386 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.2\r\na=mid:0\r\na=sendrecv\r\na=sctp-port:5000\r\na=max-message-size:262144\r\na=setup:actpass\r\na=ice-ufrag:JeHk\r\na=ice-pwd:0Bqxl5pk7SQHNq/XjZeJM4\r\na=candidate:2 1 UDP 2116026111 fd00::2 36386 typ host\r\na=candidate:1 1 UDP 2114977791 192.0.2.2 36386 typ host\r\na=end-of-candidates\r\n'

function expectError(f: () => unknown, type: typeof ProtocolError | typeof BadInputError, pattern: RegExp): void {
  let err: unknown
  try {
    f()
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(type)
  expect((err as Error).message).toMatch(pattern)
}

describe('SDP and candidate validation', () => {
  it('accepts a real node-datachannel description and lists its candidates', () => {
    const {sdp, summary} = validateSdp(REAL_SDP)
    expect(sdp).toBe(REAL_SDP)
    expect(summary.candidates.map((c) => `${c.type} ${c.address}:${c.port}`)).toEqual(['host fd00::2:36386', 'host 192.0.2.2:36386'])
    expect(summary.iceUfrag).toBe('JeHk')
  })

  it('parses srflx/relay candidates with raddr/rport', () => {
    const c = parseCandidate('a=candidate:3 1 UDP 1686052863 198.18.1.2 40497 typ srflx raddr 0.0.0.0 rport 0')
    expect(c).toMatchObject({type: 'srflx', address: '198.18.1.2', port: 40497, relatedAddress: '0.0.0.0', relatedPort: 0})
  })

  it('rejects hostile SDP with precise typed errors', () => {
    expectError(() => validateSdp(42), ProtocolError, /not a string/)
    expectError(() => validateSdp('v=0\r\n' + 'a=x\r\n'.repeat(20_000)), ProtocolError, /bytes \(limit 65536\)/)
    expectError(() => validateSdp('v=0\r\n' + 'a=x\r\n'.repeat(500)), ProtocolError, /500|lines \(limit 400\)/)
    expectError(() => validateSdp(REAL_SDP.replace('s=-', 's=\u0000')), ProtocolError, /control characters/)
    expectError(() => validateSdp(REAL_SDP.replace('v=0', 'v=1')), ProtocolError, /must start with "v=0"/)
    expectError(() => validateSdp(REAL_SDP.replace('a=mid:0', 'garbage line')), ProtocolError, /malformed SDP line "garbage line"/)
    expectError(() => validateSdp(REAL_SDP.replace(/a=fingerprint:[^\r]+\r\n/, '')), ProtocolError, /no a=fingerprint/)
    expectError(() => validateSdp(REAL_SDP.replace('a=ice-ufrag:JeHk', 'a=ice-ufrag:J"k')), ProtocolError, /ice-ufrag/)
    expectError(() => validateSdp(REAL_SDP.replace('webrtc-datachannel', 'x')), ProtocolError, /no "m=application/)
    expectError(() => validateSdp(REAL_SDP.replace('192.0.2.2 36386 typ host', 'evil.example.org 36386 typ host')), ProtocolError, /not an IP address/)
    expectError(() => validateSdp(REAL_SDP.replace('192.0.2.2 36386 typ host', '192.0.2.2 70000 typ host')), ProtocolError, /port 70000 is out of range/)
    expectError(() => validateSdp(REAL_SDP.replace('192.0.2.2 36386 typ host', '224.0.0.1 36386 typ host')), ProtocolError, /multicast/)
    expectError(() => validateSdp(REAL_SDP.replace('typ host\r\na=end', 'typ bogus\r\na=end')), ProtocolError, /malformed ICE candidate/)
    const flood = Array.from({length: MAX_REMOTE_CANDIDATES + 1}, (_, i) => `a=candidate:${i} 1 UDP 1 10.0.0.${i + 1} 1000 typ host`).join('\r\n')
    expectError(() => validateSdp(REAL_SDP.replace('a=end-of-candidates', flood)), ProtocolError, /more than 20 candidates/)
    // A paste is the user's input: BadInputError instead.
    expectError(() => validateSdp('x', false), BadInputError, /must start with/)
  })

  it('never throws an untyped error on arbitrary text (property)', () => {
    const lines = fc.array(fc.oneof(fc.constantFrom(...REAL_SDP.split('\r\n')), fc.string({maxLength: 80})), {maxLength: 40})
    fc.assert(
      fc.property(lines, (ls) => {
        try {
          validateSdp(ls.join('\r\n'))
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 1000},
    )
  })

  it('compact descriptions round-trip and reject junk', () => {
    const code = encodeCompactDescription({type: 'offer', sdp: REAL_SDP})
    expect(code).toMatch(/^wdc1\.[A-Za-z0-9_-]+$/)
    expect(code.length).toBeLessThan(REAL_SDP.length)
    expect(decodeCompactDescription(code)).toEqual({type: 'offer', sdp: REAL_SDP})
    expectError(() => decodeCompactDescription('hello'), BadInputError, /does not start with "wdc1\."/)
    expectError(() => decodeCompactDescription('wdc1.!!!'), BadInputError, /outside base64url/)
    expectError(() => decodeCompactDescription('wdc1.AAAA'), BadInputError, /does not decode/)
    expectError(() => decodeCompactDescription('wdc1.' + 'A'.repeat(20_000)), BadInputError, /limit 16384/)
    const wrongShape = encodeCompactDescription({type: 'answer', sdp: 'v=0\r\n'})
    expectError(() => decodeCompactDescription(wrongShape), BadInputError, /no "m=application/)
  })
})

describe('ICE server URLs and TURN credentials', () => {
  it('parses STUN URLs with defaults and rejects junk', () => {
    expect(parseStunUrl('stun:198.51.100.1')).toMatchObject({host: '198.51.100.1', port: 3478})
    expect(parseStunUrl('stun:[2001:db8::1]:3479')).toMatchObject({host: '2001:db8::1', port: 3479, url: 'stun:[2001:db8::1]:3479'})
    expect(parseStunUrl('127.0.0.1:19302')).toMatchObject({port: 19302})
    expect(() => parseStunUrl('stun:host:99999')).toThrow(/out of range/)
    expect(() => parseStunUrl('stuns:host')).toThrow(/not supported/)
    expect(() => parseStunUrl('http://x')).toThrow(BadInputError)
    expect(() => parseStunUrl('stun:user:pw@host')).toThrow(/no credentials/)
  })

  it('parses TURN URLs and marks TCP/TLS as unsupported by node-datachannel', () => {
    expect(parseTurnUrl('turn:198.51.100.1')).toMatchObject({port: 3478, transport: 'udp', supported: true})
    expect(parseTurnUrl('turn:198.51.100.1:3478?transport=tcp')).toMatchObject({transport: 'tcp', supported: false})
    expect(parseTurnUrl('turns:turn.example.org')).toMatchObject({port: 5349, transport: 'tls', supported: false})
    expect(() => parseTurnUrl('turn:u:secret@host')).toThrow(/no credentials in the URL/)
    try {
      parseTurnUrl('turn:u:secret@host')
    } catch (err) {
      expect((err as Error).message).not.toContain('secret')
    }
  })

  it('takes the TURN password only from env or file, never echoes it', () => {
    expect(() => loadTurnConfig({turn: 'turn:127.0.0.1'})).toThrow(/needs --turn-user/)
    expect(() => loadTurnConfig({turn: 'turn:127.0.0.1', user: 'u'})).toThrow(/WAKU_DISC_TURN_PASSWORD/)
    expect(() => loadTurnConfig({turn: 'turn:127.0.0.1', user: 'u', passwordFile: '/nonexistent/pw'})).toThrow(/cannot read --turn-password-file/)
    expect(loadTurnConfig({turn: 'turn:127.0.0.1', user: 'u', passwordEnv: 'pw'})).toMatchObject({username: 'u', password: 'pw'})
  })
})
