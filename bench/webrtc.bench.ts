/**
 * WebRTC figures on this machine: a loopback data channel (time to open, RTT, throughput) and, with
 * coturn started on loopback for the run, the time to a relay candidate and a relay-only channel.
 * Plain lines of figures; ratios compare with the direct channel measured in the same run.
 */
import {runNative} from '../src/lib/webrtc/native.js'
import {pairPeers} from '../src/lib/webrtc/pair.js'
import type {GatherResult} from '../src/lib/webrtc/types.js'
import {commandAvailable, startLoopbackCoturn, TURN_PASSWORD, TURN_USER} from '../test/helpers/natlab.js'
import {fmt, median} from './stats.js'

const RUNS = Number(process.env.WEBRTC_BENCH_RUNS ?? 5)
const BYTES = 16 * 1024 * 1024

const f = fmt

async function main(): Promise<void> {
  const open: number[] = []
  const ice: number[] = []
  const rtt: number[] = []
  const mbps: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = await pairPeers({bytes: BYTES, pings: 20})
    if (!r.ok) throw new Error(`loopback pair failed: ${r.reason}`)
    open.push(r.openMs ?? NaN)
    ice.push(r.iceConnectedMs ?? NaN)
    rtt.push(r.rttMedianMs ?? NaN)
    mbps.push(r.throughputMbps ?? NaN)
  }
  console.log(`direct loopback data channel (${RUNS} runs, median): open ${f(median(open), 1)} ms (ICE connected ${f(median(ice), 1)} ms; the rest is DTLS+SCTP), RTT ${f(median(rtt), 3)} ms, throughput ${f(median(mbps), 1)} Mbit/s (${BYTES} bytes)`)

  if (!commandAvailable('turnserver')) {
    console.log('coturn (turnserver) not installed: relay figures skipped')
    return
  }
  const coturn = await startLoopbackCoturn()
  try {
    const turn = {hostname: '127.0.0.1', port: coturn.port, username: TURN_USER, password: TURN_PASSWORD, relayType: 'TurnUdp' as const}
    const relayMs: number[] = []
    const completeMs: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const g = await runNative<{runs: GatherResult[]}>(
        {kind: 'gather', runs: [{id: 't', iceServers: [turn], policy: 'relay', timeoutMs: 5000, graceMs: 0}]},
        {timeoutMs: 30_000, what: 'bench gather'},
      )
      const run = g.runs[0]!
      if (run.firstRelayMs === null) throw new Error(`no relay candidate: ${run.logs.join(' | ')}`)
      relayMs.push(run.firstRelayMs)
      completeMs.push(run.completeMs ?? NaN)
    }
    console.log(`time to a relay candidate through coturn (${RUNS} runs, median): ${f(median(relayMs), 1)} ms (gathering complete ${f(median(completeMs), 1)} ms)`)
    const ropen: number[] = []
    const rrtt: number[] = []
    const rmbps: number[] = []
    const paths: string[] = []
    for (let i = 0; i < RUNS; i++) {
      const r = await pairPeers({bytes: BYTES / 4, pings: 20, relayOnly: true, iceServers: [turn]})
      if (!r.ok) throw new Error(`relay-only pair failed: ${r.reason}`)
      ropen.push(r.openMs ?? NaN)
      rrtt.push(r.rttMedianMs ?? NaN)
      rmbps.push(r.throughputMbps ?? NaN)
      paths.push(r.path)
    }
    console.log(
      `relay-only data channel via coturn (${RUNS} runs, median): open ${f(median(ropen), 1)} ms, RTT ${f(median(rrtt), 3)} ms, throughput ${f(median(rmbps), 1)} Mbit/s; selected path: ${[...new Set(paths)].join('/')}`,
    )
    console.log(
      `ratios relay-only / direct: open ${f(median(ropen) / median(open))}x, RTT ${f(median(rrtt) / median(rtt))}x, throughput ${f(median(rmbps) / median(mbps))}x`,
    )
  } finally {
    coturn.stop()
  }
}

await main()
