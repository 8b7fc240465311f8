import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {makeTree, startDnsServer, zoneFromTxt, type DnsServerHandle} from '../../../src/lib/dns/index.js'
import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {METADATA_PROTOCOL, WAKU_PROTOCOLS} from '../../../src/lib/libp2p/protocols.js'
import {runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'
import {answer, hex, startDiscv5Target, startTestPeer, type Discv5Target, type TestPeer} from '../../helpers/libp2p-peers.js'

describe('doctor (CLI)', () => {
  const key = generatePrivateKey()
  let peer: TestPeer
  let enr: EnrRecord
  let dns: DnsServerHandle
  let url: string
  let discv5: Discv5Target
  beforeAll(async () => {
    peer = await startTestPeer({rawKey: key, protocols: {[WAKU_PROTOCOLS.relay]: 'announce', [METADATA_PROTOCOL]: answer(hex('08011a0100'))}}) // cluster 1, shard 0 (packed field 3)
    discv5 = await startDiscv5Target(key, 'd5waku')
    enr = encodeEnr({privateKey: key, ip: '127.0.0.1', tcp: peer.port, udp: discv5.port, waku2: ['relay'], cluster: 1, shards: [0]})
    const tree = makeTree(1n, [enr], [])
    url = tree.sign(generatePrivateKey(), 'doctor.test')
    dns = await startDnsServer([zoneFromTxt('doctor.test', tree.toTxt('doctor.test'))], {listen: '127.0.0.1:0'})
  })
  afterAll(async () => {
    await peer?.stop()
    await discv5?.stop()
    await dns?.close()
  })

  it('prints one report for an ENR: decode, discv5 PING, caps, and why PX was skipped', async () => {
    const r = await runCli(['doctor', enr.text])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/\[ok {2}\] decode/)
    expect(r.stdout).toMatch(/\[ok {2}\] discv5-ping +PONG in [\d.]+ ms/)
    expect(r.stdout).toMatch(/\[ok {2}\] caps/)
    expect(r.stdout).toMatch(/\[skip\] peer-exchange +the node does not announce peer exchange/)
    expect(r.stdout).toMatch(/healthy/)
  })

  it('verifies a tree through --server and returns JSON', async () => {
    const r = await runInProcess(['doctor', url, '--server', `127.0.0.1:${dns.port}`, '--json'])
    expect(r.code).toBe(0)
    expect(r.json.kind).toBe('enrtree')
    expect(r.json.steps.map((s: any) => [s.step, s.status])).toEqual([
      ['tree', 'ok'],
      ['caps', 'ok'],
    ])
    // --json carries the same one-line summaries as the human view (worded in src/ui/doctor.ts).
    expect(r.json.steps[0].summary).toMatch(/^seq 1, signature valid, 1 node\(s\), 0 link\(s\)/)
    expect(r.json.steps[1].summary).toMatch(/protocols relay/)
  })

  it('exits 4 for an unreachable node and 2 for nonsense', async () => {
    // Independent runs, started together: the PONG and dial timeouts overlap instead of adding up.
    const [dead, bad, badTree, wrongId] = await Promise.all([
      runInProcess(['doctor', peer.tcp.replace(/\/tcp\/\d+\//, '/tcp/1/'), '--timeout', '5']),
      runInProcess(['doctor', 'not-a-node']),
      // A malformed enrtree:// URL is bad input too, not a failed check.
      runInProcess(['doctor', 'enrtree://garbage']),
      // The wrong discv5 protocol id: no PONG, a failed check (exit 3) while caps still passes.
      runInProcess(['doctor', enr.text, '--discv5-protocol', 'discv5', '--json']),
    ])
    expect(dead.code).toBe(4)
    expect(dead.stdout).toMatch(/unreachable/)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^Error \[BAD_TARGET\]: not a multiaddr or ENR: not-a-node/)
    expect(badTree.code).toBe(2)
    expect(badTree.stderr).toMatch(/^Error \[DNS_BAD_URL\]/)
    expect(wrongId.code).toBe(3)
    expect(wrongId.json.steps.find((s: any) => s.step === 'discv5-ping')).toMatchObject({status: 'fail', error: {code: 'DISCV5_NO_PONG'}})
  })
})
