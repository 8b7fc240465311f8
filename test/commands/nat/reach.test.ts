/**
 * `nat relay`, `nat listen` and `nat reach` in the hole-punching lab (test/helpers/punch-lab.ts).
 * What js-libp2p can do here is what the tests pin down: the unilateral upgrade (the dialer is
 * reachable, so the target dials it back) works; between two NATs DCUtR's dials find nobody (no TCP
 * port reuse in js-libp2p, no QUIC in Node), and behind a symmetric NAT likewise: the relay is all
 * that works, and the report says so.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {labUnavailableReason} from '../../helpers/natlab.js'
import {createPunchLab, RELAY_IP, type PunchLab} from '../../helpers/punch-lab.js'

const reason = labUnavailableReason()
if (reason && process.env.CI === 'true') throw new Error(`CI must run the hole-punching lab: ${reason}`)

describe.skipIf(reason !== undefined)('nat reach: direct dial, circuit relay v2 and DCUtR between namespaces', () => {
  let lab: PunchLab
  let relay: string
  let target: string
  beforeAll(async () => {
    lab = await createPunchLab()
    const r = await lab.startCliIn(lab.ns.pub, ['nat', 'relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], /relay: (\S+)/)
    relay = r.match[1]!
    const l = await lab.startCliIn(lab.ns.b, ['nat', 'listen', '--relay', relay], /listening: (\S+)/)
    target = l.match[1]!
  }, 60_000)
  afterAll(() => lab?.destroySync())

  const reachFrom = async (ns: string, args: string[]) => {
    const r = await lab.runCliIn(ns, ['nat', 'reach', ...args, '--json'])
    return {code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr}
  }

  it('the listener behind NAT holds a reservation: its circuit address goes through the relay', () => {
    expect(target).toMatch(new RegExp(`^/ip4/100\\.128\\.0\\.1/tcp/4001/p2p/\\w+/p2p-circuit/p2p/16Uiu2\\w+$`))
    expect(target.startsWith(relay)).toBe(true)
  })

  it('a reachable dialer (public, announced address): the target dials back over DCUtR in every attempt (CONNECTION_REVERSED), exit 0', async () => {
    const {code, report} = await reachFrom(lab.ns.pub, [target, '--listen', `/ip4/${RELAY_IP}/tcp/4101`, '--attempts', '2', '--attempt-timeout', '5000'])
    expect(code).toBe(0)
    expect(report.outcomes).toEqual({CONNECTION_REVERSED: 2})
    for (const a of report.attempts) {
      expect(a.relayedMs).toBeGreaterThan(0)
      expect(a.direction).toBe('inbound')
      expect(a.directAddress).toMatch(/^\/ip4\/100\.128\.2\.2\/tcp\/\d+\/p2p\//) // through NAT B, from outside
    }
    expect(report.verdict).toMatch(/upgraded to a direct one in 2 of 2 attempts/)
  }, 60_000)

  it('two endpoint-independent NATs: the relay works, the punch does not (FAILED), and the verdict says the relay is all that works; exit 3', async () => {
    await lab.setNat('A', 'eim')
    const {code, report} = await reachFrom(lab.ns.a, [target, '--attempts', '2', '--attempt-timeout', '3000'])
    expect(code).toBe(3)
    expect(report.outcomes).toEqual({FAILED: 2})
    expect(report.attempts[0].relayedMs).toBeGreaterThan(0)
    expect(report.targetDcutr).toBe(true)
    expect(report.successRate).toBe(0)
    expect(report.verdict).toMatch(/the relay is all that works: DCUtR upgraded none of 2 attempts \(FAILED 2\)/)
  }, 60_000)

  it('behind a symmetric NAT: FAILED too, the relay still carries the link', async () => {
    await lab.setNat('A', 'sym')
    const {code, report} = await reachFrom(lab.ns.a, [target, '--attempts', '1', '--attempt-timeout', '3000'])
    expect(code).toBe(3)
    expect(report.attempts[0]).toMatchObject({outcome: 'FAILED'})
    expect(report.attempts[0].relayRttMs).toBeGreaterThanOrEqual(0)
    await lab.setNat('A', 'eim')
  }, 60_000)

  it('a peer with no reservation on the relay: NO_CONNECTION and exit 4; a reachable target: direct dial works, exit 0', async () => {
    // The relay's own peer id: a valid id that holds no reservation on the relay.
    const ghost = relay.split('/p2p/')[1]!
    const {code, report} = await reachFrom(lab.ns.a, [`${relay}/p2p-circuit/p2p/${ghost}`, '--attempt-timeout', '3000'])
    expect(report.attempts[0].outcome).toBe('NO_CONNECTION')
    expect(code).toBe(4)
    const direct = await reachFrom(lab.ns.a, [relay, '--attempt-timeout', '3000'])
    expect(direct.code).toBe(0)
    expect(direct.report.direct).toEqual([expect.objectContaining({address: relay, ok: true})])
    expect(direct.report.verdict).toMatch(/^direct dial works/)
  }, 60_000)
})

describe.skipIf(reason !== undefined)('nat reach --transport webrtc: ICE over UDP, signalled through the relay', () => {
  let lab: PunchLab
  let target: string
  beforeAll(async () => {
    lab = await createPunchLab()
    await lab.startCliIn(lab.ns.pub, ['stun', 'serve', '--listen', `${RELAY_IP}:3478`], /\S/)
    const relay = (await lab.startCliIn(lab.ns.pub, ['nat', 'relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], /relay: (\S+)/)).match[1]!
    target = (await lab.startCliIn(lab.ns.b, ['nat', 'listen', '--relay', relay, '--webrtc', '--stun', `stun:${RELAY_IP}:3478`], /listening: (\S+)/)).match[1]!
  }, 60_000)
  afterAll(() => lab?.destroySync())

  const reachWebRtc = async (attempts: number) => {
    const r = await lab.runCliIn(lab.ns.a, ['nat', 'reach', target, '--transport', 'webrtc', '--stun', `stun:${RELAY_IP}:3478`, '--attempts', String(attempts), '--attempt-timeout', '8000', '--json'])
    return {code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr}
  }

  it('two endpoint-independent NATs: the WebRTC link opens directly (SUCCESS), exit 0', async () => {
    await lab.setNat('A', 'eim')
    const {code, report, stderr} = await reachWebRtc(2)
    expect(report.outcomes, stderr).toEqual({SUCCESS: 2})
    expect(code).toBe(0)
    expect(report.transport).toBe('webrtc')
    for (const a of report.attempts) expect(a.directAddress).toMatch(/\/webrtc\/p2p\//)
  }, 60_000)

  it('behind a symmetric NAT: ICE finds no pair without TURN (FAILED), the relay is all that works, exit 3', async () => {
    await lab.setNat('A', 'sym')
    const {code, report} = await reachWebRtc(1)
    expect(report.attempts[0]).toMatchObject({outcome: 'FAILED'})
    expect(report.attempts[0].relayedMs).toBeGreaterThan(0)
    expect(report.verdict).toMatch(/the relay is all that works: WebRTC \(ICE over UDP\) upgraded none of 1 attempts/)
    expect(code).toBe(3)
    await lab.setNat('A', 'eim')
  }, 60_000)
})
