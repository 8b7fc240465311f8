/**
 * Child process for bench/caps.bench.ts: starts N js-libp2p targets (relay + store v3 + metadata)
 * on loopback, each metadata answer delayed by DELAY_MS (a stand-in for WAN round trips, which a
 * loopback bench otherwise lacks), prints their multiaddrs as one JSON line, and runs until killed.
 */
import {METADATA_PROTOCOL, WAKU_PROTOCOLS} from '../src/lib/libp2p/protocols.js'
import {answer, hex, startTestPeer, type RawHandler} from '../test/helpers/libp2p-peers.js'

const n = Number(process.argv[2] ?? 100)
const delayMs = Number(process.argv[3] ?? 0)
const META = hex('0801100010011002100310041005100610071a080001020304050607')
const reply = answer(META)
const delayed: RawHandler = async (stream, connection) => {
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
  await reply(stream, connection)
}
const addrs: string[] = []
for (let i = 0; i < n; i++) {
  const p = await startTestPeer({protocols: {[WAKU_PROTOCOLS.relay]: 'announce', [WAKU_PROTOCOLS.storeV3]: 'announce', [METADATA_PROTOCOL]: delayed}})
  addrs.push(p.tcp)
}
process.stdout.write(JSON.stringify(addrs) + '\n')
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
