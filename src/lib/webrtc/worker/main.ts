/**
 * The entry point of the native worker: the child process native.ts forks for every WebRTC
 * operation. node-datachannel is C++ whose crashes (SDP parser faults, teardown races, `cleanup()`
 * aborting on Node 20) cannot be caught in JS, so the CLI never loads it in its own process. This
 * process talks to the parent only over IPC (ipc.ts), runs its one task, sends the result and
 * exits (teardown.ts). It runs on import and exports nothing.
 */
import type {WorkerTask} from '../types.js'
import {gatherOne} from './gather.js'
import {connectParent, nextMessage, send} from './ipc.js'
import {loopbackWithRetry} from './loopback.js'
import './native-log.js'
import {peerTask} from './peer-task.js'
import {finish} from './teardown.js'

connectParent(() => void finish(1))

async function run(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'gather':
      return {runs: await Promise.all(task.runs.map(gatherOne))}
    case 'loopback':
      return loopbackWithRetry(task)
    case 'peer':
      return peerTask(task)
  }
}

async function main(): Promise<void> {
  await send({op: 'ready'})
  const {task} = await nextMessage('run', 60_000)
  const result = await run(task)
  await send({op: 'result', result})
  await finish(0)
}

main().catch(async (err: unknown) => {
  await send({op: 'error', code: 'WEBRTC_WORKER', message: (err as Error)?.message ?? String(err)})
  await finish(1)
})
