/**
 * Reachability (npm run bench -- nat), in the namespace labs the tests use (root needed):
 *   1. `nat portmap` with UPnP IGD, NAT-PMP and PCP on (miniupnpd): time to a complete report,
 *      against Debian's miniupnpc (`upnpc -e -a` then `-d`) and natpmpc (`-a`, then lifetime 0),
 *      measured in the same run from the same namespace;
 *   2. `nat reach --attempts 20` through a circuit relay v2 per NAT pairing, by DCUtR (TCP) and by
 *      WebRTC (ICE over UDP, signalled through the relay, STUN from `stun serve`): upgrade rate and time
 *      to the direct connection, printed next to punchr's published field figure (~70% ± 7% over
 *      4.4M attempts, go-libp2p with TCP/QUIC) — ours is a lab figure of js-libp2p over TCP.
 */



import {createPortMapLab, GW_LAN, IN_IP} from '../test/helpers/portmap-lab.js'
import {createPunchLab, RELAY_IP} from '../test/helpers/punch-lab.js'


const ROUNDS = Number(process.env.NAT_BENCH_ROUNDS ?? 10)
const ATTEMPTS = Number(process.env.NAT_BENCH_ATTEMPTS ?? 20)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN
}

if (process.getuid?.() !== 0) {
  console.log('nat bench skipped: the namespace labs need root')
  process.exit(0)
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function portmapRound(): Promise<void> {
  const lab = await createPortMapLab({upnp: true, natpmp: true, pcp: true})
  try {
    const inner: number[] = []
    const wall: number[] = []
    const peers: number[] = []
    let mappedAll = 0
    for (let i = 0; i < ROUNDS; i++) {
      const port = 20_000 + i
      const t0 = performance.now()
      const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--port', String(port), '--json'])
      wall.push(performance.now() - t0)
      const report = JSON.parse(r.stdout)
      inner.push(report.ms)
      if (['upnp', 'natpmp', 'pcp'].every((p) => report.protocols[p].mapping?.removed === true)) mappedAll++
      // The same job with the reference clients: UPnP add + delete, NAT-PMP add + delete (no PCP client exists).
      peers.push(
        await timed(async () => {
          await lab.sh(lab.ns.in, 'upnpc', '-e', 'bench', '-a', IN_IP, String(port + 100), String(port + 100), 'UDP', '120')
          await lab.sh(lab.ns.in, 'upnpc', '-d', String(port + 100), 'UDP')
          await lab.sh(lab.ns.in, 'natpmpc', '-g', GW_LAN, '-a', String(port + 200), String(port + 200), 'udp', '120')
          await lab.sh(lab.ns.in, 'natpmpc', '-g', GW_LAN, '-a', String(port + 200), '0', 'udp', '0')
        }),
      )
    }
    console.log(`nat portmap (UPnP + NAT-PMP + PCP, map, read back, remove), ${ROUNDS} rounds: ${mappedAll}/${ROUNDS} with all three mapped`)
    console.log(`  report (library) median ${median(inner).toFixed(0)} ms; whole CLI process median ${median(wall).toFixed(0)} ms`)
    console.log(`  miniupnpc + natpmpc (UPnP + NAT-PMP add and delete, 4 processes) median ${median(peers).toFixed(0)} ms`)
    console.log(`  ratio: reference clients / our report = ${(median(peers) / median(inner)).toFixed(2)}× (ours also does PCP and the read-backs); per-process: ${(median(peers) / median(wall)).toFixed(2)}×`)
  } finally {
    lab.destroySync()
  }
}

async function punchRound(): Promise<void> {
  const lab = await createPunchLab()
  try {
    await lab.startCliIn(lab.ns.pub, ['stun', 'serve', '--listen', `${RELAY_IP}:3478`], /\S/)
    const relay = (await lab.startCliIn(lab.ns.pub, ['nat', 'relay', '--listen', `/ip4/${RELAY_IP}/tcp/4001`], /relay: (\S+)/)).match[1]!
    const stun = `stun:${RELAY_IP}:3478`
    const target = (await lab.startCliIn(lab.ns.b, ['nat', 'listen', '--relay', relay, '--webrtc', '--stun', stun], /listening: (\S+)/)).match[1]!
    const webrtc = ['--transport', 'webrtc', '--stun', stun]
    const pairings: Array<[string, string, string[], 'eim' | 'sym']> = [
      ['DCUtR public → EIM NAT', lab.ns.pub, ['--listen', `/ip4/${RELAY_IP}/tcp/4101`], 'eim'],
      ['DCUtR EIM NAT → EIM NAT', lab.ns.a, [], 'eim'],
      ['DCUtR sym NAT → EIM NAT', lab.ns.a, [], 'sym'],
      ['WebRTC EIM NAT → EIM NAT', lab.ns.a, webrtc, 'eim'],
      ['WebRTC sym NAT → EIM NAT', lab.ns.a, webrtc, 'sym'],
    ]
    console.log(`\nnat reach through a circuit relay v2, ${ATTEMPTS} attempts per pairing (lab figure; punchr field figure: ~70% ± 7%, go-libp2p)`)
    for (const [label, ns, extra, mode] of pairings) {
      await lab.setNat('A', mode)
      const r = await lab.runCliIn(ns, ['nat', 'reach', target, ...extra, '--attempts', String(ATTEMPTS), '--attempt-timeout', extra.includes('webrtc') ? '8000' : '3000', '--json'], {timeoutMs: 900_000})
      const report = JSON.parse(r.stdout)
      const attempts = report.attempts as Array<{outcome: string; relayedMs?: number; directMs?: number}>
      const upgraded = attempts.filter((a) => a.outcome === 'SUCCESS' || a.outcome === 'CONNECTION_REVERSED')
      console.log(
        `  ${label.padEnd(27)} upgraded ${upgraded.length}/${attempts.length} (${((100 * upgraded.length) / attempts.length).toFixed(0)}%)  outcomes ${JSON.stringify(report.outcomes)}  relayed median ${median(attempts.map((a) => a.relayedMs ?? Number.NaN).filter(Number.isFinite)).toFixed(0)} ms${upgraded.length ? `  direct after median ${median(upgraded.map((a) => a.directMs!)).toFixed(0)} ms` : ''}`,
      )
    }
  } finally {
    lab.destroySync()
  }
}

await portmapRound()
await punchRound()
process.exit(0)
