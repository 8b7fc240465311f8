/**
 * js-waku (@waku/sdk light node, libp2p 2, websockets + mplex + noise) as an independent PX client
 * of `px serve`: it dials over ws, identifies, sees the peer-exchange codec, asks for 60 peers and
 * turns every record into a libp2p `peer:discovery` event.
 */
import {afterAll, describe, expect, it} from 'vitest'

import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {startPxServer, type PxServeEvent, type PxServer} from '../../../src/lib/px/index.js'

// js-waku only dials wss outside its test environment; this is its documented switch.
process.env.NODE_ENV = 'test'

describe('js-waku light node as a peer-exchange client of px serve', () => {
  let server: PxServer | undefined
  let waku: {stop(): Promise<void>} | undefined
  afterAll(async () => {
    await waku?.stop().catch(() => undefined)
    await server?.stop()
  })

  it('discovers every served record over websockets', async () => {
    const records: EnrRecord[] = Array.from({length: 8}, (_, i) =>
      encodeEnr({privateKey: generatePrivateKey(), ip: '127.0.0.1', tcp: 40_000 + i, udp: 41_000 + i, waku2: ['relay', 'filter', 'lightpush'], cluster: 1, shards: [0]}),
    )
    const events: PxServeEvent[] = []
    server = await startPxServer({records: records.map((r) => r.raw), listen: ['/ip4/127.0.0.1/tcp/0/ws'], onEvent: (e) => events.push(e)})
    const wsAddr = server.addresses[0]!
    const {createLightNode} = await import('@waku/sdk')
    const node = await createLightNode({
      networkConfig: {clusterId: 1, numShardsInCluster: 8},
      bootstrapPeers: [wsAddr],
      discovery: {dns: false, peerExchange: true, peerCache: false},
      libp2p: {filterMultiaddrs: false, hideWebSocketInfo: true},
    } as never)
    waku = node
    const discovered = new Set<string>()
    node.libp2p.addEventListener('peer:discovery', (e) => discovered.add(e.detail.id.toString()))
    await node.start()
    const wanted = records.map((r) => r.peerId)
    const deadline = Date.now() + 30_000
    while (!wanted.every((id) => discovered.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(wanted.filter((id) => !discovered.has(id))).toEqual([])
    const pxRequests = events.filter((e) => e.status === 200)
    expect(pxRequests.length).toBeGreaterThanOrEqual(1)
    expect(pxRequests[0]).toMatchObject({requested: '60', served: 8, statusName: 'SUCCESS'})
    expect(pxRequests[0]!.remoteAddr).toContain('/ws')
    expect(pxRequests[0]!.peer).toBe(node.libp2p.peerId.toString())
  })
})
