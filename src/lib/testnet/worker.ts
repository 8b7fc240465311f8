/** Worker-thread entry: hosts a share of a testnet's nodes for startTestnet (see host.ts). */
import {parentPort, workerData} from 'node:worker_threads'

import {TestnetHost, type HostInit, type RecordParts} from './host.js'

type Command = {type: 'seed'; records: RecordParts[]} | {type: 'update'; nodeId: string; entries: Record<string, Uint8Array>} | {type: 'stop'}

const host = new TestnetHost(workerData as HostInit)
const port = parentPort!

port.on('message', (msg: Command) => {
  void (async () => {
    try {
      if (msg.type === 'seed') {
        host.seed(msg.records)
        port.postMessage({type: 'seeded'})
      } else if (msg.type === 'update') {
        port.postMessage({type: 'updated', result: host.updateRecord(msg.nodeId, msg.entries)})
      } else {
        await host.stop()
        port.postMessage({type: 'stopped'})
        port.close()
      }
    } catch (error) {
      port.postMessage({type: 'error', message: (error as Error).message})
    }
  })()
})

try {
  const nodes = await host.start()
  port.postMessage({type: 'ready', nodes})
} catch (error) {
  port.postMessage({type: 'error', message: (error as Error).message})
}
