/**
 * caps over 100 local targets: the parallel fleet check next to 100 sequential checks, same run,
 * same probe node, same targets. The targets are plain js-libp2p peers in a child process (so the
 * checker has its own core), announcing relay + store and answering Waku metadata; a second round
 * delays each metadata answer by 50 ms to stand in for WAN latency. Prints wall times, per-target
 * cost and the ratio.
 */
import {spawn} from 'node:child_process'
import {availableParallelism, loadavg} from 'node:os'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {checkCapabilities, parseTargets, runFleet} from '../src/lib/caps/index.js'
import {createProbeNode} from '../src/lib/libp2p/node.js'
import {procCpuMs} from './proc.js'

const N = Number(process.env.CAPS_BENCH_TARGETS ?? 100)
const expect = {capabilities: ['relay' as const, 'store' as const], cluster: 1, shards: [0]}


async function startTargets(delayMs: number): Promise<{addrs: string[]; pid?: number; stop(): void}> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('caps-targets.ts', import.meta.url)), String(N), String(delayMs)], {stdio: ['pipe', 'pipe', 'inherit']})
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({input: child.stdout!}).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`targets exited with ${code}`)))
  })
  return {addrs: JSON.parse(first), pid: child.pid, stop: () => child.kill('SIGTERM')}
}

const cores = availableParallelism()
console.log(`machine: ${cores} cores, load average ${loadavg()[0]!.toFixed(1)} (other work on the machine skews every figure below)`)
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
      const t0cpu = procCpuMs(peers.pid)
      const s0 = performance.now()
      let seqOk = 0
      for (const t of targets) if ((await checkCapabilities(t, {node, expect})).status === 'ok') seqOk++
      const sequentialMs = performance.now() - s0
      const seqCpu = process.cpuUsage(c0)
      const seqTargetsCpu = procCpuMs(peers.pid) - t0cpu
      const seqCheckerCpu = (seqCpu.user + seqCpu.system) / 1000
      console.log(`sequential: ${N} targets in ${sequentialMs.toFixed(0)} ms (${(sequentialMs / N).toFixed(1)} ms/target, ${seqOk} ok, CPU: checker ${seqCheckerCpu.toFixed(0)} ms, targets ${seqTargetsCpu.toFixed(0)} ms)`)
      // Both sides do a noise handshake (secp256k1) per check: with no latency to hide, the CPU is the limit.
      const floorMs = (seqCheckerCpu + seqTargetsCpu) / Math.min(cores, 2)
      console.log(`CPU floor for ${N} checks on ${Math.min(cores, 2)} cores: ${floorMs.toFixed(0)} ms (${(floorMs / N).toFixed(1)} ms/target); sequential latency floor: ${(N * delayMs).toFixed(0)} ms of metadata delay`)
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
