/**
 * ENR decode throughput on 10,000 real-shaped Waku records (distinct keys, waku2, dns4/dns6 wss
 * multiaddrs, rs shards, ip/tcp/udp), signature verification included, next to @waku/enr's
 * EnrDecoder.fromString on the same input in the same process. Prints records/s and the ratio.
 */
import {EnrDecoder} from '@waku/enr'

import {decodeEnr, encodeEnr, lintEnr, parseEnr, type WakuCapability} from '../src/lib/enr/index.js'
import {generatePrivateKey} from '../src/lib/keys/index.js'

const COUNT = Number(process.env.ENR_BENCH_COUNT ?? 10_000)
const ROUNDS = 3

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

async function measure(name: string, records: string[], fn: (text: string) => unknown): Promise<number> {
  let best = Infinity
  for (let round = 0; round < ROUNDS; round++) {
    ;(globalThis as {gc?: () => void}).gc?.()
    const started = performance.now()
    for (const r of records) await fn(r)
    best = Math.min(best, performance.now() - started)
  }
  const perSecond = records.length / (best / 1000)
  process.stdout.write(`${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(9)} records/s  (${(best / records.length * 1000).toFixed(1)} µs/record, best of ${ROUNDS})\n`)
  return perSecond
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
  await EnrDecoder.fromString(r)
}

const theirs = await measure('@waku/enr EnrDecoder.fromString (verifies)', records, (t) => EnrDecoder.fromString(t))
const ours = await measure('waku-disc parseEnr (strict, verifies)', records, (t) => parseEnr(t))
const full = await measure('waku-disc parseEnr + decodeEnr (all fields)', records, (t) => decodeEnr(parseEnr(t)))
const noSig = await measure('waku-disc parseEnr, no signature check', records, (t) => parseEnr(t, {verifySignature: false}))
const lint = await measure('waku-disc parseEnr + lintEnr', records, (t) => lintEnr(parseEnr(t)))

process.stdout.write(`ratio parseEnr / @waku/enr:                  ${(ours / theirs).toFixed(2)}x\n`)
process.stdout.write(`ratio parseEnr+decodeEnr / @waku/enr:        ${(full / theirs).toFixed(2)}x\n`)
process.stdout.write(`signature share of parseEnr time:            ${(100 * (1 - ours / noSig)).toFixed(0)}%\n`)
process.stdout.write(`lint overhead vs parseEnr:                   ${(100 * (ours / lint - 1)).toFixed(0)}%\n`)
