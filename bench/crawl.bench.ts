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
 * Each crawl also prints its timeouts by stage (no WHOAREYOU / after the handshake / on a session),
 * how many were retries, and its tail: when the last node answered, when coverage was full, when
 * the last timeout fired and when the crawl ended (CRAWL_BENCH_DUMP=prefix writes every node,
 * timeout, answer and a 100 ms scheduler trace to prefix-<crawl>.json for digging further).
 *
 * Figures depend on load from other processes on the machine (printed with the load average).
 */
import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

import {createKeypair} from '@chainsafe/discv5'
import {SignableENR} from '@chainsafe/enr'

import {discv5CryptoBackend, installDiscv5Crypto, installEnrVerifyCache, runCrawl, type CrawlOptions, type CrawlResult} from '../src/lib/discv5/index.js'
import {secp256k1Backend, setSecp256k1Backend} from '../src/lib/keys/index.js'
import {startTestnet} from '../src/lib/testnet/index.js'
import {procCpuMs} from './proc.js'

const N = Number(process.env.CRAWL_BENCH_NODES ?? 1000)
const WALK_CAP_MS = Number(process.env.CRAWL_BENCH_WALK_CAP_S ?? 120) * 1000
// A/B knobs: CRAWL_BENCH_NOBLE=1 runs every secp256k1 operation (crawler and testnet) on
// @noble/curves; CRAWL_BENCH_OPTIONS='{"retries":2,"challengeTimeoutMs":0}' overrides crawl options;
// CRAWL_BENCH_ONLY=census,exhaustive skips the others (the walk then targets 100%).
if (process.env.CRAWL_BENCH_NOBLE === '1') setSecp256k1Backend('noble')
const EXTRA = JSON.parse(process.env.CRAWL_BENCH_OPTIONS ?? '{}') as Partial<CrawlOptions>
const ONLY = new Set((process.env.CRAWL_BENCH_ONLY ?? 'census,exhaustive,walk').split(','))

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
async function handshakeCryptoMs(): Promise<{handshakeMs: number; enrVerifyMs: number; enrVerifyNobleMs: number}> {
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
  // The installed one (native when the addon loads; each message is new, so every call misses the
  // cache) and @chainsafe/enr's own pure-JS default, for comparison.
  const {defaultCrypto, getV4Crypto} = await import('@chainsafe/enr')
  const texts = remotes.map((r) => {
    r.ip = '127.0.0.1'
    r.udp = 30_303
    return r
  })
  const timeVerify = (verify: (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean, salt: number) => {
    const t0 = performance.now()
    for (let i = 0; i < rounds; i++) {
      const r = texts[i % texts.length]!
      verify(r.publicKey, Uint8Array.of(i & 0xff, salt, 2), r.signature)
    }
    return (performance.now() - t0) / rounds
  }
  const installed = getV4Crypto()
  const enrVerifyMs = timeVerify((pk, m, sg) => installed.verify(pk, m, sg), 1)
  const enrVerifyNobleMs = timeVerify((pk, m, sg) => defaultCrypto.verify(pk, m, sg), 3)
  return {handshakeMs, enrVerifyMs, enrVerifyNobleMs}
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
  /** When the last node that ever answered first answered (ms). */
  lastResponsiveMs: number
  load: {start: number; max: number}
}

async function measure(name: string, info: TestnetInfo, testnetPid: number | undefined, options: Partial<CrawlOptions>): Promise<RunFigures> {
  const live = new Set(info.nodes.filter((n) => n.live).map((n) => n.nodeId))
  const honest = new Set(info.nodes.filter((n) => n.role === 'honest').map((n) => n.nodeId))
  let peakRss = process.memoryUsage().rss
  const load = {start: loadavg()[0]!, max: loadavg()[0]!}
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    load.max = Math.max(load.max, loadavg()[0]!)
  }, 100)
  const drops0 = rcvbufErrors()
  const cpu0 = process.cpuUsage()
  const tcpu0 = procCpuMs(testnetPid)
  const t0 = performance.now()
  const result = await runCrawl({bootnodes: [info.bootnode], recordDiscoveryLog: true, ...options}).finally(() => clearInterval(rssTimer))
  const wallMs = performance.now() - t0
  if (process.env.CRAWL_BENCH_DUMP) {
    // For digging into a run: every node (with its testnet role) and every timeout.
    const roles = new Map(info.nodes.map((n) => [n.nodeId, n.role]))
    const nodes = result.nodes.map(({nodeId, status, rttMs, requests, timeouts, firstSeen}) => ({nodeId, role: roles.get(nodeId), status, rttMs, requests, timeouts, firstSeen}))
    writeFileSync(`${process.env.CRAWL_BENCH_DUMP}-${name.split(' ')[0]}.json`, JSON.stringify({nodes, timeouts: result.timeoutLog, answers: result.answerLog, scheduler: result.schedulerLog, curve: result.curve, discovery: result.discoveryLog}))
  }
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
    lastResponsiveMs: (result.answerLog ?? []).reduce((m, a) => Math.max(m, a.ms), 0),
    load,
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
    `  CPU crawler ${(f.cpuMs / 1000).toFixed(2)} s, testnet ${(f.testnetCpuMs / 1000).toFixed(2)} s; peak RSS ${f.peakRssMb.toFixed(0)} MB; load average ${f.load.start.toFixed(2)} at start, max ${f.load.max.toFixed(2)}`,
  ]
  // Where the time after full coverage goes: which timeouts, on which attempt, ending when.
  const log = r.timeoutLog ?? []
  const full = f.at['100'] ?? f.wallMs
  const byPhase = r.requests.timeoutsByPhase
  const after = log.filter((t) => t.ms > full)
  const lastTimeout = log.reduce((m, t) => Math.max(m, t.ms), 0)
  const retries = log.filter((t) => t.attempt > 1).length
  lines.push(
    `  timeouts by stage: no WHOAREYOU ${byPhase.challenge}, after handshake ${byPhase.handshake}, on a session ${byPhase.session}; on retries ${retries}; ` +
      `per silent node ${(log.length / Math.max(1, new Set(log.map((t) => t.nodeId)).size)).toFixed(2)}`,
    `  tail: last answer at ${s(f.lastResponsiveMs)}, full coverage at ${s(f.at['100'])}, last timeout at ${s(lastTimeout)}, end at ${s(f.wallMs)}; ${after.length} timeouts after full coverage (${after.filter((t) => t.attempt > 1).length} of them retries)`,
  )
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
    process.stdout.write(
      `measured crypto (secp256k1 ${secp256k1Backend().backend}, discv5 session crypto ${discv5CryptoBackend()}): ${crypto.handshakeMs.toFixed(2)} ms per initiator handshake, ` +
        `${crypto.enrVerifyMs.toFixed(3)} ms per ENR signature check (@chainsafe/enr's pure-JS default: ${crypto.enrVerifyNobleMs.toFixed(2)} ms)\n\n`,
    )

    if (Object.keys(EXTRA).length > 0) process.stdout.write(`crawl options: ${JSON.stringify(EXTRA)}\n`)
    const runs: RunFigures[] = []
    if (ONLY.has('census')) {
      runs.push(await measure('census', info, child.pid, {strategy: 'census', ...EXTRA}))
      report(runs.at(-1)!)
    }
    if (ONLY.has('exhaustive')) {
      runs.push(await measure('exhaustive', info, child.pid, {strategy: 'exhaustive', ...EXTRA}))
      report(runs.at(-1)!)
    }
    if (!ONLY.has('walk') || runs.length === 0) return
    const [census, exhaustive] = runs
    // The random walk runs until it has found as many live nodes as the census did, or the cap.
    const target = runs[0]!.coverage
    const walk = await measureWalk(info, child.pid, target)
    report(walk)

    process.stdout.write('\nratios (random walk ÷ crawl, same network, same run):\n')
    const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '—' : `${(a / b).toFixed(1)}×`)
    const walkReached = walk.coverage >= target - 1e-9
    const walkTime = walkReached ? walk.wallMs : null
    for (const crawl of [census, exhaustive].filter((x): x is RunFigures => x !== undefined)) {
      const crawlTime = crawl.at['100'] ?? crawl.wallMs
      process.stdout.write(
        `  ${crawl.name}: time to ${(target * 100).toFixed(1)}% coverage ${s(crawlTime)} vs random walk ${walkReached ? s(walkTime) : `not reached in ${s(walk.wallMs)} (${(walk.coverage * 100).toFixed(1)}%)`} → ` +
          `${walkReached ? ratio(walkTime, crawlTime) : `> ${ratio(walk.wallMs, crawlTime)}`} faster; requests ${crawl.result.requests.sent} vs ${walk.result.requests.sent} (${ratio(walk.result.requests.sent, crawl.result.requests.sent)})\n`,
      )
    }
    process.stdout.write('\nagainst the CPU limit (handshakes × measured per-handshake crypto, single core):\n')
    for (const f of [...runs, walk]) {
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
