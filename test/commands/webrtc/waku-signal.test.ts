import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {generateKeyFile, generatePrivateKey, peerIdOf, publicKeyOf} from '../../../src/lib/keys/index.js'
import {publicKeyFromPeerId} from '../../../src/lib/webrtc/waku-signal/identity.js'
import {createInvitation} from '../../../src/lib/webrtc/waku-signal/messages.js'
import {startWakuEndpoint} from '../../../src/lib/webrtc/waku-signal/network.js'
import {firstJson, runCli, startCli, type CliResult, type LongCli} from '../../helpers/cli.js'

interface Net {
  pubsubTopic: string
  nodes: {peerId: string; multiaddr: string}[]
}

/** Starts `webrtc listen --signal waku …` and resolves its identity lines (stderr) with the finished run. */
function listen(args: string[]): {identity: Promise<{enr: string; peerId: string; topic: string}>; done: Promise<CliResult>} {
  let found: (v: {enr: string; peerId: string; topic: string}) => void
  const identity = new Promise<{enr: string; peerId: string; topic: string}>((resolve) => (found = resolve))
  const done = runCli(['webrtc', 'listen', '--signal', 'waku', '--json', ...args], {
    timeoutMs: 90_000,
    onSpawn: (child: ChildProcess) => {
      let err = ''
      child.stderr!.on('data', (d: Buffer | string) => {
        err += d.toString()
        const m = /identity: (enr:\S+)\npeer id: (\S+)\ntopic: (\S+)\n/.exec(err)
        if (m) found({enr: m[1]!, peerId: m[2]!, topic: m[3]!})
      })
    },
  })
  return {identity: Promise.race([identity, done.then((r) => Promise.reject(new Error(`listen exited ${r.code} before printing its identity: ${r.stderr}`)))]), done}
}

const why = (r: CliResult) => `${r.stderr}\n${JSON.stringify({reason: r.json?.reason, error: r.json?.error})}`

describe('webrtc listen/dial --signal waku: two CLI processes on a 3-node js-waku network (loopback)', {timeout: 120_000}, () => {
  let netCli: LongCli<Net>
  let net: Net
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waku-signal-'))
    netCli = startCli(['webrtc', 'waku-net', '--nodes', '3', '--json'], firstJson)
    net = await netCli.ready
  })
  afterAll(async () => {
    rmSync(dir, {recursive: true, force: true})
  })

  it('waku-net prints three loopback WebSocket multiaddrs', () => {
    expect(net.pubsubTopic).toBe('/waku/2/rs/1/0')
    expect(net.nodes).toHaveLength(3)
    for (const n of net.nodes) expect(n.multiaddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3KooW\w+$/)
  })

  it('listener (--key) on node 1, dialer on node 3 with the ENR from its stderr: both exit 0, direct path, RTT', async () => {
    const keyFile = join(dir, 'listener.key')
    const key = await generateKeyFile(keyFile)
    const l = listen(['--waku-node', net.nodes[0]!.multiaddr, '--key', keyFile, '--bytes', '200000', '--pings', '4'])
    const id = await l.identity
    expect(id.peerId).toBe(key.peerId)
    expect(id.topic).toBe(`/waku-disc/1/webrtc-${key.peerId}/proto`)
    const started = Date.now()
    const d = await runCli(['webrtc', 'dial', '--signal', 'waku', '--waku-node', net.nodes[2]!.multiaddr, '--peer', id.enr, '--json', '--bytes', '200000', '--pings', '4'], {timeoutMs: 90_000})
    const dialMs = Date.now() - started
    const lr = await l.done
    expect(d.code, why(d)).toBe(0)
    expect(lr.code, why(lr)).toBe(0)
    expect(d.json.ok).toBe(true)
    expect(d.json.path).toBe('direct')
    expect(d.json.rttMs).toHaveLength(4)
    expect(d.json.throughputMbps).toBeGreaterThan(0)
    expect(lr.json.role).toBe('answerer')
    expect(lr.json.answerer.events.map((e: {name: string}) => e.name)).toContain('candidates-released')
    expect(d.json.signalling).toMatchObject({role: 'offerer', peerId: key.peerId, refusedTotal: 0, sameNode: false})
    expect(lr.json.signalling).toMatchObject({role: 'answerer', peerId: key.peerId, refusedTotal: 0})
    expect(lr.json.signalling.published.byKind.answer).toBeGreaterThanOrEqual(1)
    // The run's JSON names no room for Waku signalling.
    expect(d.json.room).toBeUndefined()
    expect(dialMs).toBeLessThan(60_000)
  })

  it('a flood at the listener’s topic (junk, wrong key, replays, stale) while a real dialer connects: the dial succeeds, refusals are counted', async () => {
    const l = listen(['--waku-node', net.nodes[0]!.multiaddr, '--bytes', '0', '--pings', '2'])
    const id = await l.identity
    const attacker = await startWakuEndpoint({})
    try {
      await attacker.connect(net.nodes[1]!.multiaddr)
      const listenerPub = publicKeyFromPeerId(id.peerId)!
      const wrong = publicKeyOf(generatePrivateKey())
      const sdp = 'v=0\r\no=- 1 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 B1:E5\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n'
      const stale = createInvitation({listenerPublicKey: listenerPub, listenerPeerId: id.peerId, sdp, now: Date.now() - 300_000}).bytes
      const flood: Uint8Array[] = []
      for (let i = 0; i < 150; i++) flood.push(Uint8Array.from({length: 40 + i}, (_, j) => (i * 13 + j) & 255))
      for (let i = 0; i < 100; i++) flood.push(createInvitation({listenerPublicKey: wrong, listenerPeerId: id.peerId, sdp}).bytes)
      for (let i = 0; i < 100; i++) flood.push(stale)
      const d = runCli(['webrtc', 'dial', '--signal', 'waku', '--waku-node', net.nodes[2]!.multiaddr, '--peer', id.peerId, '--json', '--bytes', '0', '--pings', '2'], {timeoutMs: 90_000})
      for (const f of flood) {
        await attacker.publish(id.topic, f).catch(() => {})
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      const [dr, lr] = [await d, await l.done]
      expect(dr.code, why(dr)).toBe(0)
      expect(lr.code, why(lr)).toBe(0)
      expect(dr.json.ok).toBe(true)
      const s = lr.json.signalling
      expect(s.refusedTotal, JSON.stringify(s)).toBeGreaterThan(100)
      expect(s.refused.SIGNAL_JUNK).toBeGreaterThan(0)
      expect((s.refused.SIGNAL_WRONG_KEY ?? 0) + (s.refused.SIGNAL_STALE ?? 0)).toBeGreaterThan(0)
    } finally {
      await attacker.stop()
    }
  })

  it('--peer of a listener that is not there: SIGNAL_TIMEOUT, exit 4', async () => {
    const absent = peerIdOf(publicKeyOf(generatePrivateKey()))
    const r = await runCli(['webrtc', 'dial', '--signal', 'waku', '--waku-node', net.nodes[1]!.multiaddr, '--peer', absent, '--peer-timeout', '3'])
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/Error \[SIGNAL_TIMEOUT\]: no announcement of listener 16Uiu2\w+ on \/waku\/2\/rs\/1\/0 within 3 s/)
  })

  it('bad or missing flags: typed errors, exit 2, before any network work', async () => {
    const node = net.nodes[0]!.multiaddr
    const cases: [string[], string][] = [
      [['webrtc', 'listen', '--signal', 'waku'], 'WAKU_NODE_REQUIRED'],
      [['webrtc', 'dial', '--signal', 'waku', '--waku-node', node], 'PEER_REQUIRED'],
      [['webrtc', 'dial', '--signal', 'waku', '--waku-node', node, '--room', 'x', '--peer', 'x'], 'ROOM_NOT_FOR_WAKU'],
      [['webrtc', 'dial', '--signal', 'ws://127.0.0.1:1', '--room', 'x', '--waku-node', node], 'WAKU_FLAGS_NEED_WAKU'],
      [['webrtc', 'dial', '--signal', 'waku', '--waku-node', node, '--peer', 'not-a-peer'], 'BAD_PEER'],
      [['webrtc', 'dial', '--signal', 'waku', '--waku-node', node, '--peer', 'x', '--key', 'k'], 'KEY_LISTEN_ONLY'],
      [['webrtc', 'listen', '--signal', 'waku', '--waku-node', 'junk'], 'BAD_WAKU_NODE'],
      [['webrtc', 'listen', '--signal', 'waku', '--waku-node', node, '--cluster', '70000'], 'BAD_CLUSTER'],
      [['webrtc', 'waku-net', '--nodes', '0'], 'BAD_NODE_COUNT'],
    ]
    // (The parsers behind these are tested in test/lib/webrtc/waku-signal; here: that the CLI maps them.)
    const results: CliResult[] = []
    for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => runCli(args)))))
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toMatch(new RegExp(`Error \\[${cases[i]![1]}\\]`))
    })
    // A node that is not there: exit 4.
    const down = await runCli(['webrtc', 'listen', '--signal', 'waku', '--waku-node', node.replace(/\/tcp\/\d+\//, '/tcp/1/')])
    expect(down.code, down.stderr).toBe(4)
    expect(down.stderr).toMatch(/Error \[WAKU_UNREACHABLE\]/)
  })

  it('Ctrl-C stops waku-net with exit 130', async () => {
    const r = await netCli.stop()
    expect(r.code, r.stderr).toBe(130)
  })
})
