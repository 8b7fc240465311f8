/**
 * DNS discovery benchmark (npm run bench -- dns):
 *  1. Full resolve of a 3,000-node tree served in-process by the `dns-tree serve` server with a
 *     20 ms delay per answer, by waku-disc (parallel, two concurrency settings) next to js-waku's
 *     DnsNodeDiscovery (sequential random descent) asked for the same 3,000 nodes, and next to
 *     the limit: one round trip per tree level (root + depth) × delay.
 *  2. Build + sign time for 3,000 and 30,000 records: the tree algorithm alone (makeTree + sign
 *     + toTxt) and the whole directory pipeline (`dns-tree build` from nodes.json, then `sign`).
 * Plain lines of figures; no assertions.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {DnsNodeDiscovery} from '@waku/discovery'
import {base64urlnopad} from '@scure/base'

import {buildTreeDirectory, signTreeDirectory} from '../src/lib/dns/directory.js'
import {resolveTree} from '../src/lib/dns/client.js'
import {ServerTxtResolver} from '../src/lib/dns/resolvers.js'
import {makeTree} from '../src/lib/dns/tree.js'
import {parseEnr, type EnrRecord} from '../src/lib/enr/index.js'
import {keccak256, publicKeyOf, signDigest, writeHexKeyFile} from '../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../src/lib/nodeset/index.js'
import {encodeRlp} from '../src/lib/rlp/index.js'

const DELAY_MS = 20
const cacheDir = fileURLToPath(new URL('./results/', import.meta.url))

/** Signed Waku records (relay, cluster 1), cached under bench/results so reruns start fast. */
function records(n: number): EnrRecord[] {
  const cache = join(cacheDir, `dns-records-${n}.txt`)
  if (existsSync(cache)) return readFileSync(cache, 'utf8').trim().split('\n').map((t) => parseEnr(t, {verifySignature: false}))
  const t0 = performance.now()
  const out: EnrRecord[] = []
  for (let i = 0; i < n; i++) {
    const key = keccak256(new TextEncoder().encode(`waku-disc bench ${i}`))
    const content = [1n, 'id', 'v4', 'ip', Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255), 'rs', Uint8Array.of(0, 1, 1, 0, 0), 'secp256k1', publicKeyOf(key), 'tcp', 60000, 'udp', 9000, 'waku2', Uint8Array.of(1)] as any[]
    const sig = signDigest(keccak256(encodeRlp(content)), key).subarray(0, 64)
    out.push(parseEnr('enr:' + base64urlnopad.encode(encodeRlp([new Uint8Array(sig), ...content])), {verifySignature: false}))
  }
  mkdirSync(cacheDir, {recursive: true})
  writeFileSync(cache, out.map((r) => r.text).join('\n') + '\n')
  line(`(generated ${n} signed records in ${ms(performance.now() - t0)}, cached in bench/results/)`)
  return out
}

function ms(x: number): string {
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`
}
function line(text: string): void {
  process.stdout.write(text + '\n')
}

/** The `dns-tree serve` server (library call) in a child process, so it gets its own event loop and core. */
async function serveInChild(domain: string, txt: Record<string, string>): Promise<{port: number; close: () => Promise<{udp: number; tcp: number; truncated: number}>}> {
  const dir = await mkdtemp(join(tmpdir(), 'waku-disc-bench-serve-'))
  await writeFile(join(dir, 'txt.json'), JSON.stringify({domain, txt}))
  const server = fileURLToPath(new URL('../src/lib/dns/server.ts', import.meta.url))
  const script = `
    import {readFileSync} from 'node:fs'
    import {startDnsServer, zoneFromTxt} from ${JSON.stringify(server)}
    const {domain, txt} = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'txt.json'))}, 'utf8'))
    const s = await startDnsServer([zoneFromTxt(domain, txt)], {listen: '127.0.0.1:0', delayMs: ${DELAY_MS}})
    process.stdout.write('port ' + s.port + '\\n')
    process.stdin.on('end', async () => { process.stdout.write('stats ' + JSON.stringify(s.stats) + '\\n'); await s.close(); process.exit(0) })
    process.stdin.resume()
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {stdio: ['pipe', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('..', import.meta.url))})
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const port = await new Promise<number>((resolve, reject) => {
    const check = setInterval(() => {
      const m = /port (\d+)/.exec(out)
      if (m) {
        clearInterval(check)
        resolve(Number(m[1]))
      }
    }, 20)
    child.once('exit', (code) => {
      clearInterval(check)
      reject(new Error(`server child exited (${code})`))
    })
  })
  return {
    port,
    close: async () => {
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.stdin!.end()
      await exited
      await rm(dir, {recursive: true, force: true})
      const m = /stats (.*)/.exec(out)
      return m ? JSON.parse(m[1]!) : {udp: 0, tcp: 0, truncated: 0}
    },
  }
}

async function resolveBench(): Promise<void> {
  line(`-- full resolve of a 3,000-node tree, server delay ${DELAY_MS} ms per answer (loopback, server in a child process)`)
  const recs = records(3000)
  const key = keccak256(new TextEncoder().encode('waku-disc bench tree key'))
  const tree = makeTree(1n, recs, [])
  const domain = 'bench.example.org'
  const url = tree.sign(key, domain)
  const txt = tree.toTxt(domain)
  const server = await serveInChild(domain, txt)
  try {
    let depth = 0
    const results: Array<{label: string; ms: number; nodes: number; queries: number}> = []
    for (const [concurrency, verifySignatures] of [[16, true], [256, true], [256, false]] as const) {
      const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port}, {timeoutMs: 5000})
      const t = performance.now()
      const r = await resolveTree(url, {resolver, concurrency, verifySignatures})
      const took = performance.now() - t
      await resolver.close()
      depth = r.stats.depth
      results.push({label: `waku-disc resolve (concurrency ${concurrency}${verifySignatures ? '' : ', ENR sigs unchecked'})`, ms: took, nodes: r.nodes.length, queries: r.stats.queries})
    }
    const limit = (depth + 1) * DELAY_MS
    // js-waku: asked for 3,000 relay nodes from the same server.
    const resolver = new ServerTxtResolver({host: '127.0.0.1', port: server.port}, {timeoutMs: 5000})
    const before = resolver.counters.queries
    const t = performance.now()
    const peers = await new DnsNodeDiscovery({resolveTXT: (d: string) => resolver.resolveTxt(d)}).getPeers([url], {relay: 3000})
    const jsMs = performance.now() - t
    const jsQueries = resolver.counters.queries - before
    await resolver.close()
    results.push({label: 'js-waku DnsNodeDiscovery.getPeers({relay: 3000})', ms: jsMs, nodes: peers.length, queries: jsQueries})
    // The same sequential random descent as light clients do, by waku-disc, for 100 nodes.
    const r2 = new ServerTxtResolver({host: '127.0.0.1', port: server.port}, {timeoutMs: 5000})
    const t2 = performance.now()
    const rnd = await resolveTree(url, {resolver: r2, random: 100})
    results.push({label: 'waku-disc --random 100 (sequential descent)', ms: performance.now() - t2, nodes: rnd.nodes.length, queries: rnd.stats.queries})
    await r2.close()

    line(`tree: 3,000 nodes, ${Object.keys(txt).length} TXT records, depth ${depth} below the root`)
    line(`limit (root + ${depth} levels, one round trip each): ${(depth + 1)} × ${DELAY_MS} ms = ${limit} ms`)
    for (const r of results) {
      line(`${r.label.padEnd(52)} ${ms(r.ms).padStart(9)}  ${String(r.nodes).padStart(5)} nodes  ${String(r.queries).padStart(5)} queries  ${(r.ms / limit).toFixed(1)}× the limit  ${(r.nodes / (r.ms / 1000)).toFixed(0)} nodes/s`)
    }
    const best = results[1]!
    const js = results[3]!
    line(`full sync: waku-disc ${best.nodes}/3000 nodes in ${ms(best.ms)} (${(best.ms / best.nodes).toFixed(2)} ms/node); js-waku ${js.nodes}/3000 in ${ms(js.ms)} (${js.nodes ? (js.ms / js.nodes).toFixed(0) : '∞'} ms/node): its visited set covers branches, so each top-level branch yields at most one leaf`)
    line(`(the full resolve is CPU-bound on checking 3,000 ENR signatures, ${ms(results[1]!.ms - results[2]!.ms)} of it here; without that check it is ${(results[2]!.ms / limit).toFixed(1)}× the round-trip limit)`)
  } finally {
    const stats = await server.close()
    line(`server (child process) answered ${stats.udp} UDP and ${stats.tcp} TCP queries, ${stats.truncated} truncated`)
  }
}

async function buildBench(): Promise<void> {
  line('-- build + sign')
  const dir = await mkdtemp(join(tmpdir(), 'waku-disc-bench-'))
  try {
    const key = keccak256(new TextEncoder().encode('waku-disc bench tree key'))
    await writeHexKeyFile(join(dir, 'key.hex'), key)
    const full = process.env.WAKU_DISC_BENCH_FULL === '1'
    for (const n of [3000, 30000]) {
      const recs = records(n)
      let t = performance.now()
      const tree = makeTree(1n, recs, [])
      tree.sign(key, 'bench.example.org')
      const txt = tree.toTxt('bench.example.org')
      const algo = performance.now() - t
      if (n > 3000 && !full) {
        line(`${String(n).padStart(6)} records: makeTree+sign+toTxt ${ms(algo).padStart(8)} (${Object.keys(txt).length} TXT records);  (file pipeline skipped: WAKU_DISC_BENCH_FULL=1 runs it, several minutes)`)
        continue
      }
      await writeFile(join(dir, `nodes-${n}.json`), formatNodeSet(nodeSetFromRecords(recs)))
      t = performance.now()
      await buildTreeDirectory(join(dir, `nodes-${n}.json`), {domain: 'bench.example.org', out: join(dir, `tree-${n}`)})
      const build = performance.now() - t
      t = performance.now()
      await signTreeDirectory(join(dir, `tree-${n}`), {keyFile: join(dir, 'key.hex')})
      const sign = performance.now() - t
      line(`${String(n).padStart(6)} records: makeTree+sign+toTxt ${ms(algo).padStart(8)} (${Object.keys(txt).length} TXT records);  dns-tree build ${ms(build).padStart(8)} + sign ${ms(sign).padStart(8)} (files, every record's signature checked)  = ${((build + sign) / n * 1000).toFixed(0)} µs/record`)
    }
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

await resolveBench()
await buildBench()
