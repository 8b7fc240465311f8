/**
 * discv5 crawl benchmark (npm run bench -- crawl).
 *
 * A 1,000-node testnet (20% dead, 10% liars, d5waku) runs in a child process (this file re-run
 * with --serve-testnet) so the crawler has its own core. In this process: a census crawl, an
 * exhaustive crawl, and a random-walk crawl (the way Waku nodes discover today: one Kademlia
 * lookup at a time, α = 3) of the same network until it reaches the census's coverage or a time
 * cap. Each with coverage of the live nodes, wall time, time to 50/90/99/100% coverage,
 * requests, handshakes, timeouts, live nodes wrongly marked dead, packets and bytes, CPU seconds
 * (crawler and testnet), peak RSS and kernel receive-buffer drops; then the ratios, and the CPU
 * limit: handshakes × the per-handshake crypto cost measured here, in the same run.
 *
 * Figures depend on load from other processes on the machine (printed with the load average).
 */
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {createKeypair} from '@chainsafe/discv5'
import {SignableENR} from '@chainsafe/enr'

import {installDiscv5Crypto, installEnrVerifyCache, runCrawl, type CrawlOptions, type CrawlResult} from '../src/lib/discv5/index.js'
import {startTestnet} from '../src/lib/testnet/index.js'

const N = Number(process.env.CRAWL_BENCH_NODES ?? 1000)
const WALK_CAP_MS = Number(process.env.CRAWL_BENCH_WALK_CAP_S ?? 120) * 1000

interface TestnetInfo {
  bootnode: string
  nodes: Array<{nodeId: string; live: boolean; role: string}>
}

// ------------------------------------------------------------------ child: the testnet
if (process.argv.includes('--serve-testnet')) {
  const testnet = await startTestnet({nodes: N, dead: 0.2, liars: 0.1, workers: 0, seed: 1000})
  const info: TestnetInfo = {bootnode: testnet.bootnode, nodes: testnet.nodes.map(({nodeId, live, role}) => ({nodeId, live, role}))}
  process.stdout.write(JSON.stringify({startupMs: testnet.startupMs, ...info}) + '\n')
  process.stdin.resume()
  process.stdin.on('end', () => void testnet.stop().then(() => process.exit(0)))
  process.on('SIGTERM', () => void testnet.stop().then(() => process.exit(0)))
} else {
  await main()
}

/** CPU time (ms) of a process from /proc (Linux), NaN elsewhere. */
function procCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return Number.NaN
  }
}

function rcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'))
    const names = lines[0]!.split(/\s+/)
    const values = lines[1]!.split(/\s+/)
    return Number(values[names.indexOf('RcvbufErrors')])
  } catch {
    return Number.NaN
  }
}

function randomKey(): Uint8Array {
  const k = new Uint8Array(32)
  for (;;) {
    crypto.getRandomValues(k)
    if (k.some((b) => b !== 0) && k[0]! < 0xff) return k
  }
}

/** Per-handshake initiator crypto (ephemeral key, ECDH, HKDF, id signature), with the crawler's crypto. */
async function handshakeCryptoMs(): Promise<{handshakeMs: number; enrVerifyMs: number}> {
  await installDiscv5Crypto()
  const entry = import.meta.resolve('@chainsafe/discv5')
  const sessionCrypto = (await import(new URL('./session/crypto.js', entry).href)) as {
    generateSessionKeys(localId: string, remoteId: string, remotePubkey: unknown, challengeData: Uint8Array): [Uint8Array, Uint8Array, Uint8Array]
    idSign(kp: unknown, challengeData: Uint8Array, ephPk: Uint8Array, destNodeId: string): Uint8Array
  }
  const local = SignableENR.createV4(randomKey())
  const localKey = createKeypair({type: 'secp256k1', privateKey: local.privateKey})
  const remotes = Array.from({length: 40}, () => SignableENR.createV4(randomKey()))
  const challenge = new Uint8Array(63).fill(9)
  const once = (r: SignableENR) => {
    const remoteKey = createKeypair({type: 'secp256k1', publicKey: r.publicKey})
    const [, , eph] = sessionCrypto.generateSessionKeys(local.nodeId, r.nodeId, remoteKey, challenge)
    sessionCrypto.idSign(localKey, challenge, eph, r.nodeId)
  }
  for (const r of remotes.slice(0, 5)) once(r)
  const rounds = 200
  let t = performance.now()
  for (let i = 0; i < rounds; i++) once(remotes[i % remotes.length]!)
  const handshakeMs = (performance.now() - t) / rounds
  // An ENR signature check (the crawler verifies each distinct record once, then caches).
  const {defaultCrypto} = await import('@chainsafe/enr')
  const texts = remotes.map((r) => {
    r.ip = '127.0.0.1'
    r.udp = 30_303
    return r
  })
  t = performance.now()
  for (let i = 0; i < rounds; i++) {
    const r = texts[i % texts.length]!
    defaultCrypto.verify(r.publicKey, Uint8Array.of(i & 0xff, 1, 2), r.signature)
  }
  const enrVerifyMs = (performance.now() - t) / rounds
  return {handshakeMs, enrVerifyMs}
}

interface RunFigures {
  name: string
  result: CrawlResult
  wallMs: number
  cpuMs: number
  testnetCpuMs: number
  peakRssMb: number
  rcvbufDrops: number
  coverage: number
  responded: number
  falseDead: number
  at: Record<'50' | '90' | '99' | '100', number | null>
}

async function measure(name: string, info: TestnetInfo, testnetPid: number | undefined, options: Partial<CrawlOptions>): Promise<RunFigures> {
  const live = new Set(info.nodes.filter((n) => n.live).map((n) => n.nodeId))
  const honest = new Set(info.nodes.filter((n) => n.role === 'honest').map((n) => n.nodeId))
  let peakRss = process.memoryUsage().rss
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100)
  const drops0 = rcvbufErrors()
  const cpu0 = process.cpuUsage()
  const tcpu0 = procCpuMs(testnetPid)
  const t0 = performance.now()
  const result = await runCrawl({bootnodes: [info.bootnode], recordDiscoveryLog: true, ...options}).finally(() => clearInterval(rssTimer))
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const at = {'50': null, '90': null, '99': null, '100': null} as RunFigures['at']
  let count = 0
  const marks: Array<[keyof RunFigures['at'], number]> = [
    ['50', 0.5],
    ['90', 0.9],
    ['99', 0.99],
    ['100', 1],
  ]
  for (const e of result.discoveryLog ?? []) {
    if (!live.has(e.nodeId)) continue
    count++
    for (const [k, f] of marks) if (at[k] === null && count >= Math.ceil(live.size * f)) at[k] = Math.round(e.ms)
  }
  const discovered = new Set(result.nodes.map((n) => n.nodeId))
  const responsive = new Set(result.nodes.filter((n) => n.responsive).map((n) => n.nodeId))
  return {
    name,
    result,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    testnetCpuMs: procCpuMs(testnetPid) - tcpu0,
    peakRssMb: peakRss / 1e6,
    rcvbufDrops: rcvbufErrors() - drops0,
    coverage: [...live].filter((id) => discovered.has(id)).length / live.size,
    responded: [...live].filter((id) => responsive.has(id)).length / live.size,
    falseDead: result.nodes.filter((n) => honest.has(n.nodeId) && n.status === 'unresponsive').length,
    at,
  }
}

function s(ms: number | null): string {
  return ms === null ? '—' : `${(ms / 1000).toFixed(2)} s`
}

function report(f: RunFigures): void {
  const r = f.result
  const lines = [
    `${f.name}:`,
    `  coverage of live nodes ${(f.coverage * 100).toFixed(2)}% (responded ${(f.responded * 100).toFixed(1)}%), state ${r.state}`,
    `  wall ${s(f.wallMs)}; to 50/90/99/100% coverage ${s(f.at['50'])} / ${s(f.at['90'])} / ${s(f.at['99'])} / ${s(f.at['100'])}`,
    `  requests ${r.requests.sent} (${r.requests.perResponsiveNode}/responsive node), handshakes ${r.handshakes}, timeouts ${r.requests.timeouts}, live nodes wrongly marked dead ${f.falseDead}`,
    `  packets out/in ${r.wire.packetsOut}/${r.wire.packetsIn}, bytes out/in ${(r.wire.bytesOut / 1024).toFixed(0)}/${(r.wire.bytesIn / 1024).toFixed(0)} KiB, kernel rcvbuf drops ${f.rcvbufDrops}`,
    `  CPU crawler ${(f.cpuMs / 1000).toFixed(2)} s, testnet ${(f.testnetCpuMs / 1000).toFixed(2)} s; peak RSS ${f.peakRssMb.toFixed(0)} MB`,
  ]
  if (r.lookups) lines.push(`  lookups ${r.lookups.count} (${r.lookups.requestsPerLookup} requests each), size estimate ${r.analysis.networkSize.kademliaEstimate ?? '—'}`)
  process.stdout.write(lines.join('\n') + '\n')
}

async function main(): Promise<void> {
  installEnrVerifyCache()
  process.stdout.write(`crawl bench: ${N}-node d5waku testnet (20% dead, 10% liars) in a child process; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`)
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-testnet'], {stdio: ['pipe', 'pipe', 'inherit']})
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({input: child.stdout!}).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`testnet exited with ${code}`)))
    })
    const info = JSON.parse(line) as TestnetInfo & {startupMs: number}
    const live = info.nodes.filter((n) => n.live).length
    process.stdout.write(`testnet: ${info.nodes.length} nodes, ${live} live, up in ${s(info.startupMs)}\n`)
    const crypto = await handshakeCryptoMs()
    process.stdout.write(`measured crypto: ${crypto.handshakeMs.toFixed(2)} ms per initiator handshake, ${crypto.enrVerifyMs.toFixed(2)} ms per ENR signature check\n\n`)

    const census = await measure('census', info, child.pid, {strategy: 'census'})
    report(census)
    const exhaustive = await measure('exhaustive', info, child.pid, {strategy: 'exhaustive'})
    report(exhaustive)
    // The random walk runs until it has found as many live nodes as the census did, or the cap.
    const target = census.coverage
    const walk = await measureWalk(info, child.pid, target)
    report(walk)

    process.stdout.write('\nratios (random walk ÷ crawl, same network, same run):\n')
    const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '—' : `${(a / b).toFixed(1)}×`)
    const walkReached = walk.coverage >= target - 1e-9
    const walkTime = walkReached ? walk.wallMs : null
    for (const crawl of [census, exhaustive]) {
      const crawlTime = crawl.at['100'] ?? crawl.wallMs
      process.stdout.write(
        `  ${crawl.name}: time to ${(target * 100).toFixed(1)}% coverage ${s(crawlTime)} vs random walk ${walkReached ? s(walkTime) : `not reached in ${s(walk.wallMs)} (${(walk.coverage * 100).toFixed(1)}%)`} → ` +
          `${walkReached ? ratio(walkTime, crawlTime) : `> ${ratio(walk.wallMs, crawlTime)}`} faster; requests ${crawl.result.requests.sent} vs ${walk.result.requests.sent} (${ratio(walk.result.requests.sent, crawl.result.requests.sent)})\n`,
      )
    }
    process.stdout.write('\nagainst the CPU limit (handshakes × measured per-handshake crypto, single core):\n')
    for (const f of [census, exhaustive, walk]) {
      const limitMs = f.result.handshakes * crypto.handshakeMs
      const withVerify = limitMs + f.result.counts.discovered * crypto.enrVerifyMs
      process.stdout.write(
        `  ${f.name}: ${f.result.handshakes} handshakes × ${crypto.handshakeMs.toFixed(2)} ms = ${s(limitMs)} (+ ${f.result.counts.discovered} record checks = ${s(withVerify)}); ` +
          `crawler CPU ${s(f.cpuMs)} (${(f.cpuMs / withVerify).toFixed(2)}× that), wall ${s(f.wallMs)} (${(f.wallMs / withVerify).toFixed(2)}×)\n`,
      )
    }
  } finally {
    child.stdin!.end()
    child.kill('SIGTERM')
  }
}

async function measureWalk(info: TestnetInfo, pid: number | undefined, target: number): Promise<RunFigures> {
  const live = new Set(info.nodes.filter((n) => n.live).map((n) => n.nodeId))
  const need = Math.ceil(target * live.size)
  const controller = new AbortController()
  let found = 0
  const figures = await measure('random walk (one lookup at a time, α = 3, k = 16, as Waku nodes do)', info, pid, {
    strategy: 'random-walk',
    signal: controller.signal,
    durationMs: WALK_CAP_MS,
    onDiscover: (id) => {
      if (live.has(id) && ++found >= need) controller.abort()
    },
  })
  return figures
}
