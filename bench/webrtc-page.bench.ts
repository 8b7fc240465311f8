/**
 * Browser ↔ CLI data channel (`webrtc listen --page` with Debian's headless Chromium on this
 * machine) against node-datachannel ↔ node-datachannel (`webrtc pair`), same bytes and pings, in the
 * same run: time to open, RTT, throughput. Host candidates only (no STUN/TURN), like the tests.
 */
import {pairPeers} from '../src/lib/webrtc/pair.js'
import {startPageServer} from '../src/lib/webrtc/page-server.js'
import {chromiumMissingReason, launchChromium} from '../test/helpers/chromium.js'
import {fmt, median} from './stats.js'

const RUNS = Number(process.env.WEBRTC_BENCH_RUNS ?? 5)
const BYTES = 8 * 1024 * 1024
const PINGS = 20

const f = fmt

async function main(): Promise<void> {
  const missing = chromiumMissingReason()
  if (missing) {
    console.log(`browser figures skipped: ${missing}`)
    return
  }
  const browser = await launchChromium({args: ['--disable-features=WebRtcHideLocalIpsWithMdns']})
  const b = {open: [] as number[], rtt: [] as number[], mbps: [] as number[], page: [] as number[]}
  try {
    for (let i = 0; i < RUNS; i++) {
      const server = await startPageServer({iceServers: [], bytes: BYTES, pings: PINGS})
      try {
        const t0 = performance.now()
        const page = await browser.newPage()
        await page.goto(server.url)
        const report = await server.nextReport()
        b.page.push(performance.now() - t0)
        await page.close()
        if (!report.ok) throw new Error(`browser session failed: ${report.reason}`)
        b.open.push(report.openMs ?? NaN)
        b.rtt.push(report.rttMedianMs ?? NaN)
        b.mbps.push(report.throughputMbps ?? NaN)
      } finally {
        await server.close()
      }
    }
  } finally {
    await browser.close()
  }
  const n = {open: [] as number[], rtt: [] as number[], mbps: [] as number[]}
  for (let i = 0; i < RUNS; i++) {
    const r = await pairPeers({bytes: BYTES, pings: PINGS})
    if (!r.ok) throw new Error(`node-datachannel pair failed: ${r.reason}`)
    n.open.push(r.openMs ?? NaN)
    n.rtt.push(r.rttMedianMs ?? NaN)
    n.mbps.push(r.throughputMbps ?? NaN)
  }
  console.log(
    `Chromium ↔ CLI (${RUNS} sessions, median): page opened to report ${f(median(b.page), 0)} ms; channel open ${f(median(b.open), 1)} ms after applying the answer, RTT ${f(median(b.rtt), 3)} ms, throughput ${f(median(b.mbps), 1)} Mbit/s (${BYTES} bytes, ${PINGS} pings)`,
  )
  console.log(`node-datachannel ↔ node-datachannel (${RUNS} pairs, median): open ${f(median(n.open), 1)} ms from PeerConnection creation (gathering included), RTT ${f(median(n.rtt), 3)} ms, throughput ${f(median(n.mbps), 1)} Mbit/s`)
  console.log(`ratios browser / node-datachannel (open times have different starts, see above): open ${f(median(b.open) / median(n.open))}x, RTT ${f(median(b.rtt) / median(n.rtt))}x, throughput ${f(median(b.mbps) / median(n.mbps))}x`)
}

await main()
