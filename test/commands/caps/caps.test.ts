import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {METADATA_PROTOCOL, WAKU_PROTOCOLS} from '../../../src/lib/libp2p/protocols.js'
import {parseNdjson, runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'
import {answer, hex, selfSignedCert, startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-caps-'))
// openssl is in .ci/run's APT_PACKAGES; locally the wss test skips without it.
const cert = selfSignedCert(dir)
// nwaku-style metadata: cluster 1, shards 0..7 in field 2 (unpacked) and field 3 (packed).
const META = hex('0801100010011002100310041005100610071a080001020304050607')

describe('caps (CLI)', () => {
  const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]
  const peers: TestPeer[] = []
  beforeAll(async () => {
    for (const rawKey of keys) {
      peers.push(
        await startTestPeer({
          rawKey,
          agentVersion: 'nwaku-like',
          protocols: {[WAKU_PROTOCOLS.relay]: 'announce', [WAKU_PROTOCOLS.storeV3]: 'announce', [METADATA_PROTOCOL]: answer(META)},
        }),
      )
    }
  })
  afterAll(async () => Promise.all(peers.map((p) => p.stop())))

  it('exit 0 when expectations hold, with the report as JSON', async () => {
    const r = await runCli(['caps', peers[0]!.tcp, '--expect', 'relay,store', '--cluster', '1', '--shard', '0,7', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.exitCode).toBe(0)
    const t = r.json.targets[0]
    expect(t.status).toBe('ok')
    expect(t.identify.agentVersion).toBe('nwaku-like')
    expect(t.metadata).toMatchObject({clusterId: 1, shards: [0, 1, 2, 3, 4, 5, 6, 7]})
    expect(t.expectations.map((e: any) => e.what)).toEqual(['protocol relay', 'protocol store', 'cluster', 'shard 0', 'shard 7'])
  })

  it('exit 3 when an expectation fails, and prints the card', async () => {
    const r = await runInProcess(['caps', peers[0]!.tcp, '--expect', 'lightpush', '--shard', '9'])
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(/UNMET/)
    expect(r.stdout).toMatch(/✗ protocol lightpush: expected supported, got missing/)
    expect(r.stdout).toMatch(/✗ shard 9: expected served, got not served/)
    expect(r.stdout).toMatch(/\/vac\/waku\/store-query\/3\.0\.0 +store v3/)
  })

  it('exit 4 when a target is unreachable', async () => {
    const dead = peers[0]!.tcp.replace(/\/tcp\/\d+\//, '/tcp/1/')
    const r = await runInProcess(['caps', dead, '--timeout', '3', '--json'])
    expect(r.code).toBe(4)
    expect(r.json.targets[0]).toMatchObject({status: 'unreachable', reachable: false})
    // In a fleet table, an unreachable row says why (not the moot expectations).
    const fleet = await runInProcess(['caps', dead, peers[0]!.tcp, '--expect', 'rendezvous', '--timeout', '3'])
    expect(fleet.code).toBe(4)
    const row = fleet.stdout.split('\n').find((l) => l.includes('UNREACHABLE'))
    expect(row).toMatch(/DIAL_FAILED .*ECONNREFUSED/)
    expect(row).not.toMatch(/protocol rendezvous/)
    expect(fleet.stdout.split('\n').find((l) => l.includes('UNMET'))).toMatch(/protocol rendezvous/)
  })

  it('checks a fleet from arguments, a file and a node set, with a table', async () => {
    const list = join(dir, 'targets.txt')
    writeFileSync(list, `# fleet\n${peers[1]!.tcp}\n`)
    const enr = encodeEnr({privateKey: keys[2]!, ip: '127.0.0.1', tcp: peers[2]!.port, waku2: ['relay', 'store'], cluster: 1, shards: [0]})
    const discv5Only = encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', udp: 9000})
    const nodes = join(dir, 'nodes.txt')
    writeFileSync(nodes, `${enr.text}\n${discv5Only.text}\n`)
    const r = await runInProcess(['caps', peers[0]!.tcp, list, '--nodes', nodes, '--expect', 'relay', '--concurrency', '2'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/3 targets: 3 ok, 0 unmet, 0 unreachable/)
    expect(r.stdout).toMatch(/skipped .*nodes\.txt.*no libp2p address/)
    expect(r.stdout).toMatch(/║ peer +│ status/)
    expect(r.stderr).toMatch(/\[3\/3\]/)
    const nd = await runInProcess(['caps', peers[0]!.tcp, list, '--nodes', nodes, '--ndjson'])
    const lines = parseNdjson(nd.stdout)
    expect(lines.filter((l) => l.type === 'target')).toHaveLength(3)
    expect(lines.filter((l) => l.type === 'skipped')).toHaveLength(1)
    expect(lines.at(-1)).toMatchObject({type: 'summary', total: 3, ok: 3, exitCode: 0})
    const json = await runInProcess(['caps', peers[0]!.tcp, list, '--nodes', nodes, '--json'])
    expect(json.json.summary).toEqual({total: 3, done: 3, ok: 3, unmet: 0, unreachable: 0})
    const enrTarget = json.json.targets.find((t: any) => t.target.kind === 'enr')
    expect(enrTarget.enr).toMatchObject({cluster: 1, shards: [0], waku2: ['relay', 'store']})
    expect(enrTarget.enr.findings.map((f: any) => f.code)).toContain('SHARDS_NOT_IN_ENR')
  })

  // Spawned: Node reads NODE_EXTRA_CA_CERTS once, at process start.
  it.skipIf(!cert && !process.env.CI)('dials wss and checks the certificate (NODE_EXTRA_CA_CERTS trusts a private CA)', async () => {
    const p = await startTestPeer({wss: {cert: cert!.cert, key: cert!.key}, protocols: {[WAKU_PROTOCOLS.relay]: 'announce'}})
    try {
      expect(p.wss).toMatch(/\/tls\/ws\/p2p\//)
      const untrusted = await runCli(['caps', p.wss!, '--timeout', '5', '--json'])
      expect(untrusted.code).toBe(4)
      expect(untrusted.json.targets[0].error).toMatchObject({code: 'DIAL_FAILED', message: expect.stringMatching(/websocket connection failed/), hint: expect.stringMatching(/certificate/)})
      const trusted = await runCli(['caps', p.wss!, '--expect', 'relay', '--json'], {env: {NODE_EXTRA_CA_CERTS: cert!.certPath}})
      expect(trusted.code).toBe(0)
      expect(trusted.json.targets[0].remoteAddr).toContain('/tls/ws')
    } finally {
      await p.stop()
    }
  })

  it('--target-timeout is each target\'s budget and --timeout the whole run; a lone --timeout keeps its per-target meaning', async () => {
    // Every metadata answer takes 700 ms; 5 targets one at a time take > 3.5 s in all, while each
    // needs well under 3 s (margin for a loaded CI machine).
    const slow: TestPeer[] = []
    for (let i = 0; i < 5; i++) {
      slow.push(
        await startTestPeer({
          protocols: {
            [METADATA_PROTOCOL]: async (stream, conn) => {
              await new Promise((r) => setTimeout(r, 700))
              await answer(hex('0801'))(stream, conn)
            },
          },
        }),
      )
    }
    const fleet = ['caps', ...slow.map((p) => p.tcp), '--cluster', '1', '--concurrency', '1']
    try {
      const [perTarget, legacy, runBound, envRunBound] = await Promise.all([
        runInProcess([...fleet, '--target-timeout', '3', '--json']),
        // Scripts written when caps' --timeout was the per-target budget still get that.
        runInProcess([...fleet, '--timeout', '3']),
        runInProcess([...fleet, '--target-timeout', '3', '--timeout', '2', '--json']),
        // WAKU_DISC_TIMEOUT bounds the run, as in every other command (no longer each target).
        runInProcess([...fleet, '--json'], {env: {WAKU_DISC_TIMEOUT: '2', WAKU_DISC_TARGET_TIMEOUT: '3'}}),
      ])
      expect(perTarget.json.summary).toEqual({total: 5, done: 5, ok: 5, unmet: 0, unreachable: 0})
      expect(perTarget.code).toBe(0)
      expect(legacy.code).toBe(0)
      expect(legacy.stdout).toMatch(/5 targets: 5 ok/)
      expect(legacy.stderr).toMatch(/--timeout 3 without --target-timeout is each target's budget/)
      for (const r of [runBound, envRunBound]) {
        expect(r.code).toBe(4)
        expect(r.json).toMatchObject({timedOut: true, interrupted: true, exitCode: 4})
        expect(r.json.summary.total).toBe(5)
        expect(r.json.summary.done).toBeLessThan(5)
      }
    } finally {
      await Promise.all(slow.map((p) => p.stop()))
    }
  })

  it('prints the finished part of a fleet on Ctrl-C and exits 130', async () => {
    const slow = await startTestPeer({
      protocols: {
        [METADATA_PROTOCOL]: async (stream, conn) => {
          await new Promise((r) => setTimeout(r, 4000))
          await answer(hex('0801'))(stream, conn)
        },
      },
    })
    try {
      let firstDone!: () => void
      const first = new Promise<void>((resolve) => (firstDone = resolve))
      let child: {kill(sig: NodeJS.Signals): boolean} | undefined
      const run = runCli(['caps', peers[0]!.tcp, slow.tcp, '--concurrency', '1', '--ndjson'], {
        onSpawn: (c) => {
          child = c
          c.stdout!.on('data', (d: Buffer) => d.toString().includes('"type":"target"') && firstDone())
        },
      })
      // Interrupt while the slow target is being checked, once the fast one has been reported.
      await first
      child!.kill('SIGINT')
      const r = await run
      expect(r.code).toBe(130)
      const lines = parseNdjson(r.stdout)
      expect(lines.filter((l) => l.type === 'target').map((l) => l.target.peerId)).toEqual([peers[0]!.peerId])
      expect(lines.at(-1)).toMatchObject({type: 'summary', total: 2, done: 1, ok: 1, exitCode: 130})
    } finally {
      await slow.stop()
    }
  })

  it('rejects unknown capabilities, bad shards and targets without a peer id (exit 2)', async () => {
    const a = await runInProcess(['caps', peers[0]!.tcp, '--expect', 'telepathy'])
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/unknown protocol name "telepathy"/)
    const b = await runInProcess(['caps', peers[0]!.tcp, '--shard', 'x'])
    expect(b.code).toBe(2)
    const c = await runInProcess(['caps', '/ip4/127.0.0.1/tcp/5'])
    expect(c.code).toBe(2)
    expect(c.stderr).toMatch(/argument 1: multiaddr has no \/p2p/)
    // A bad line of a target file names file:line; so does one read from stdin.
    const list = join(dir, 'bad-targets.txt')
    writeFileSync(list, `${peers[0]!.tcp}\n# next one is wrong\nhello\n`)
    const [d, e] = await Promise.all([runInProcess(['caps', list]), runInProcess(['caps', '-'], {stdin: `${peers[0]!.tcp}\n/ip4/127.0.0.1/tcp/5\n`})])
    expect(d.code).toBe(2)
    expect(d.stderr).toMatch(/bad-targets\.txt:3: not an ENR \(enr:…\) or a multiaddr: hello/)
    expect(e.code).toBe(2)
    expect(e.stderr).toMatch(/stdin:2: multiaddr has no \/p2p/)
  })
})
