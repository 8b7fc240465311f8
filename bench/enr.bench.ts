/**
 * ENR decode throughput on 10,000 real-shaped Waku records (distinct keys, waku2, dns4/dns6 wss
 * multiaddrs, rs shards, ip/tcp/udp), signature verification included, next to @waku/enr's
 * EnrDecoder.fromString on the same input in the same process, interleaved chunk by chunk so
 * that load from other processes hits both alike. Prints records/s and the ratios, plus our decoder
 * with secp256k1 forced onto the pure-JS @noble/curves fallback (what it was before libsecp256k1).
 */
import {loadavg} from 'node:os'

import {ENR as ChainsafeENR} from '@chainsafe/enr'
import {EnrDecoder} from '@waku/enr'

import {decodeEnr, encodeEnr, lintEnr, parseEnr, type WakuCapability} from '../src/lib/enr/index.js'
import {generatePrivateKey, secp256k1Backend, setSecp256k1Backend} from '../src/lib/keys/index.js'

const COUNT = Number(process.env.ENR_BENCH_COUNT ?? 10_000)

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function generate(count: number): string[] {
  const rand = rng(42)
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!
  const capsets: WakuCapability[][] = [['relay'], ['relay', 'store'], ['relay', 'filter', 'lightpush'], ['relay', 'store', 'filter', 'lightpush'], ['relay', 'sync']]
  const regions = ['do-ams3', 'gc-us-central1-a', 'ac-cn-hongkong-c', 'do-sfo3', 'ew-fra1']
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const region = pick(regions)
    const host = `node-${String(i % 100).padStart(2, '0')}.${region}.waku.sandbox.status.im`
    const multiaddrs = rand() < 0.5 ? [`/dns4/${host}/tcp/8000/wss`] : [`/dns4/${host}/tcp/30303`, `/dns4/${host}/tcp/443/wss`]
    const shardCount = 1 + Math.floor(rand() * 8)
    const shards = [...new Set(Array.from({length: shardCount}, () => Math.floor(rand() * 8)))]
    const record = encodeEnr({
      privateKey: generatePrivateKey(),
      seq: BigInt(1 + Math.floor(rand() * 200)),
      ip: `${1 + Math.floor(rand() * 220)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`,
      tcp: 30303,
      udp: 9000 + Math.floor(rand() * 10),
      waku2: pick(capsets),
      multiaddrs,
      cluster: 1,
      shards,
    })
    out.push(record.text)
  }
  return out
}

interface Candidate {
  name: string
  fn: (text: string) => unknown
  ms: number
}

/**
 * Runs every candidate over the same chunk of records, chunk after chunk, so that load from other
 * processes on a shared machine hits all candidates alike; the order within a chunk rotates.
 */
async function measureInterleaved(candidates: Candidate[], records: string[], chunk = 250): Promise<void> {
  let turn = 0
  for (let start = 0; start < records.length; start += chunk) {
    const slice = records.slice(start, start + chunk)
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[(k + turn) % candidates.length]!
      const t0 = performance.now()
      for (const r of slice) await c.fn(r)
      c.ms += performance.now() - t0
    }
    turn++
  }
}

function report(c: Candidate, count: number): number {
  const perSecond = count / (c.ms / 1000)
  process.stdout.write(`${c.name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(9)} records/s  (${((c.ms / count) * 1000).toFixed(0)} µs/record)\n`)
  return perSecond
}

const backend = secp256k1Backend()
process.stdout.write(`secp256k1 backend: ${backend.backend}${backend.reason ? ` (${backend.reason})` : ''}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)

/** parseEnr with secp256k1 forced onto @noble/curves for the duration of one call. */
function parseEnrNoble(text: string): unknown {
  setSecp256k1Backend('noble')
  try {
    return parseEnr(text)
  } finally {
    setSecp256k1Backend('libsecp256k1')
  }
}

const genStart = performance.now()
const records = generate(COUNT)
const sizes = records.map((r) => parseEnr(r, {verifySignature: false}).size)
process.stdout.write(`generated ${records.length} signed Waku records in ${((performance.now() - genStart) / 1000).toFixed(1)} s; size ${Math.min(...sizes)}-${Math.max(...sizes)} bytes, mean ${Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length)}\n`)

// Both decoders must accept every record before they are timed.
for (const r of records.slice(0, 200)) {
  const w = await EnrDecoder.fromString(r)
  const d = decodeEnr(parseEnr(r))
  if (w.nodeId !== d.nodeId) throw new Error('decoders disagree on a node id')
}

// Warm-up (JIT) for both.
for (const r of records.slice(0, 500)) {
  parseEnr(r)
  parseEnrNoble(r)
  await EnrDecoder.fromString(r)
  ChainsafeENR.decodeTxt(r)
}

const candidates: Candidate[] = [
  {name: '@waku/enr EnrDecoder.fromString (verifies)', fn: (t) => EnrDecoder.fromString(t), ms: 0},
  {name: '@chainsafe/enr ENR.decodeTxt (verifies)', fn: (t) => ChainsafeENR.decodeTxt(t), ms: 0},
  {name: 'waku-disc parseEnr (strict, verifies)', fn: (t) => parseEnr(t), ms: 0},
  {name: 'waku-disc parseEnr + decodeEnr (all fields)', fn: (t) => decodeEnr(parseEnr(t)), ms: 0},
  {name: 'waku-disc parseEnr, no signature check', fn: (t) => parseEnr(t, {verifySignature: false}), ms: 0},
  {name: 'waku-disc parseEnr + lintEnr', fn: (t) => lintEnr(parseEnr(t)), ms: 0},
  {name: 'waku-disc parseEnr, @noble/curves fallback', fn: parseEnrNoble, ms: 0},
]
;(globalThis as {gc?: () => void}).gc?.()
await measureInterleaved(candidates, records)
const [theirs, chainsafe, ours, full, noSig, lint, fallback] = candidates.map((c) => report(c, records.length)) as [number, number, number, number, number, number, number]

process.stdout.write(`ratio parseEnr / @waku/enr:                  ${(ours / theirs).toFixed(2)}x\n`)
process.stdout.write(`ratio parseEnr+decodeEnr / @waku/enr:        ${(full / theirs).toFixed(2)}x\n`)
process.stdout.write(`ratio parseEnr / @chainsafe/enr:             ${(ours / chainsafe).toFixed(2)}x\n`)
process.stdout.write(`signature share of parseEnr time:            ${(100 * (1 - ours / noSig)).toFixed(0)}%\n`)
process.stdout.write(`lint overhead vs parseEnr:                   ${(100 * (ours / lint - 1)).toFixed(0)}%\n`)
process.stdout.write(`ratio parseEnr / its noble fallback:          ${(ours / fallback).toFixed(2)}x\n`)
process.stdout.write(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
