/**
 * A js-waku light node (@waku/sdk, libp2p 2) made to listen on loopback websockets, as a `caps`
 * target: its identify (agent, protocols) and its metadata answer come from js-waku's own code.
 */
import {afterAll, describe, expect, it} from 'vitest'

import {checkCapabilities} from '../../../src/lib/caps/index.js'
import {METADATA_PROTOCOL} from '../../../src/lib/libp2p/protocols.js'

process.env.NODE_ENV = 'test' // js-waku's switch that lets it use plain ws

describe('js-waku light node as a caps target', () => {
  let stop: (() => Promise<void>) | undefined
  afterAll(async () => stop?.())

  it('identifies js-waku and reads its metadata answer', async () => {
    const {createLightNode} = await import('@waku/sdk')
    const node = await createLightNode({
      networkConfig: {clusterId: 7, numShardsInCluster: 8},
      userAgent: 'js-waku-under-test',
      discovery: {dns: false, peerExchange: false, peerCache: false},
      libp2p: {addresses: {listen: ['/ip4/127.0.0.1/tcp/0/ws']}, filterMultiaddrs: false, hideWebSocketInfo: true},
    } as never)
    stop = () => node.stop()
    await node.start()
    const addr = node.libp2p.getMultiaddrs().map(String).find((a) => a.includes('/ws/p2p/'))!
    expect(addr).toBeDefined()
    const r = await checkCapabilities(addr, {expect: {capabilities: ['metadata', 'ping'], cluster: 7}})
    if (process.env.SHOW_REPORT) console.log(JSON.stringify(r, null, 1))
    expect(r.reachable).toBe(true)
    expect(r.multiplexer).toMatch(/mplex/) // js-waku ships mplex only
    expect(r.identify?.agentVersion).toBe('js-waku-under-test')
    expect(r.identify?.protocols.map((p) => p.id)).toContain(METADATA_PROTOCOL)
    expect(r.metadata?.clusterId).toBe(7)
    expect(r.metadata?.shardsField).toBe('none') // js-waku answers with the cluster id only
    expect(r.status).toBe('ok')
    expect(r.pingMs).toBeGreaterThanOrEqual(0)
    // A light node serves no relay/store/lightpush.
    expect(r.capabilities).not.toContain('relay')
    expect(r.capabilities).not.toContain('store')
  })
})
