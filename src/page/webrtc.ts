/**
 * The browser end of `webrtc listen --page`: bundled by esbuild (scripts/build-page.mjs) into one
 * script the CLI serves itself, so nothing is fetched from anywhere else. It asks the CLI for the
 * run's ICE servers over a WebSocket, gathers candidates with the browser's own ICE agent, offers a
 * data channel, and then plays the dialer's half of the link protocol the native worker speaks
 * (ping/pong, bulk bytes, report swap). That protocol is the same module the worker runs
 * (src/lib/webrtc/worker/link-protocol.ts: no Node or node-datachannel in it), so the CLI answers
 * it with the same code that answers `webrtc dial`. Untrusted strings are only ever set as textContent.
 */
import {dial, LinkInbox, median, type LinkChannel} from '../lib/webrtc/worker/link-protocol.js'

interface PageConfig {
  type: 'config'
  iceServers: RTCIceServer[]
  policy: RTCIceTransportPolicy
  pings: number
  bytes: number
  gatherTimeoutMs: number
  connectTimeoutMs: number
}

interface PageCandidate {
  type: string
  protocol: string
  address: string
  port: number
  relatedAddress?: string
  relatedPort?: number
  url?: string
  atMs: number
}

interface PairEnd {
  type: string
  address: string
  port: number
  transport: string
}

const $ = (id: string) => document.getElementById(id)!

function line(parent: HTMLElement, text: string, cls?: string): HTMLElement {
  const el = document.createElement('div')
  el.textContent = text
  if (cls) el.className = cls
  parent.appendChild(el)
  return el
}

function status(text: string, cls = ''): void {
  const el = $('status')
  el.textContent = text
  el.className = cls
}

function parseCandidate(text: string): Omit<PageCandidate, 'atMs' | 'url'> | undefined {
  const m = /candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)(.*)$/.exec(text)
  if (!m) return undefined
  const c: Omit<PageCandidate, 'atMs' | 'url'> = {protocol: m[1]!.toLowerCase(), address: m[2]!, port: Number(m[3]), type: m[4]!}
  const ext = m[5]!.trim().split(' ')
  for (let i = 0; i + 1 < ext.length; i += 2) {
    if (ext[i] === 'raddr') c.relatedAddress = ext[i + 1]
    if (ext[i] === 'rport') c.relatedPort = Number(ext[i + 1])
  }
  return c
}

function showCandidates(cands: PageCandidate[]): void {
  const box = $('candidates')
  box.textContent = ''
  for (const type of ['host', 'srflx', 'prflx', 'relay']) {
    const xs = cands.filter((c) => c.type === type)
    line(box, `${type.padEnd(6)} ${xs.length ? xs.map((c) => `${c.address}:${c.port}/${c.protocol}`).join(', ') : 'none'}`)
  }
}

/** The selected pair as the browser's ICE agent reports it (Chromium: transport stats; Firefox: `selected`). */
async function selectedPair(pc: RTCPeerConnection): Promise<{local: PairEnd; remote: PairEnd; rttMs: number | null} | null> {
  const stats = await pc.getStats()
  let pair: any
  stats.forEach((s: any) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId)
  })
  if (!pair) {
    stats.forEach((s: any) => {
      if (s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair ??= s
    })
  }
  if (!pair) return null
  const end = (id: string): PairEnd | undefined => {
    const c: any = stats.get(id)
    if (!c) return undefined
    return {type: String(c.candidateType), address: String(c.address ?? c.ip ?? ''), port: Number(c.port), transport: String(c.protocol ?? '')}
  }
  const local = end(pair.localCandidateId)
  const remote = end(pair.remoteCandidateId)
  if (!local || !remote) return null
  return {local, remote, rttMs: typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1e4) / 10 : null}
}

/** The page's own end of the link, as it reports it to the CLI after the measurements. */
interface PageSide {
  role: 'offerer'
  selectedPair: {local: PairEnd; remote: PairEnd} | null
  iceRttMs: number | null
  dtlsRole: 'client' | 'server' | null
  localCandidates: PairEnd[]
  remoteCandidates: number
}

async function pageSide(pc: RTCPeerConnection, candidates: PageCandidate[]): Promise<PageSide> {
  const pair = await selectedPair(pc)
  const setup = /a=setup:(\w+)/.exec(pc.localDescription?.sdp ?? '')?.[1]
  const remoteSetup = /a=setup:(\w+)/.exec(pc.remoteDescription?.sdp ?? '')?.[1]
  const dtlsRole = setup === 'active' || (setup === 'actpass' && remoteSetup === 'passive') ? 'client' : setup ? 'server' : null
  return {
    role: 'offerer',
    selectedPair: pair ? {local: pair.local, remote: pair.remote} : null,
    iceRttMs: pair?.rttMs ?? null,
    dtlsRole,
    localCandidates: candidates.slice(0, 20).map((c) => ({type: c.type, address: c.address, port: c.port, transport: c.protocol})),
    remoteCandidates: (pc.remoteDescription?.sdp.match(/a=candidate:/g) ?? []).length,
  }
}

/** An RTCDataChannel as the link protocol's channel. */
function linkChannel(dc: RTCDataChannel): LinkChannel {
  return {
    sendText: (text) => dc.send(text),
    sendBinary: (bytes) => dc.send(bytes),
    bufferedAmount: () => dc.bufferedAmount,
    setBufferedAmountLowThreshold: (bytes) => (dc.bufferedAmountLowThreshold = bytes),
    onBufferedAmountLow: (cb) => (dc.onbufferedamountlow = cb),
  }
}

async function run(): Promise<void> {
  const token = new URLSearchParams(location.hash.slice(1)).get('t') ?? ''
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?t=${encodeURIComponent(token)}`)
  const messages: any[] = []
  let wakeWs: (() => void) | undefined
  let closed: string | undefined
  ws.onmessage = (ev) => {
    try {
      messages.push(JSON.parse(String(ev.data)))
    } catch {
      /* the CLI only sends JSON */
    }
    wakeWs?.()
  }
  ws.onclose = (ev) => {
    closed = `the CLI closed the connection (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`
    wakeWs?.()
  }
  const receive = async (type: string, timeoutMs: number): Promise<any> => {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const i = messages.findIndex((m) => m?.type === type || m?.type === 'error')
      if (i >= 0) {
        const m = messages.splice(i, 1)[0]
        if (m.type === 'error') throw new Error(String(m.message))
        return m
      }
      if (closed) throw new Error(closed)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`no ${type} from the CLI within ${Math.round(timeoutMs / 1000)} s`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100))
        wakeWs = () => {
          clearTimeout(t)
          r()
        }
      })
    }
  }
  const send = (m: unknown) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m))

  status('connecting to the CLI…')
  const config = (await receive('config', 15_000)) as PageConfig
  line($('servers'), config.iceServers.length ? config.iceServers.map((s) => String(s.urls)).join(', ') : 'none (host candidates only)')

  const t0 = performance.now()
  const pc = new RTCPeerConnection({iceServers: config.iceServers, iceTransportPolicy: config.policy})
  const candidates: PageCandidate[] = []
  const iceErrors: {url: string; errorCode: number; errorText: string}[] = []
  let gatherMs: number | null = null
  pc.onicecandidate = (ev) => {
    if (!ev.candidate) {
      gatherMs ??= Math.round(performance.now() - t0)
      return
    }
    const c = parseCandidate(ev.candidate.candidate)
    if (!c) return
    // RTCPeerConnectionIceEvent.url names the STUN/TURN server a srflx/relay candidate came from (Chromium).
    const url = (ev as RTCPeerConnectionIceEvent & {url?: string | null}).url ?? undefined
    candidates.push({...c, ...(url ? {url} : {}), atMs: Math.round(performance.now() - t0)})
    showCandidates(candidates)
  }
  pc.onicecandidateerror = (ev) => {
    const e = ev as RTCPeerConnectionIceErrorEvent
    if (iceErrors.length < 20) iceErrors.push({url: String(e.url ?? ''), errorCode: e.errorCode, errorText: String(e.errorText ?? '')})
  }
  const dc = pc.createDataChannel('probe')
  dc.binaryType = 'arraybuffer'
  const inbox = new LinkInbox()
  dc.onmessage = (ev) => (typeof ev.data === 'string' ? inbox.text(ev.data) : inbox.binary((ev.data as ArrayBuffer).byteLength))
  let openAt: number | undefined
  const opened = new Promise<void>((resolve) => {
    dc.onopen = () => {
      openAt = performance.now()
      resolve()
    }
  })

  status('gathering candidates…')
  await pc.setLocalDescription(await pc.createOffer())
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve()
    const t = setTimeout(resolve, config.gatherTimeoutMs)
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') {
        gatherMs ??= Math.round(performance.now() - t0)
        clearTimeout(t)
        resolve()
      }
    }
  })
  send({type: 'offer', sdp: pc.localDescription!.sdp, userAgent: navigator.userAgent, candidates, iceErrors, gatherMs})

  status('waiting for the CLI’s answer…')
  const answer = await receive('answer', 30_000)
  const connectStart = performance.now()
  await pc.setRemoteDescription({type: 'answer', sdp: String(answer.sdp)})
  send({type: 'applied'})

  status('connecting…')
  const failed = new Promise<never>((_, reject) => {
    pc.onconnectionstatechange = () => pc.connectionState === 'failed' && reject(new Error('ICE failed: no candidate pair worked'))
  })
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no connection within ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs))
  let result: Record<string, unknown>
  try {
    await Promise.race([opened, failed, timeout])
    const openMs = Math.round((openAt! - connectStart) * 10) / 10
    status('measuring…')
    let side: PageSide | undefined
    // The CLI's report comes back too; the page shows the CLI's final report instead.
    const {rtts, transferMs} = await dial(linkChannel(dc), inbox, {
      pings: config.pings,
      bytes: config.bytes,
      peerName: 'the CLI',
      ownReport: async () => (side = await pageSide(pc, candidates)),
    })
    result = {
      type: 'result',
      ok: true,
      openMs,
      rttMs: rtts,
      rttMedianMs: median(rtts),
      transferMs: transferMs === null ? null : Math.round(transferMs * 10) / 10,
      throughputMbps: transferMs ? Math.round(((config.bytes * 8) / (transferMs / 1000) / 1e6) * 100) / 100 : null,
      selectedPair: side!.selectedPair,
      candidates,
      iceErrors,
    }
  } catch (err) {
    result = {type: 'result', ok: false, reason: (err as Error).message, candidates, iceErrors, selectedPair: null}
  }
  send(result)
  status('waiting for the report…')
  const {report} = await receive('report', 30_000)
  pc.close()
  showReport(report)
}

function showReport(report: any): void {
  const ok = report?.ok === true
  status(ok ? `connected: ${report.path} path` : `no connection: ${String(report?.reason ?? 'unknown')}`, ok ? 'ok' : 'fail')
  const box = $('report')
  box.textContent = ''
  const b = report?.browser ?? {}
  line(box, `verdict: ${String(b.verdict ?? '–')} — ${String(b.verdictReason ?? '')}`)
  line(box, `mapping: ${b.mapping?.endpointIndependent === true ? 'endpoint-independent' : b.mapping?.endpointIndependent === false ? 'endpoint-dependent (symmetric)' : 'unknown'} (${String(b.mapping?.basis ?? '')})`)
  const sp = report?.selectedPair
  if (sp) line(box, `selected pair: ${sp.local.type} ${sp.local.address}:${sp.local.port} ⇄ ${sp.remote.type} ${sp.remote.address}:${sp.remote.port}`)
  line(box, `open ${report?.openMs ?? '–'} ms, RTT median ${report?.rttMedianMs ?? '–'} ms, throughput ${report?.throughputMbps ?? '–'} Mbit/s`)
  const priv = $('privacy')
  priv.textContent = ''
  for (const o of report?.privacy ?? []) line(priv, `${String(o.role)} ${String(o.server)}: ${(o.learned ?? []).map(String).join('; ')}`)
  $('json').textContent = JSON.stringify(report, null, 2)
  document.body.dataset.done = ok ? 'ok' : 'fail'
}

run().catch((err: unknown) => {
  status(`error: ${(err as Error)?.message ?? String(err)}`, 'fail')
  document.body.dataset.done = 'error'
})
