/**
 * The testnet's rendezvous point: our Waku rendezvous server on loopback, seeded with sealed
 * WakuPeerRecords of the chosen libp2p listeners (each signed with the node's own key, as the
 * node would register itself), under every namespace the node would use.
 */
import {privateKeyFromRaw} from '@libp2p/crypto/keys'

import {generatePrivateKey} from '../keys/index.js'
import {sealWakuPeerRecord} from '../rendezvous/record.js'
import {startRendezvousServer} from '../rendezvous/server.js'
import type {RendezvousSeeder} from './sources.js'

// Long enough for a lab that runs until Ctrl-C (the spec's 60 s assumes nodes re-register).
const LAB_TTL_SECONDS = 72 * 3600

export const rendezvousSeeder: RendezvousSeeder = {
  async start(host, nodes, namespacesOf) {
    const ip = host.includes(':') ? 'ip6' : 'ip4'
    const server = await startRendezvousServer({listen: [`/${ip}/${host}/tcp/0`], privateKey: privateKeyFromRaw(generatePrivateKey()), maxTtlSeconds: LAB_TTL_SECONDS})
    const namespaces = new Set<string>()
    let registrations = 0
    try {
      for (const n of nodes) {
        const key = privateKeyFromRaw(Uint8Array.from(Buffer.from(n.privateKey, 'hex')))
        const ns0 = namespacesOf(n)
        const mix = ns0.some((ns) => ns.endsWith('/mix'))
        const envelope = await sealWakuPeerRecord({addresses: [`/${ip}/${host}/tcp/${n.tcpPort}`], ...(mix ? {mixKey: Buffer.from(generatePrivateKey()).toString('hex')} : {})}, key)
        for (const ns of ns0) {
          await server.add(ns, envelope, LAB_TTL_SECONDS)
          namespaces.add(ns)
          registrations++
        }
      }
    } catch (err) {
      await server.stop()
      throw err
    }
    return {multiaddr: server.addresses[0]!, registrations, namespaces: [...namespaces].sort(), stop: () => server.stop()}
  },
}
