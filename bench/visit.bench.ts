/**
 * Census with visits (npm run bench -- visit). Two rounds: listeners answering at once (loopback,
 * CPU-bound), then delaying each metadata answer by VISIT_BENCH_DELAY_MS (50) as WAN latency would.
 *
 * A 1,000-node testnet (10% dead, 5% liars, d5waku) whose honest Waku nodes run a real js-libp2p
 * listener in 30% of cases (about 200) (VISIT_BENCH_LIBP2P; 5% of those lie) runs in a child process, so
 * the crawler has its own core. In this process, same run, same network:
 *   1. a census crawl without visits (the discv5 floor),
 *   2. the same census with visits on (what `crawl` does for Waku by default),
 *   3. the responsive records of (2) visited again one at a time (a script calling caps per
 *      peer, without process start-up: the sequential baseline), and with the crawl's default
 *      concurrency, on the same client node.
 *   4. a census gathering from a DNS tree, a PX responder and a rendezvous point as well:
 *      wall time per source.
 * Prints wall times, visits per second, the extra time visits add to a census, per-class counts,
 * and the ratios. Figures depend on load from other processes (load average printed).
 */
import {spawn} from 'node:child_process'
import {loadavg} from 'node:os'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {runCrawl} from '../src/lib/discv5/index.js'
import {createProbeNode} from '../src/lib/libp2p/node.js'
import {DestinationPolicy} from '../src/lib/net/index.js'
import {defaultNamespaces, discoverRendezvousPeers} from '../src/lib/sources/index.js'
import {startTestnet, type TestnetSourcesDescription} from '../src/lib/testnet/index.js'
import {summarizeVisits, Visitor, type PeerVisit} from '../src/lib/visit/index.js'
import {procCpuMs} from './proc.js'

const N = Number(process.env.VISIT_BENCH_NODES ?? 1000)
const SHARE = Number(process.env.VISIT_BENCH_LIBP2P ?? 0.3)
/** Second round: listeners delay each metadata answer by this much, a stand-in for WAN latency (0 = no second round). */
const DELAY_MS = Number(process.env.VISIT_BENCH_DELAY_MS ?? 50)

if (process.argv.includes('--serve-testnet')) {
  const delay = Number(process.env.VISIT_BENCH_LISTENER_DELAY_MS ?? 0)
  const testnet = await startTestnet({nodes: N, dead: 0.1, liars: 0.05, libp2p: SHARE, libp2pLies: 0.05, libp2pDelayMs: delay, dns: true, px: true, rendezvous: true, workers: 0, seed: 77})
  process.stdout.write(JSON.stringify({startupMs: testnet.startupMs, bootnode: testnet.bootnode, counts: testnet.counts, roles: testnet.libp2pRoles, sources: testnet.sources}) + '\n')
  process.stdin.resume()
  process.stdin.on('end', () => void testnet.stop().then(() => process.exit(0)))
  process.on('SIGTERM', () => void testnet.stop().then(() => process.exit(0)))
} else {
  await main(0)
  if (DELAY_MS > 0) await main(DELAY_MS)
  process.exit(0)
}

function s(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}



async function main(delayMs: number): Promise<void> {
  console.log(`\n--- listeners answer metadata ${delayMs > 0 ? `after ${delayMs} ms (a stand-in for WAN latency)` : 'at once (loopback: CPU-bound)'}; load average ${loadavg()[0]!.toFixed(1)} (other work on the machine skews every figure below)`)
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-testnet'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {...process.env, VISIT_BENCH_LISTENER_DELAY_MS: String(delayMs)},
  })
  const info = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      createInterface({input: child.stdout!}).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`testnet exited with ${code}`)))
    }),
  ) as {startupMs: number; bootnode: string; counts: {nodes: number; live: number; libp2p: number}; roles: Record<string, number>; sources: TestnetSourcesDescription}
  console.log(`testnet: ${info.counts.nodes} nodes (${info.counts.live} live), ${info.counts.libp2p} libp2p listeners ${JSON.stringify(info.roles)}, up in ${s(info.startupMs)}`)
  try {
    const plain = await runCrawl({bootnodes: [info.bootnode], strategy: 'census'})
    console.log(`census, no visits: ${s(plain.durationMs)}, ${plain.counts.responsive} responsive of ${plain.counts.discovered} discovered`)

    const cpu0 = process.cpuUsage()
    const t0 = procCpuMs(child.pid)
    const visited = await runCrawl({bootnodes: [info.bootnode], strategy: 'census', visit: {}})
    const cpu = process.cpuUsage(cpu0)
    const v = visited.visits!
    const listened = v.attempted - (v.failed['no-libp2p-address'] ?? 0) - (v.failed['address-refused'] ?? 0)
    console.log(
      `census + visits: ${s(visited.durationMs)} (${s(visited.durationMs - plain.durationMs)} more than without), ${visited.counts.responsive} responsive, ${v.attempted} visits: ` +
        `${v.succeeded} identified, failed ${JSON.stringify(v.failed)}; median dial ${v.medianDialMs} ms, ping ${v.medianPingMs} ms; CPU crawler ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, testnet ${(procCpuMs(child.pid) - t0).toFixed(0)} ms`,
    )
    console.log(`  ${listened} peers had a dialable libp2p address; findings ${JSON.stringify(visited.findings)}`)

    // The same records again, sequentially and in parallel, on one client node.
    const records = visited.nodes.filter((n) => n.status === 'responsive' && n.visit && n.visit.addresses.length > 0).map((n) => n.enr)
    const node = await createProbeNode({metadata: {}})
    const policy = new DestinationPolicy({trustedRanges: ['127.0.0.0/8']})
    try {
      const timed = async (concurrency: number, list = records) => {
        const visitor = new Visitor({policy, node, concurrency})
        const cpu0 = process.cpuUsage()
        const child0 = procCpuMs(child.pid)
        const started = performance.now()
        const out = (await Promise.all(list.map((r) => visitor.visit(r)))).filter((x): x is PeerVisit => x !== undefined)
        const ms = performance.now() - started
        const cpu = process.cpuUsage(cpu0)
        const cpuMs = (cpu.user + cpu.system) / 1000 + (procCpuMs(child.pid) - child0)
        await visitor.stop()
        return {ms, cpuMs, summary: summarizeVisits(out)}
      }
      await timed(8) // warm-up: connections and JIT
      const seq = await timed(1)
      console.log(`sequential visits: ${records.length} in ${s(seq.ms)} (${(seq.ms / records.length).toFixed(1)} ms/peer, ${(records.length / (seq.ms / 1000)).toFixed(0)} visits/s, ${seq.summary.visits.succeeded} identified)`)
      for (const c of [8, 32]) {
        const par = await timed(c)
        console.log(
          `parallel visits, concurrency ${c}: ${records.length} in ${s(par.ms)} (${(records.length / (par.ms / 1000)).toFixed(0)} visits/s, ${par.summary.visits.succeeded} identified); ratio sequential/parallel ${(seq.ms / par.ms).toFixed(1)}x`,
        )
      }
      const src = info.sources
      const gathered = await runCrawl({
        bootnodes: [info.bootnode],
        strategy: 'census',
        gather: {
          enrtree: {url: src.dns!.url, server: src.dns!.server},
          px: [src.px!.multiaddr],
          rendezvous: [src.rendezvous!.multiaddr],
          rendezvousNamespaces: defaultNamespaces(1),
          discoverRendezvous: discoverRendezvousPeers,
        },
      })
      console.log(`census with every source (no visits): ${s(gathered.durationMs)} after gathering`)
      for (const [name, c] of Object.entries(gathered.sources!.bySource)) {
        console.log(`  ${name.padEnd(10)} ${String(c.found).padStart(5)} peers, ${c.only} only here, ${c.stale ?? '–'} stale${c.ms !== undefined ? `, gathered in ${s(c.ms)} (${c.queries} queries, ${c.errors!.length} errors)` : ''}`)
      }
      // Without the planted failures (two of them wait out the 5 s budget, bounding any parallel run).
      const healthy = visited.nodes.filter((n) => n.status === 'responsive' && n.visit && n.visit.error === null).map((n) => n.enr)
      const seqOk = await timed(1, healthy)
      console.log(`identified peers only, sequential: ${healthy.length} in ${s(seqOk.ms)} (${(seqOk.ms / healthy.length).toFixed(1)} ms/peer; CPU both sides ${(seqOk.cpuMs / healthy.length).toFixed(1)} ms/visit)`)
      for (const c of [8, 32]) {
        const par = await timed(c, healthy)
        console.log(`identified peers only, concurrency ${c}: ${s(par.ms)} (${(healthy.length / (par.ms / 1000)).toFixed(0)} visits/s, CPU ${(par.cpuMs / healthy.length).toFixed(1)} ms/visit); ratio ${(seqOk.ms / par.ms).toFixed(1)}x; CPU floor on 2 cores ${s(par.cpuMs / 2)}`)
      }
      console.log(`census + visits vs census then sequential visits: ${s(visited.durationMs)} vs ${s(plain.durationMs + seq.ms)} (${((plain.durationMs + seq.ms) / visited.durationMs).toFixed(1)}x)`)
    } finally {
      await node.stop()
    }
  } finally {
    child.stdin!.end()
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
  }
}
