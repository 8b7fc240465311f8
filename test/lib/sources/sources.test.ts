import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCrawl, type CrawlResult} from '../../../src/lib/discv5/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {registerRendezvous} from '../../../src/lib/rendezvous/index.js'
import {compareSources, defaultNamespaces, discoverRendezvousPeers} from '../../../src/lib/sources/index.js'
import {startTestnet, type Testnet} from '../../../src/lib/testnet/index.js'
import {startTestPeer, type TestPeer} from '../../helpers/libp2p-peers.js'

describe('crawl with discovery sources', () => {
  let testnet: Testnet
  let outsider: TestPeer
  let result: CrawlResult
  beforeAll(async () => {
    testnet = await startTestnet({nodes: 40, wakuShare: 1, libp2p: 1, dns: true, px: true, rendezvous: true, workers: 1, seed: 9})
    // A peer no DHT node knows, registered at the rendezvous point like a light node would.
    const key = generatePrivateKey()
    outsider = await startTestPeer({rawKey: key, agentVersion: 'outsider/1.0'})
    const reg = await registerRendezvous(testnet.sources!.rendezvous!.multiaddr, {
      namespace: 'rs/1/mix',
      node: outsider.node as never,
      privateKey: privateKeyFromRaw(key),
      addresses: [outsider.tcp.replace(/\/p2p\/.*$/, '')],
    })
    expect(reg.statusName).toBe('OK')
    result = await runCrawl({
      bootnodes: [testnet.bootnode],
      strategy: 'census',
      visit: {},
      gather: {
        enrtree: {url: testnet.sources!.dns!.url, server: testnet.sources!.dns!.server},
        // The second PX target listens nowhere: its failure is reported, the rest goes on.
        px: [testnet.sources!.px!.multiaddr, '/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmQ9X2xDfPG3uL77V9piYDhjq14JhKCtcmNYsTMKNqrKCj'],
        pxQueries: 2,
        rendezvous: [testnet.sources!.rendezvous!.multiaddr],
        rendezvousNamespaces: defaultNamespaces(1),
        discoverRendezvous: discoverRendezvousPeers,
      },
    })
  }, 120_000)
  afterAll(async () => {
    await outsider?.stop()
    await testnet?.stop()
  })

  it('a rendezvous peer outside the DHT is reported, and visited by its addresses', () => {
    const out = result.sources!.outsideCrawl.find((p) => p.peerId === outsider.peerId)
    expect(out).toBeDefined()
    expect(out!.source).toBe('rendezvous')
    expect(out!.visit?.error).toBeNull()
    expect(out!.visit?.agentVersion).toBe('outsider/1.0')
    const rdv = result.sources!.bySource.rendezvous!
    expect(rdv.only).toBeGreaterThanOrEqual(1)
    expect(rdv.dialable).toBe(rdv.visited)
  })

  it('a failing source keeps its errors and loses nothing the others found', () => {
    const px = result.sources!.bySource.px!
    expect(px.errors!.length).toBe(2)
    expect(px.errors![0]!.message).toMatch(/tcp\/1\//)
    expect(px.found).toBe(testnet.sources!.px!.records)
    expect(result.state).toBe('complete')
    expect(result.counts.responsive).toBe(testnet.counts.live)
  })

  it('compareSources is a pure fold: the same input gives the same report', () => {
    const again = compareSources(result.nodes, [], true)
    expect(again.bySource.discv5).toEqual({...result.sources!.bySource.discv5})
  })
})
