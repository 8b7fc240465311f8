/**
 * WebRTC signalling cost: time from `webrtc dial` starting (connecting its signaller) to an open
 * data channel, with the offer/answer over Waku relay (a local 3-node js-waku network, listener on
 * node 1, dialer on node 3) versus the `webrtc signal` WebSocket rendezvous, measured in the same
 * run, one fresh listener and dialer per run (in-process signallers, node-datachannel workers as in
 * the CLI). Median of WEBRTC_SIGNAL_BENCH_RUNS (5) runs; the Waku figure includes waiting for the
 * listener's next announcement (every 2 s), so it is split into its parts.
 */
import {connectSignal, runPeer, type Signaller} from '../src/lib/webrtc/peer.js'
import {startSignalServer} from '../src/lib/webrtc/signal-server.js'
import {startWakuNetwork} from '../src/lib/webrtc/waku-signal/network.js'
import {connectWakuSignal, type WakuSignaller} from '../src/lib/webrtc/waku-signal/signaller.js'

const RUNS = Number(process.env.WEBRTC_SIGNAL_BENCH_RUNS ?? 5)

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a')

interface Timing {
  total: number
  connected: number
  peer: number
  answer: number
}

/** One link: the listener is ready first; the clock starts when the dialer starts its signaller. */
async function link(listener: () => Promise<Signaller>, dialer: () => Promise<Signaller>): Promise<Timing> {
  const l = await listener()
  const served = runPeer({role: 'answerer', signaller: l, bytes: 0, pings: 1})
  const t0 = performance.now()
  const marks: Record<string, number> = {}
  const d = await dialer()
  marks.connected = performance.now() - t0
  const r = await runPeer({
    role: 'offerer',
    signaller: d,
    bytes: 0,
    pings: 1,
    onProgress: (t) => {
      if (t.startsWith('sending our offer')) marks.peer ??= performance.now() - t0
      if (t.startsWith('got the answer')) marks.answer ??= performance.now() - t0
    },
  })
  await served
  if (!r.ok) throw new Error(`link failed: ${r.reason}`)
  // Channel open = when the answer reached the dialer + the worker's time from applying it to "open".
  const total = (marks.answer ?? NaN) + (r.openMs ?? NaN)
  await Promise.all([l, d].map((s) => (s as Partial<WakuSignaller>).closed))
  return {total, connected: marks.connected, peer: marks.peer ?? NaN, answer: marks.answer ?? NaN}
}

async function main(): Promise<void> {
  const ws = await startSignalServer({listen: {host: '127.0.0.1', port: 0}})
  const net = await startWakuNetwork({nodes: 3})
  const wsRuns: Timing[] = []
  const wakuRuns: Timing[] = []
  try {
    for (let i = 0; i < RUNS; i++) {
      const room = `bench${i}`
      wsRuns.push(await link(() => connectSignal(ws.info.url, room), () => connectSignal(ws.info.url, room)))
      let enr = ''
      wakuRuns.push(
        await link(
          async () => {
            const s = await connectWakuSignal({role: 'answerer', node: net.nodes[0]!.multiaddr})
            enr = s.identity!.enr
            return s
          },
          () => connectWakuSignal({role: 'offerer', node: net.nodes[2]!.multiaddr, peer: enr}),
        ),
      )
    }
  } finally {
    await ws.close()
    await net.stop()
  }
  const m = (runs: Timing[], k: keyof Timing) => median(runs.map((r) => r[k]))
  console.log(`dial start → open data channel (${RUNS} runs, median): WebSocket rendezvous ${f(m(wsRuns, 'total'), 1)} ms, Waku relay (3 nodes, 2 hops) ${f(m(wakuRuns, 'total'))} ms (${f(m(wakuRuns, 'total') / m(wsRuns, 'total'), 1)}x)`)
  console.log(
    `  Waku parts (median): connected to the node and in its mesh ${f(m(wakuRuns, 'connected'))} ms, announcement seen and offer gathered ${f(m(wakuRuns, 'peer'))} ms, answer back ${f(m(wakuRuns, 'answer'))} ms (offer and answer: ${f(m(wakuRuns, 'answer') - m(wakuRuns, 'peer'))} ms; announcements every 2 s)`,
  )
  console.log(`  WebSocket parts (median): connected ${f(m(wsRuns, 'connected'), 1)} ms, peer in the room and offer gathered ${f(m(wsRuns, 'peer'), 1)} ms, answer back ${f(m(wsRuns, 'answer'), 1)} ms`)
}

await main()
