import {execFileSync} from 'node:child_process'
import dgram from 'node:dgram'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {decodeStunMessage, encodeStunMessage, StunAttr} from '../../../src/lib/stun/message.js'
import {encodeCompactDescription} from '../../../src/lib/webrtc/sdp.js'
import {cleanStaleLabs, LAB_PREFIX, labUnavailableReason, runCliInNamespace} from '../../helpers/natlab.js'

const cli = (args: string[], opts: Parameters<typeof runCliInNamespace>[2] = {}) => runCliInNamespace(undefined, args, opts)

describe('webrtc probe against hostile or missing servers (loopback)', {timeout: 120_000}, () => {
  let sock: dgram.Socket
  let port: number
  beforeAll(async () => {
    // A "STUN server" whose answers carry an XOR-MAPPED-ADDRESS with address family 0x07.
    sock = dgram.createSocket('udp4')
    sock.on('message', (m, rinfo) => {
      try {
        const req = decodeStunMessage(m)
        const bad = encodeStunMessage({
          method: 1,
          cls: 'success',
          transactionId: req.transactionId,
          rfc5389: req.rfc5389,
          attributes: [{type: StunAttr.XOR_MAPPED_ADDRESS, value: Uint8Array.from([0, 7, 1, 2, 3, 4, 5, 6])}],
        })
        sock.send(bad, rinfo.port, rinfo.address)
      } catch {
        /* not STUN */
      }
    })
    port = await new Promise<number>((r) => sock.bind(0, '127.0.0.1', () => r(sock.address().port)))
  })
  afterAll(() => sock.close())

  it('a STUN server answering malformed attributes: a clear per-server error, no crash', async () => {
    const r = await cli(['webrtc', 'probe', '--json', '--stun', `stun:127.0.0.1:${port}`, '--gather-timeout', '1500'])
    expect(r.code).toBe(3)
    expect(r.json.stun[0].error).toMatch(/unknown address family 0x07/)
    // It answered, so UDP is not blocked; there is just no usable mapping.
    expect(r.json.verdict).toBe('undetermined')
    expect(r.json.verdictReason).toMatch(/no server returned a usable mapping/)
  })

  it('refuses bad server URLs and missing servers with exit 2', async () => {
    const none = await cli(['webrtc', 'probe'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/NO_SERVERS/)
    const bad = await cli(['webrtc', 'probe', '--stun', 'stun:127.0.0.1:70000'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/out of range/)
    // One PeerConnection per STUN server: the count is bounded (repeated and comma-separated alike).
    const many = await cli(['webrtc', 'probe', '--stun', Array.from({length: 9}, (_, i) => `stun:127.0.0.1:${3478 + i}`).join(',')])
    expect(many.code).toBe(2)
    expect(many.stderr).toMatch(/^Error \[TOO_MANY_STUN\]: at most 8 --stun servers \(got 9\)/)
    const creds = await cli(['webrtc', 'probe', '--turn', 'turn:u:hunter2@127.0.0.1'])
    expect(creds.code).toBe(2)
    expect(creds.stderr).not.toContain('hunter2')
  })

  it('a pasted offer with a candidate flood or garbage SDP is refused before native code sees it', async () => {
    const flood = Array.from({length: 30}, (_, i) => `a=candidate:${i} 1 UDP 1 10.0.0.${i + 1} 1000 typ host`).join('\n')
    const sdp = `v=0\no=rtc 1 0 IN IP4 127.0.0.1\ns=-\nt=0 0\na=fingerprint:sha-256 AA:BB\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\n${flood}\n`
    const r = await cli(['webrtc', 'listen', '--manual'], {stdin: encodeCompactDescription({type: 'offer', sdp}) + '\n'})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/TOO_MANY_CANDIDATES/)
    const g = await cli(['webrtc', 'listen', '--manual'], {stdin: encodeCompactDescription({type: 'offer', sdp: 'v=0\n\u0001\u0002'}) + '\n'})
    expect(g.code).toBe(2)
    expect(g.stderr).toMatch(/control characters/)
  })
})

describe.skipIf(labUnavailableReason() !== undefined)('NAT lab housekeeping', () => {
  it('removes namespaces left behind by a crashed run (dead pid), keeps live ones', () => {
    const dead = `${LAB_PREFIX}999999999x0-pub`
    const live = `${LAB_PREFIX}${process.pid}x999-pub`
    execFileSync('ip', ['netns', 'add', dead])
    execFileSync('ip', ['netns', 'add', live])
    try {
      const removed = cleanStaleLabs()
      expect(removed).toContain(dead)
      expect(removed).not.toContain(live)
      const left = execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
      expect(left).not.toContain(dead)
      expect(left).toContain(live)
    } finally {
      for (const ns of [dead, live]) {
        try {
          execFileSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
        } catch {
          /* gone */
        }
      }
    }
  })
})
