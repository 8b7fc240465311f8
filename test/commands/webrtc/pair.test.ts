import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {commandAvailable, runCliInNamespace, startLoopbackCoturn, TURN_PASSWORD, TURN_USER} from '../../helpers/natlab.js'

const cli = (args: string[], env: Record<string, string> = {}) => runCliInNamespace(undefined, args, {env})
const noCoturn = !commandAvailable('turnserver')
if (noCoturn && process.env.CI === 'true') throw new Error('CI=true but turnserver (coturn) is not installed')

describe('webrtc pair (loopback)', {timeout: 120_000}, () => {
  it('opens a data channel and reports open time, RTT and throughput in JSON', async () => {
    const r = await cli(['webrtc', 'pair', '--json', '--bytes', '500000', '--pings', '5'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const j = r.json
    expect(j.ok).toBe(true)
    expect(j.path).toBe('direct')
    expect(j.rttMs).toHaveLength(5)
    expect(typeof j.rttMedianMs).toBe('number')
    expect(j.rttMedianMs).toBeGreaterThan(0)
    expect(j.openMs).toBeGreaterThan(0)
    expect(j.bytes).toBe(500000)
    expect(j.throughputMbps).toBeGreaterThan(0)
    expect(j.offerer.selectedPair).not.toBeNull()
    expect(j.offerer.localCandidates.every((c: any) => c.type === 'host')).toBe(true)
  })

  it('prints the human report without --json', async () => {
    const r = await cli(['webrtc', 'pair', '--bytes', '0', '--pings', '2'])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(r.stdout).toMatch(/^Pair: connected/)
    expect(r.stdout).toMatch(/RTT +median [\d.]+ ms over 2 pings/)
  })

  it('refuses bad flags with exit 2 and a one-line error', async () => {
    const relay = await cli(['webrtc', 'pair', '--relay-only'])
    expect(relay.code).toBe(2)
    expect(relay.stderr).toMatch(/Error \[RELAY_NEEDS_TURN\]: --relay-only needs a TURN server/)
    const url = await cli(['webrtc', 'pair', '--turn', 'turns:127.0.0.1', '--turn-user', 'u'], {WAKU_DISC_TURN_PASSWORD: 'x'})
    expect(url.code).toBe(2)
    expect(url.stderr).toMatch(/supports TURN over UDP only/)
    const nopw = await cli(['webrtc', 'pair', '--turn', 'turn:127.0.0.1', '--turn-user', 'u'], {WAKU_DISC_TURN_PASSWORD: ''})
    expect(nopw.code).toBe(6)
    expect(nopw.stderr).toMatch(/TURN_NO_PASSWORD/)
  })

  describe.skipIf(noCoturn)('with coturn on loopback', () => {
    let coturn: Awaited<ReturnType<typeof startLoopbackCoturn>>
    beforeAll(async () => {
      coturn = await startLoopbackCoturn()
    })
    afterAll(() => coturn?.stop())

    it('pair --relay-only gathers only relay candidates and connects', async () => {
      const r = await cli(['webrtc', 'pair', '--json', '--relay-only', '--turn', `turn:127.0.0.1:${coturn.port}`, '--turn-user', TURN_USER, '--bytes', '100000'], {
        WAKU_DISC_TURN_PASSWORD: TURN_PASSWORD,
      })
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.ok).toBe(true)
      expect(r.json.relayOnly).toBe(true)
      expect(r.json.offerer.localCandidates.length).toBeGreaterThan(0)
      expect(r.json.offerer.localCandidates.every((c: any) => c.type === 'relay')).toBe(true)
      // On one host libjuice may still pick its unsignalled srflx address; the report says so.
      if (r.json.path !== 'relayed') expect(r.json.note).toMatch(/unsignalled server-reflexive/)
    })

    it('probe: TURN allocation works; a wrong password is reported as an authentication failure', async () => {
      const args = ['webrtc', 'probe', '--json', '--stun', `stun:127.0.0.1:${coturn.port}`, '--turn', `turn:127.0.0.1:${coturn.port}`, '--turn-user', TURN_USER]
      const good = await cli(args, {WAKU_DISC_TURN_PASSWORD: TURN_PASSWORD})
      expect(good.code, good.stderr).toBe(0)
      expect(good.json.turn.status).toBe('ok')
      expect(good.json.turn.relayCandidates.length).toBe(1)
      expect(good.json.turn.firstRelayMs).toBeGreaterThanOrEqual(0)
      const bad = await cli(args, {WAKU_DISC_TURN_PASSWORD: 'not-the-password'})
      expect(bad.code).toBe(3)
      expect(bad.json.turn.status).toBe('auth-failed')
      expect(bad.stdout + bad.stderr).not.toContain('not-the-password')
    })
  })
})
