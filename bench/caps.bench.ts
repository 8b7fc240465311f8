/**
 * caps over 100 local targets: the parallel fleet check next to 100 sequential checks, same run,
 * same probe node, same targets. The targets are plain js-libp2p peers in a child process (so the
 * checker has its own core), announcing relay + store and answering Waku metadata; a second round
 * delays each metadata answer by 50 ms to stand in for WAN latency. Prints wall times, per-target
 * cost and the ratio.
 */
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {checkCapabilities, parseTargets, runFleet} from '../src/lib/caps/index.js'
import {createProbeNode} from '../src/lib/libp2p/node.js'

const N = Number(process.env.CAPS_BENCH_TARGETS ?? 100)
const expect = {capabilities: ['relay' as const, 'store' as const], cluster: 1, shards: [0]}

async function startTargets(delayMs: number): Promise<{addrs: string[]; stop(): void}> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('caps-targets.ts', import.meta.url)), String(N), String(delayMs)], {stdio: ['pipe', 'pipe', 'inherit']})
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout!}).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`targets exited with ${code}`)))
  })
  return {addrs: JSON.parse(first), stop: () => child.kill('SIGTERM')}
}

const node = await createProbeNode()
try {
  for (const delayMs of [0, 50]) {
    const t0 = performance.now()
    const peers = await startTargets(delayMs)
    console.log(`\n${N} js-libp2p targets (metadata answer delay ${delayMs} ms) started in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    try {
      const targets = parseTargets(peers.addrs)
      await checkCapabilities(targets[0]!, {node, expect}) // warm-up for both modes
      const c0 = process.cpuUsage()
      const s0 = performance.now()
      let seqOk = 0
      for (const t of targets) if ((await checkCapabilities(t, {node, expect})).status === 'ok') seqOk++
      const sequentialMs = performance.now() - s0
      const seqCpu = process.cpuUsage(c0)
      console.log(`sequential: ${N} targets in ${sequentialMs.toFixed(0)} ms (${(sequentialMs / N).toFixed(1)} ms/target, ${seqOk} ok, checker CPU ${((seqCpu.user + seqCpu.system) / 1000).toFixed(0)} ms)`)
      for (const concurrency of [16, 100]) {
        const c1 = process.cpuUsage()
        const p0 = performance.now()
        const fleet = await runFleet(targets, {node, expect, concurrency})
        const ms = performance.now() - p0
        const cpu = process.cpuUsage(c1)
        console.log(
          `parallel, concurrency ${concurrency}: ${N} targets in ${ms.toFixed(0)} ms (${(ms / N).toFixed(1)} ms/target, ${fleet.summary.ok} ok, checker CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms); ratio sequential/parallel ${(sequentialMs / ms).toFixed(2)}x`,
        )
      }
    } finally {
      peers.stop()
    }
  }
} finally {
  await node.stop()
}
