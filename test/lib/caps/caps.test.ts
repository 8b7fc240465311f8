import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkCapabilities, foldFleet, initialFleetState, parseTargets, runFleet} from '../../../src/lib/caps/index.js'
import {encodeEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {METADATA_PROTOCOL, PEER_EXCHANGE_PROTOCOL, WAKU_PROTOCOLS} from '../../../src/lib/libp2p/protocols.js'
import {answer, dripAnswer, hex, rawAnswer, speakFirst, startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'
import {loadVector} from '../../helpers/vectors.js'

const vectors = loadVector('waku-peer-exchange-metadata-protobuf.json')
const vec = (id: string) => hex(vectors.derived.find((v: {id: string}) => v.id === id).protobuf_hex)
// nwaku's metadata bytes for cluster 1, shards 0..7 (field 2 unpacked + field 3 packed).
const NWAKU_META = vec('metadata-request-cluster1-shards0-7-nwaku-style')

const peers: TestPeer[] = []
async function peer(options: Parameters<typeof startTestPeer>[0]): Promise<TestPeer> {
  const p = await startTestPeer(options)
  peers.push(p)
  return p
}
afterAll(async () => Promise.all(peers.map((p) => p.stop())))

describe('caps against a nwaku-like js-libp2p peer', () => {
  const key = generatePrivateKey()
  let nwakuLike: TestPeer
  let requests: Uint8Array[]
  beforeAll(async () => {
    requests = []
    nwakuLike = await peer({
      rawKey: key,
      agentVersion: 'nwaku-v0.36.0',
      protocols: {
        [WAKU_PROTOCOLS.relay]: 'announce',
        [WAKU_PROTOCOLS.storeV3]: 'announce',
        [WAKU_PROTOCOLS.filterSubscribe]: 'announce',
        [WAKU_PROTOCOLS.lightpushV3]: 'announce',
        [PEER_EXCHANGE_PROTOCOL]: 'announce',
        [METADATA_PROTOCOL]: answer((req) => {
          requests.push(req!)
          return NWAKU_META
        }),
      },
    })
  })

  it('names the protocols, reads metadata field 3, pings, and reports identify', async () => {
    const r = await checkCapabilities(nwakuLike.tcp, {expect: {capabilities: ['relay', 'store', 'lightpush'], cluster: 1, shards: [3]}})
    expect(r.status).toBe('ok')
    expect(r.identify?.agentVersion).toBe('nwaku-v0.36.0')
    expect(r.identify?.protocols.map((p) => p.name)).toEqual(expect.arrayContaining(['relay', 'store v3', 'filter subscribe', 'lightpush v3', 'peer exchange', 'metadata', 'ping', 'identify']))
    expect(r.capabilities).toEqual(expect.arrayContaining(['relay', 'store', 'storev3', 'filter', 'lightpush', 'lightpushv3', 'peer-exchange', 'metadata']))
    expect(r.capabilities).not.toContain('storev2')
    expect(r.metadata).toMatchObject({clusterId: 1, shards: [0, 1, 2, 3, 4, 5, 6, 7], shardsField: 'field3'})
    expect(r.pingMs).toBeGreaterThanOrEqual(0)
    expect(r.identify?.listenAddrs).toContain(nwakuLike.tcp.replace(/\/p2p\/.*/, ''))
    expect(r.identify?.observedAddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    expect(r.expectations.every((e) => e.ok)).toBe(true)
    // We announced the expected cluster and shard in nwaku's layout.
    expect(Buffer.from(requests.at(-1)!).toString('hex')).toBe('080110031a0103')
  })

  it('reports unmet expectations precisely', async () => {
    const r = await checkCapabilities(nwakuLike.tcp, {expect: {capabilities: ['lightpushv2', 'relay'], cluster: 2, shards: [9]}})
    expect(r.status).toBe('unmet')
    expect(r.expectations).toEqual([
      {what: 'protocol lightpushv2', expected: 'supported', actual: 'missing', ok: false},
      {what: 'protocol relay', expected: 'supported', actual: 'supported', ok: true},
      {what: 'cluster', expected: '2', actual: '1', ok: false},
      {what: 'shard 9', expected: 'served', actual: 'not served', ok: false},
    ])
  })

  it('cross-checks the ENR: waku2 bits against protocols, rs shards against metadata', async () => {
    const enr = encodeEnr({privateKey: key, ip: '127.0.0.1', tcp: nwakuLike.port, waku2: ['relay', 'store', 'filter', 'sync'], cluster: 1, shards: [0, 9]})
    const r = await checkCapabilities(enr.text)
    expect(r.target.kind).toBe('enr')
    expect(r.status).toBe('ok')
    const codes = r.enr!.findings.map((f) => `${f.code}:${f.message}`)
    expect(codes).toContain('ENR_PROTOCOL_MISSING:ENR waku2 claims sync but identify lists no sync protocol')
    expect(codes).toContain('PROTOCOL_NOT_IN_ENR:identify lists lightpush but the ENR\'s waku2 field does not announce it')
    expect(codes).toContain('SHARDS_NOT_SERVED:ENR shards 9 are not in the metadata answer')
    expect(codes.some((c) => c.startsWith('SHARDS_NOT_IN_ENR:metadata shards 1,2,3,4,5,6,7'))).toBe(true)
    expect(codes.some((c) => c.startsWith('CLUSTER_MISMATCH'))).toBe(false)
    const other = encodeEnr({privateKey: key, ip: '127.0.0.1', tcp: nwakuLike.port, waku2: ['relay'], cluster: 16, shards: [0]})
    const r2 = await checkCapabilities(other.text)
    expect(r2.enr!.findings.find((f) => f.code === 'CLUSTER_MISMATCH')?.message).toBe('ENR rs/rsv cluster 16 but metadata says 1')
  })

  it('dials a /dns4 address', async () => {
    const r = await checkCapabilities(nwakuLike.tcp.replace('/ip4/127.0.0.1/', '/dns4/localhost/'))
    expect(r.reachable).toBe(true)
    expect(r.remoteAddr).toMatch(/127\.0\.0\.1|localhost/)
  })
})

describe('caps against odd, hostile and absent peers', () => {
  it('speaks mplex to a mplex-only peer without metadata or ping, and says what is missing', async () => {
    const p = await peer({muxers: ['mplex'], ping: false, protocols: {[WAKU_PROTOCOLS.relay]: 'announce'}})
    const r = await checkCapabilities(p.tcp, {expect: {capabilities: ['relay']}})
    expect(r.multiplexer).toMatch(/mplex/)
    expect(r.status).toBe('ok')
    expect(r.metadataError?.code).toBe('PROTOCOL_UNSUPPORTED')
    expect(r.pingMs).toBeUndefined()
    const withCluster = await checkCapabilities(p.tcp, {expect: {cluster: 1}})
    expect(withCluster.status).toBe('unmet')
    expect(withCluster.expectations[0]).toMatchObject({what: 'cluster', actual: 'metadata failed', ok: false})
  })

  it('keeps identify and ping when metadata is oversize, garbage, out of range, or dripped', async () => {
    const cases: Array<[Parameters<typeof answer>[0] | ReturnType<typeof rawAnswer>, string, boolean]> = [
      [new Uint8Array(2000), 'FRAME_TOO_LARGE', false],
      [hex('1a05'), 'BAD_PROTOBUF', false],
      [hex('08011a02ff0f'), 'BAD_SHARD', false],
      [rawAnswer(hex('0508')), 'TRUNCATED_FRAME', true],
      [dripAnswer(NWAKU_META, 300), 'TIMEOUT', true],
    ]
    for (const [body, code, raw] of cases) {
      const handler = raw ? (body as ReturnType<typeof rawAnswer>) : answer(body as Uint8Array)
      const p = await peer({protocols: {[METADATA_PROTOCOL]: handler, [WAKU_PROTOCOLS.relay]: 'announce'}})
      const r = await checkCapabilities(p.tcp, {timeoutMs: 2000, expect: {capabilities: ['relay']}})
      expect(r.metadataError?.code, code).toBe(code)
      expect(r.identify?.protocols.length).toBeGreaterThan(0)
      expect(r.status).toBe('ok')
    }
  })

  it('survives a hostile identify (100 KB answer, garbage) with a typed error, keeping metadata and ping', async () => {
    for (const [body, why] of [[new Uint8Array(100_000).fill(0x0a), /too long/], [hex('0aff'), /out of range/]] as const) {
      const p = await peer({identify: false, protocols: {'/ipfs/id/1.0.0': speakFirst(body), [METADATA_PROTOCOL]: answer(hex('0801'))}})
      const r = await checkCapabilities(p.tcp, {timeoutMs: 3000, expect: {cluster: 1}})
      expect(r.reachable).toBe(true)
      expect(r.identifyError?.code).toBe('IDENTIFY_FAILED')
      expect(r.identifyError?.message).toMatch(why) // js-libp2p's 8 KiB identify cap, then its protobuf reader
      expect(r.metadata?.clusterId).toBe(1) // metadata is still asked when identify failed
      expect(r.status).toBe('ok')
    }
  })

  it('reports an unreachable target without throwing, and a wrong peer id as a failed dial', async () => {
    const p = await startTestPeer()
    const addr = p.tcp
    await p.stop()
    const r = await checkCapabilities(addr, {timeoutMs: 3000})
    expect(r).toMatchObject({status: 'unreachable', reachable: false})
    expect(r.error?.name).toBe('UnreachableError')
    const live = await peer({})
    const other = await startTestPeer()
    await other.stop()
    const wrong = `${live.tcp.replace(/\/p2p\/.*/, '')}/p2p/${other.peerId}`
    const r2 = await checkCapabilities(wrong, {timeoutMs: 3000})
    expect(r2.status).toBe('unreachable')
  })

  it('rejects bad targets as bad input', () => {
    expect(() => parseTargets(['/ip4/127.0.0.1/tcp/1'])).toThrow(/target 1: multiaddr has no \/p2p/)
    expect(() => parseTargets(['enode://abc@127.0.0.1:30303'])).toThrow(/devp2p/)
    expect(() => parseTargets(['enr:-xyz'])).toThrow()
    expect(() => parseTargets([])).toThrow(/no targets/)
  })
})

describe('caps fleet', () => {
  it('checks many targets in parallel and folds canary exit codes', async () => {
    const live = await Promise.all(Array.from({length: 6}, () => peer({protocols: {[WAKU_PROTOCOLS.relay]: 'announce', [METADATA_PROTOCOL]: answer(hex('0801'))}})))
    const events: string[] = []
    const ok = await runFleet(parseTargets(live.map((p) => p.tcp)), {concurrency: 3, expect: {capabilities: ['relay'], cluster: 1}}, (e) => events.push(e.type))
    expect(ok.summary).toEqual({total: 6, done: 6, ok: 6, unmet: 0, unreachable: 0})
    expect(ok.exitCode).toBe(0)
    expect(ok.targets.map((t) => t.target.peerId)).toEqual(live.map((p) => p.peerId))
    expect(events[0]).toBe('start')
    expect(events.at(-1)).toBe('done')
    const unmet = await runFleet(parseTargets(live.map((p) => p.tcp)), {expect: {capabilities: ['store']}})
    expect(unmet.exitCode).toBe(3)
    const dead = await startTestPeer()
    await dead.stop()
    const mixed = await runFleet(parseTargets([...live.map((p) => p.tcp), dead.tcp]), {timeoutMs: 3000, expect: {capabilities: ['store']}})
    expect(mixed.summary).toMatchObject({unmet: 6, unreachable: 1})
    expect(mixed.exitCode).toBe(4)
  })

  it('checks the same peer at a live and a dead address independently (no dial merging)', async () => {
    const p = await peer({})
    const dead = p.tcp.replace(/\/tcp\/\d+\//, '/tcp/1/')
    for (const order of [[p.tcp, dead], [dead, p.tcp]]) {
      const r = await runFleet(parseTargets(order), {timeoutMs: 3000})
      const byInput = new Map(r.targets.map((t) => [t.target.input, t]))
      expect(byInput.get(p.tcp)?.status).toBe('ok')
      expect(byInput.get(dead)?.status).toBe('unreachable')
      expect(byInput.get(dead)?.error?.message).toMatch(/127\.0\.0\.1:1\b/)
      expect(byInput.get(dead)?.error?.message).not.toContain(String(p.port))
    }
  })

  it('never has more than `concurrency` targets in flight, and reports them in target order', async () => {
    let inFlight = 0
    let most = 0
    const slow = await Promise.all(
      Array.from({length: 5}, () =>
        peer({
          protocols: {
            [METADATA_PROTOCOL]: async (stream, conn) => {
              most = Math.max(most, ++inFlight)
              await new Promise((r) => setTimeout(r, 150))
              inFlight--
              await answer(hex('0801'))(stream, conn)
            },
          },
        }),
      ),
    )
    const r = await runFleet(parseTargets(slow.map((p) => p.tcp)), {concurrency: 2, timeoutMs: 5000})
    expect(r.summary).toMatchObject({total: 5, done: 5, ok: 5})
    expect(most).toBe(2)
    expect(r.targets.map((t) => t.target.peerId)).toEqual(slow.map((p) => p.peerId))
  })

  it("a deadline on the signal ends the run: checks in flight time out, the rest are not started (exit 4)", async () => {
    const slow = await Promise.all(
      Array.from({length: 4}, () =>
        peer({
          protocols: {
            [METADATA_PROTOCOL]: async (stream, conn) => {
              await new Promise((r) => setTimeout(r, 1500))
              await answer(hex('0801'))(stream, conn)
            },
          },
        }),
      ),
    )
    const events: string[] = []
    const r = await runFleet(parseTargets(slow.map((p) => p.tcp)), {concurrency: 1, timeoutMs: 10_000, signal: AbortSignal.timeout(700)}, (e) => events.push(e.type))
    expect(events.at(-1)).toBe('stopped')
    expect(r).toMatchObject({interrupted: true, timedOut: true, exitCode: 4})
    expect(r.summary.total).toBe(4)
    expect(r.summary.done).toBe(1)
    expect(r.targets).toHaveLength(1)
    expect(r.targets[0]!.metadataError?.code).toBe('TIMEOUT')
  })

  it('folds a stop: Ctrl-C is 130, a deadline 4, and the finished part is kept', () => {
    const started = foldFleet(initialFleetState(), {type: 'start', total: 3, concurrency: 1})
    expect(foldFleet(started, {type: 'stopped', reason: 'interrupted', durationMs: 5})).toMatchObject({interrupted: true, exitCode: 130, durationMs: 5})
    const timedOut = foldFleet(started, {type: 'stopped', reason: 'timeout', durationMs: 5})
    expect(timedOut).toMatchObject({interrupted: true, timedOut: true, exitCode: 4})
  })
})
