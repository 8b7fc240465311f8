import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {generatePrivateKey, keyIdentity, publicKeyOf, writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {PEER_EXCHANGE_PROTOCOL} from '../../../src/lib/libp2p/protocols.js'
import {queryPeerExchange, startPxServer, type PxServer} from '../../../src/lib/px/index.js'
import {parseNdjson, runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'
import {answer, hex, startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-px-'))
const records: EnrRecord[] = Array.from({length: 6}, (_, i) =>
  encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', tcp: 50_000 + i, udp: 51_000 + i, waku2: ['relay', 'store'], cluster: 1, shards: [0, 1]}),
)

describe('px query (CLI)', () => {
  let server: PxServer
  let garbage: TestPeer
  beforeAll(async () => {
    server = await startPxServer({records: records.map((r) => r.raw), listen: ['/ip4/127.0.0.1/tcp/0']})
    garbage = await startTestPeer({protocols: {[PEER_EXCHANGE_PROTOCOL]: answer(hex('12ff'))}})
  })
  afterAll(async () => {
    await server?.stop()
    await garbage?.stop()
  })

  it('prints decoded records as JSON with the status code', async () => {
    const r = await runCli(['px', 'query', server.addresses[0]!, '--num', '4', '--json'])
    expect(r.code).toBe(0)
    expect(r.json.status).toEqual({code: 200, name: 'SUCCESS', explicit: true})
    expect(r.json.peers).toHaveLength(4)
    const texts = new Set(records.map((x) => x.text))
    for (const p of r.json.peers) {
      expect(texts.has(p.enr)).toBe(true)
      expect(p.decoded.enr).toBe(p.enr)
      expect(p.decoded.waku.cluster).toBe(1)
    }
  })

  it('streams NDJSON and writes a geth nodes.json', async () => {
    const out = join(dir, 'nodes.json')
    const r = await runInProcess(['px', 'query', server.addresses[0]!, '--num', '60', '--ndjson', '--out', out])
    expect(r.code).toBe(0)
    const lines = parseNdjson(r.stdout)
    expect(lines.filter((l) => l.type === 'peer')).toHaveLength(6)
    expect(lines.at(-1)).toMatchObject({type: 'summary', received: 6, valid: 6, status: {code: 200}})
    const set = JSON.parse(readFileSync(out, 'utf8'))
    expect(Object.keys(set).sort()).toEqual(records.map((x) => x.nodeId).sort())
    expect(Object.values(set).map((e: any) => e.record).sort()).toEqual(records.map((x) => x.text).sort())
  })

  it('shows human cards by default', async () => {
    const r = await runInProcess(['px', 'query', server.addresses[0]!, '-n', '2'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/status 200 SUCCESS/)
    expect(r.stdout).toMatch(/requested 2 {2}received 2 {2}valid 2/)
    expect(r.stdout).toMatch(/#0 16Uiu2/)
  })

  it('maps failures to exit codes: bad input 2, unreachable 4, protocol violation 5', async () => {
    const noPeer = await runInProcess(['px', 'query', '/ip4/127.0.0.1/tcp/1'])
    expect(noPeer.code).toBe(2)
    expect(noPeer.stderr).toMatch(/Error \[MISSING_PEER_ID\]: multiaddr has no \/p2p/)
    const gone = await runInProcess(['px', 'query', server.addresses[0]!.replace(/\/tcp\/\d+\//, '/tcp/1/'), '--json'])
    expect(gone.code).toBe(4)
    expect(gone.json.error.name).toBe('UnreachableError')
    const bad = await runInProcess(['px', 'query', garbage.tcp])
    expect(bad.code).toBe(5)
    expect(bad.stderr).toMatch(/BAD_PROTOBUF/)
    const num = await runInProcess(['px', 'query', server.addresses[0]!, '--num', '0'])
    expect(num.code).toBe(2)
  })
})

describe('px serve (CLI)', () => {
  it('listens on tcp and ws, answers nwaku status codes with a rate limit, and reports on Ctrl-C', async () => {
    const nodes = join(dir, 'serve-nodes.txt')
    writeFileSync(nodes, records.map((r) => r.text).join('\n') + '\n')
    const key = generatePrivateKey()
    const keyFile = join(dir, 'serve.key')
    await writeHexKeyFile(keyFile, key)
    let listening: any
    let proc: {kill(sig: NodeJS.Signals): boolean} | undefined
    const seen = new Promise<void>((resolve) => {
      void runCli(['px', 'serve', '--nodes', nodes, '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--rate-limit', '2/1m', '--key', keyFile, '--ndjson', '--timeout', '60'], {
        onSpawn: (child) => {
          proc = child
          let buf = ''
          child.stdout!.on('data', (d: Buffer) => {
            buf += d.toString()
            if (!listening && buf.includes('\n')) {
              listening = JSON.parse(buf.slice(0, buf.indexOf('\n')))
              resolve()
            }
          })
        },
      }).then((r) => (finished = r))
    })
    let finished: Awaited<ReturnType<typeof runCli>> | undefined
    await seen
    expect(listening).toMatchObject({type: 'listening', records: 6, peerId: keyIdentity(publicKeyOf(key)).peerId})
    const tcp = listening.addresses.find((a: string) => !a.includes('/ws'))
    const ws = listening.addresses.find((a: string) => a.includes('/ws'))
    expect(ws).toMatch(/\/ws\/p2p\/16Uiu2/)
    const {createProbeNode} = await import('../../../src/lib/libp2p/node.js')
    const node = await createProbeNode()
    try {
      expect((await queryPeerExchange(ws, {node, numPeers: 3})).received).toBe(3)
      expect((await queryPeerExchange(tcp, {node, numPeers: 100})).received).toBe(6)
      expect((await queryPeerExchange(tcp, {node, numPeers: 1})).status.code).toBe(429)
    } finally {
      await node.stop()
    }
    proc!.kill('SIGINT')
    while (!finished) await new Promise((r) => setTimeout(r, 100))
    expect(finished.code).toBe(130) // stopped by a signal: summary printed, exit 130 like every long command
    const lines = parseNdjson(finished.stdout)
    expect(lines.filter((l) => l.type === 'request').map((l) => l.status)).toEqual([200, 200, 429])
    expect(lines.at(-1)).toMatchObject({type: 'summary', requests: 3, served: 9, byStatus: {200: 2, 429: 1}})
  })

  it('refuses a bad rate limit and a missing node set', async () => {
    const r = await runInProcess(['px', 'serve', '--nodes', join(dir, 'missing.json'), '--rate-limit', 'lots'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/BAD_RATE_LIMIT/)
    const m = await runInProcess(['px', 'serve', '--nodes', join(dir, 'missing.json')])
    expect(m.code).toBe(2)
    // A file with content but no valid record is a wrong file: one line, exit 2 (an empty file serves 503).
    const wrong = join(dir, 'not-records.txt')
    writeFileSync(wrong, `${'ab'.repeat(32)}\n`)
    const w = await runInProcess(['px', 'serve', '--nodes', wrong])
    expect(w.code).toBe(2)
    expect(w.stderr.trim().split('\n')[0]).toMatch(/^Error \[NO_VALID_RECORDS\]: .*not-records\.txt: none of its 1 entries is a valid record/)
  })

  it('a bad or busy --listen address is one line with exit 2 or 4, never a stack', async () => {
    const nodes = join(dir, 'listen-enrs.txt')
    writeFileSync(nodes, records.map((r) => r.text).join('\n') + '\n')
    const garbageAddr = await runInProcess(['px', 'serve', '--nodes', nodes, '--listen', '/ip4/garbage'])
    expect(garbageAddr.code).toBe(2)
    expect(garbageAddr.stderr).toMatch(/^Error \[BAD_LISTEN_ADDRESS\]: --listen \/ip4\/garbage: not a valid multiaddr/)
    const udp = await runInProcess(['px', 'serve', '--nodes', nodes, '--listen', '/ip4/127.0.0.1/udp/0'])
    expect(udp.code).toBe(2)
    expect(udp.stderr).toMatch(/UNSUPPORTED_LISTEN_ADDRESS/)
    const holder = await startPxServer({records: records.map((r) => r.raw), listen: ['/ip4/127.0.0.1/tcp/0']})
    const busyPort = holder.addresses[0]!.split('/')[4]
    const busy = await runInProcess(['px', 'serve', '--nodes', nodes, '--listen', `/ip4/127.0.0.1/tcp/${busyPort}`]).finally(() => holder.stop())
    expect(busy.code).toBe(4)
    expect(busy.stderr).toMatch(new RegExp(`^Error \\[BIND_FAILED\\]: cannot listen on /ip4/127.0.0.1/tcp/${busyPort}: EADDRINUSE`))
    for (const r of [garbageAddr, udp, busy]) expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
