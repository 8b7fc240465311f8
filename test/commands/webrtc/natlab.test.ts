/**
 * The NAT lab proof (issue 6): real namespaces, real iptables NATs, real coturn, the real CLI run
 * inside the namespaces. Needs root; outside CI it skips with the reason, under CI=true it runs.
 */
import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {commandAvailable, createLab, labFile, labUnavailableReason, PUB_IP, PUB_IP2, TURN_PASSWORD, TURN_USER, type Lab} from '../../helpers/natlab.js'

const reason = labUnavailableReason()
const inCi = process.env.CI === 'true'
if (reason && inCi) throw new Error(`CI=true but the NAT lab cannot run: ${reason}`)

const STUN = ['--stun', `stun:${PUB_IP}:3478`, '--stun', `stun:${PUB_IP2}:3478`]
const TURN = ['--turn', `turn:${PUB_IP}:3478`, '--turn-user', TURN_USER]
const ENV = {WAKU_DISC_TURN_PASSWORD: TURN_PASSWORD}

// Each case starts the CLI (tsx) in namespaces several times; give them room on a loaded 2-core CI box.
describe.skipIf(reason !== undefined)(`NAT lab${reason ? ` (skipped: ${reason})` : ''}`, {timeout: 150_000}, () => {
  let lab: Lab
  let signalUrl: string
  let signal: ChildProcess

  beforeAll(async () => {
    lab = await createLab()
    const s = await lab.startCliIn(lab.ns.pub, ['webrtc', 'signal', '--listen', `${PUB_IP}:8000`], /ws:\/\/[0-9.]+:\d+/)
    signal = s.child
    signalUrl = s.firstLine
  }, 60_000)

  afterAll(async () => {
    signal?.kill('SIGKILL')
    await lab?.destroy()
  })

  const probe = (extra: string[] = [], env: Record<string, string> = ENV) =>
    lab.runCliIn(lab.ns.a, ['webrtc', 'probe', '--json', ...STUN, ...TURN, ...extra], {env})

  it('endpoint-independent NAT: srflx candidates, EIM by two servers and RFC 5780, TURN works, verdict direct', async () => {
    await lab.setNat('A', 'eim')
    const r = await probe()
    expect(r.code, r.stderr).toBe(0)
    const j = r.json
    expect(j.candidates.host.map((c: any) => c.address)).toContain('10.10.1.2')
    expect(j.candidates.srflx.length).toBeGreaterThan(0)
    for (const c of j.candidates.srflx) expect(c.address).toBe('198.18.1.2')
    // One PeerConnection per STUN server: each server's gathering produced its own srflx.
    for (const s of j.stun) expect(s.srflx.length).toBe(1)
    expect(j.mapping.endpointIndependent).toBe(true)
    expect(j.rfc5780.rfc5780).toBe(true)
    expect(j.rfc5780.mapping).toBe('endpoint-independent')
    expect(j.rfc5780.filtering).toBe('address-and-port-dependent')
    expect(j.turn.status).toBe('ok')
    expect(j.turn.relayCandidates[0]).toMatch(/^198\.18\.0\.1:\d+$/)
    expect(j.turn.channel.path).toBe('relayed')
    expect(j.verdict).toBe('direct links likely')
    expect(j.privacy.find((p: any) => p.role === 'turn').learned.join(' ')).toContain(TURN_USER)
    expect(JSON.stringify(j)).not.toContain(TURN_PASSWORD)
    for (const s of j.steps) expect(typeof s.ms).toBe('number')
  })

  it('symmetric NAT: different mappings, RFC 5780 address-and-port-dependent, verdict TURN needed', async () => {
    await lab.setNat('A', 'sym')
    const r = await probe()
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(r.json.mapping.endpointIndependent).toBe(false)
    expect(r.json.rfc5780.mapping).toBe('address-and-port-dependent')
    expect(r.json.verdict).toBe('TURN needed')
    expect(r.json.turn.status).toBe('ok')
  })

  it('UDP blocked: verdict says so and exit code is 3', async () => {
    await lab.setNat('A', 'udpblock')
    const r = await probe(['--gather-timeout', '3000'])
    expect(r.code).toBe(3)
    expect(r.json.verdict).toBe('UDP blocked')
    expect(r.json.candidates.srflx).toEqual([])
    expect(r.json.turn.status).toBe('unreachable')
  })

  it('a wrong TURN password is reported as an authentication failure', async () => {
    await lab.setNat('A', 'eim')
    const r = await probe([], {WAKU_DISC_TURN_PASSWORD: 'wrong-password'})
    expect(r.code).toBe(3)
    expect(r.json.turn.status).toBe('auth-failed')
    expect(r.json.turn.detail).toMatch(/rejected the credentials/)
  })

  it('TURN over TCP is reported as untestable, not as a failure', async () => {
    await lab.setNat('A', 'eim')
    const pw = labFile(lab, 'turn-password', `${TURN_PASSWORD}\n`)
    const r = await lab.runCliIn(lab.ns.a, ['webrtc', 'probe', '--json', ...STUN, '--turn', `turn:${PUB_IP}:3478?transport=tcp`, '--turn-user', TURN_USER, '--turn-password-file', pw])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.turn.status).toBe('unsupported-transport')
    expect(r.json.turn.detail).toMatch(/cannot use TURN over TCP/)
  })

  it('two endpoint-independent NATs connect directly (srflx ↔ srflx), both ends report', async () => {
    await lab.setNat('A', 'eim')
    await lab.setNat('B', 'eim')
    const room = `eim-${process.pid}`
    const common = ['--json', '--signal', signalUrl, '--room', room, '--stun', `stun:${PUB_IP}:3478`, '--connect-timeout', '15000', '--bytes', '200000']
    const listener = lab.runCliIn(lab.ns.b, ['webrtc', 'listen', ...common])
    await new Promise((r) => setTimeout(r, 1500))
    const dialer = await lab.runCliIn(lab.ns.a, ['webrtc', 'dial', ...common])
    const listened = await listener
    expect(dialer.code, dialer.stderr).toBe(0)
    expect(listened.code, listened.stderr).toBe(0)
    const d = dialer.json
    expect(d.ok).toBe(true)
    expect(d.path).toBe('direct')
    expect(d.offerer.selectedPair.local.type).toMatch(/^(srflx|host|prflx)$/)
    expect(d.offerer.selectedPair.remote.address).toBe('198.18.2.2')
    expect(d.answerer.selectedPair).not.toBeNull()
    expect(d.rttMs.length).toBe(10)
    expect(d.throughputMbps).toBeGreaterThan(0)
    expect(listened.json.ok).toBe(true)
    expect(listened.json.path).toBe('direct')
  })

  it('symmetric NAT: the direct attempt fails, relay-only through coturn succeeds', async () => {
    await lab.setNat('A', 'sym')
    await lab.setNat('B', 'eim')
    const room1 = `sym-direct-${process.pid}`
    const direct = ['--json', '--signal', signalUrl, '--room', room1, '--stun', `stun:${PUB_IP}:3478`, '--connect-timeout', '6000', '--bytes', '0']
    const l1 = lab.runCliIn(lab.ns.b, ['webrtc', 'listen', ...direct])
    await new Promise((r) => setTimeout(r, 1500))
    const d1 = await lab.runCliIn(lab.ns.a, ['webrtc', 'dial', ...direct])
    await l1
    expect(d1.code).toBe(3)
    expect(d1.json.ok).toBe(false)
    expect(d1.json.reason).toMatch(/no connection within|ICE failed/)

    const room2 = `sym-relay-${process.pid}`
    const relay = ['--json', '--signal', signalUrl, '--room', room2, ...TURN, '--relay-only', '--connect-timeout', '15000', '--bytes', '100000']
    const l2 = lab.runCliIn(lab.ns.b, ['webrtc', 'listen', ...relay], {env: ENV})
    await new Promise((r) => setTimeout(r, 1500))
    const d2 = await lab.runCliIn(lab.ns.a, ['webrtc', 'dial', ...relay], {env: ENV})
    const l2r = await l2
    expect(d2.code, d2.stderr).toBe(0)
    expect(d2.json.ok).toBe(true)
    expect(d2.json.path).toBe('relayed')
    expect(d2.json.offerer.selectedPair.local.type).toBe('relay')
    expect(l2r.json.ok).toBe(true)
    // Who learned what: the TURN server carried the data and saw both peers; the
    // signalling server saw both descriptions.
    const turn = d2.json.privacy.find((p: any) => p.role === 'turn')
    expect(turn.server).toBe(`turn:${PUB_IP}:3478`)
    expect(turn.carriedData).toBe(true)
    expect(turn.sawBothPeers).toBe(true)
    const sig = d2.json.privacy.find((p: any) => p.role === 'signalling')
    expect(sig.sawBothPeers).toBe(true)
    expect(sig.server).toContain(room2)
    expect(JSON.stringify(d2.json.privacy)).not.toContain(TURN_PASSWORD)
  })

  it('a full-cone (endpoint-independent filtering) NAT reaches a symmetric one directly via a prflx candidate', async () => {
    await lab.setNat('A', 'sym')
    await lab.setNat('B', 'dmz')
    const room = `dmz-${process.pid}`
    const args = ['--json', '--signal', signalUrl, '--room', room, '--stun', `stun:${PUB_IP}:3478`, '--connect-timeout', '15000', '--bytes', '0', '--pings', '3']
    const listener = lab.runCliIn(lab.ns.b, ['webrtc', 'listen', ...args])
    await new Promise((r) => setTimeout(r, 1500))
    const d = await lab.runCliIn(lab.ns.a, ['webrtc', 'dial', ...args])
    const l = await listener
    expect(d.code, d.stderr).toBe(0)
    expect(d.json.path).toBe('direct')
    const types = [d.json.offerer?.selectedPair, d.json.answerer?.selectedPair].flatMap((p: any) => (p ? [p.local.type, p.remote.type] : []))
    expect(types).toContain('prflx')
    expect(l.json.ok).toBe(true)
    await lab.setNat('B', 'eim')
  })

  it('`stun serve` in the lab answers `webrtc probe` (RFC 5780) and Debian stun / turnutils_stunclient', async () => {
    await lab.setNat('A', 'eim')
    const srv = await lab.startCliIn(lab.ns.pub, ['stun', 'serve', '--listen', `${PUB_IP}:3490`, '--alt', `${PUB_IP2}:3491`], /RFC 5780: on/)
    try {
      const r = await lab.runCliIn(lab.ns.a, ['webrtc', 'probe', '--json', '--stun', `stun:${PUB_IP}:3490`])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.stun[0].binding.otherAddress).toBe(`${PUB_IP2}:3491`)
      expect(r.json.rfc5780.mapping).toBe('endpoint-independent')
      expect(r.json.rfc5780.filtering).toBe('address-and-port-dependent')
      expect(r.json.verdict).toBe('direct links likely')
      await lab.setNat('A', 'sym')
      const s = await lab.runCliIn(lab.ns.a, ['webrtc', 'probe', '--json', '--stun', `stun:${PUB_IP}:3490`])
      expect(s.json.rfc5780.mapping).toBe('address-and-port-dependent')
      expect(s.json.verdict).toBe('TURN needed')
      if (commandAvailable('turnutils_stunclient')) {
        // Its second request asks for an answer from the other address, which the NAT filters: bound it.
        const out = await lab.sh(lab.ns.a, 'sh', '-c', `timeout 4 turnutils_stunclient -p 3490 ${PUB_IP} 2>&1 || true`)
        expect(out).toContain(`Other addr: : ${PUB_IP2}:3491`)
        expect(out).toMatch(/reflexive addr: 198\.18\.1\.2:\d+/)
      }
      if (commandAvailable('stun')) {
        await lab.setNat('A', 'eim')
        const out = await lab.sh(lab.ns.a, 'sh', '-c', `stun ${PUB_IP}:3490 2>&1 || true`)
        expect(out).toMatch(/Independent Mapping/)
      }
    } finally {
      srv.child.kill('SIGKILL')
    }
  })
})
