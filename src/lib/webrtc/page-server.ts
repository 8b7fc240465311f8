/**
 * `webrtc listen --page`: an HTTP server with one page and one WebSocket. A browser that opens the
 * page (URL with a one-run token in the fragment, so it never reaches a server log) gets this run's
 * ICE servers, offers a data channel, and is answered by the native worker exactly as a
 * `webrtc dial` peer would be (runPeer as answerer with the WebSocket as its Signaller). One browser
 * at a time; others are told "busy".
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {fileURLToPath} from 'node:url'

import {WebSocketServer, type WebSocket} from 'ws'

import {abortError, BadInputError, ProtocolError, UnreachableError, WakuDiscError} from '../errors.js'
import type {TurnConfig} from './credentials.js'
import type {IceServerSpec} from './ice.js'
import {buildPageReport, parseBrowserOffer, parseBrowserResult, stripMdnsCandidates, type BrowserOffer, type BrowserResult, type PageReport} from './page-report.js'
import {runPeer, type Signaller} from './peer.js'
import {validateSdp} from './sdp.js'
import type {IcePolicy, LinkMeasurement} from './types.js'

export interface PageServerOptions {
  host?: string
  port?: number
  iceServers: IceServerSpec[]
  turn?: TurnConfig
  policy?: IcePolicy
  bytes?: number
  pings?: number
  connectTimeoutMs?: number
  gatherTimeoutMs?: number
  signal?: AbortSignal
  onProgress?: (text: string) => void
  /** Called with each finished session's report (also when the link failed). */
  onReport?: (report: PageReport) => void
}

export interface PageServer {
  /** The URL to open, token included. */
  url: string
  /** Resolves with the next finished session's report. */
  nextReport(): Promise<PageReport>
  stats: {sessions: number; refused: number}
  close(): Promise<void>
}

const MAX_PAGE_MESSAGE = 128 * 1024

/** The bundled page script: dist/page/webrtc.js after `npm run build`; from the sources, bundled now. */
async function pageScript(): Promise<string> {
  const built = fileURLToPath(new URL('../../page/webrtc.js', import.meta.url))
  if (existsSync(built)) return readFileSync(built, 'utf8')
  const source = fileURLToPath(new URL('../../page/webrtc.ts', import.meta.url))
  if (!existsSync(source)) throw new UnreachableError('PAGE_SCRIPT_MISSING', `the page script is missing (${built}); run \`npm run build\``)
  // Only reached when running from src/ (tests, bin/dev.js), where esbuild is installed with the dev tools.
  const esbuild = await import('esbuild')
  const out = await esbuild.build({entryPoints: [source], bundle: true, write: false, format: 'iife', target: 'es2020', logLevel: 'silent'})
  return out.outputFiles[0]!.text
}

function pageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>waku-disc WebRTC check</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem;max-width:60rem}h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.5rem}
#candidates,#report,#privacy,#servers{font-family:ui-monospace,monospace;white-space:pre-wrap}.ok{color:#0a7d32}.fail{color:#b3261e}
pre{background:#f4f4f4;padding:.8rem;overflow:auto;font-size:12px}</style></head>
<body><h1>waku-disc: WebRTC from this browser</h1>
<p id="status">loading…</p>
<h2>ICE servers</h2><div id="servers"></div>
<h2>Candidates this browser gathered</h2><div id="candidates">–</div>
<h2>Result</h2><div id="report">–</div>
<h2>Who learned what</h2><div id="privacy">–</div>
<h2>Report (JSON, same as the CLI's)</h2><pre id="json"></pre>
<script src="/page.js"></script></body></html>`
}

/** RTCIceServer objects for the browser; TURN credentials go to this run's page only. */
export function browserIceServers(iceServers: IceServerSpec[], turn?: TurnConfig): {urls: string; username?: string; credential?: string}[] {
  return iceServers.map((s) => {
    const host = s.hostname.includes(':') ? `[${s.hostname}]` : s.hostname
    if (!s.relayType) return {urls: `stun:${host}:${s.port}`}
    const url = s.relayType === 'TurnTls' ? `turns:${host}:${s.port}` : `turn:${host}:${s.port}?transport=${s.relayType === 'TurnTcp' ? 'tcp' : 'udp'}`
    return {urls: url, username: s.username ?? turn?.username, credential: s.password ?? turn?.password}
  })
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BadInputError('BAD_PAGE_PORT', '--page-port must be 0..65535')
  const script = await pageScript()
  const html = pageHtml()
  const token = randomBytes(18).toString('base64url')
  const progress = options.onProgress ?? (() => {})
  const stats = {sessions: 0, refused: 0}
  const reports: PageReport[] = []
  const waiters: {resolve: (r: PageReport) => void; reject: (e: Error) => void}[] = []
  let busy = false
  let closedError: WakuDiscError | undefined

  const deliver = (r: PageReport) => {
    options.onReport?.(r)
    const w = waiters.shift()
    if (w) w.resolve(r)
    else reports.push(r)
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    const headers = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // Nothing but our own script and our own WebSocket: the page fetches nothing else.
      'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    }
    if (req.method !== 'GET') {
      res.writeHead(405, headers).end()
    } else if (path === '/') {
      res.writeHead(200, {...headers, 'content-type': 'text/html; charset=utf-8'}).end(html)
    } else if (path === '/page.js') {
      res.writeHead(200, {...headers, 'content-type': 'text/javascript; charset=utf-8'}).end(script)
    } else {
      res.writeHead(404, headers).end()
    }
  })
  const wss = new WebSocketServer({noServer: true, maxPayload: MAX_PAGE_MESSAGE, perMessageDeflate: false})
  let origin = ''
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const given = Buffer.from(url.searchParams.get('t') ?? '')
    const want = Buffer.from(token)
    // The token keeps other local users and web pages out; the Origin check stops a page on
    // another site from driving our WebSocket with a token it somehow learned.
    const okToken = given.length === want.length && timingSafeEqual(given, want)
    const okOrigin = req.headers.origin === undefined || req.headers.origin === `http://${req.headers.host}`
    if (url.pathname !== '/ws' || !okToken || !okOrigin) {
      stats.refused++
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (busy) {
        ws.close(4409, 'busy: another browser is being measured')
        return
      }
      busy = true
      stats.sessions++
      session(ws, req.socket.remoteAddress ?? '')
        .then(deliver)
        .catch((err: unknown) => progress(`page session failed: ${(err as Error).message}`))
        .finally(() => {
          busy = false
        })
    })
  })

  async function session(ws: WebSocket, remote: string): Promise<PageReport> {
    const inbox: Record<string, unknown>[] = []
    let wake: (() => void) | undefined
    let failure: WakuDiscError | undefined
    ws.on('message', (data, isBinary) => {
      let m: unknown
      try {
        m = isBinary ? undefined : JSON.parse(data.toString())
      } catch {
        m = undefined
      }
      if (typeof m !== 'object' || m === null || Array.isArray(m) || typeof (m as {type?: unknown}).type !== 'string') {
        failure ??= new ProtocolError('PAGE_JUNK', 'the page sent something that is not a JSON message object')
        ws.close(4415, 'bad message')
      } else if (inbox.length < 16) inbox.push(m as Record<string, unknown>)
      wake?.()
    })
    ws.on('close', () => {
      failure ??= new UnreachableError('PAGE_CLOSED', 'the browser closed the page before the end')
      wake?.()
    })
    ws.on('error', () => {})
    const receive = async (type: string, timeoutMs: number): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const i = inbox.findIndex((m) => m.type === type)
        if (i >= 0) return inbox.splice(i, 1)[0]!
        if (failure) throw failure
        if (closedError) throw closedError
        const left = deadline - Date.now()
        if (left <= 0) throw new UnreachableError('PAGE_TIMEOUT', `the browser sent no ${type} within ${Math.round(timeoutMs / 1000)} s`)
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 250))
          wake = () => {
            clearTimeout(t)
            r()
          }
        })
      }
    }
    const send = (m: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m))
    const bytes = options.bytes ?? 1024 * 1024
    const connectTimeoutMs = options.connectTimeoutMs ?? 15_000
    const gatherTimeoutMs = options.gatherTimeoutMs ?? 5000
    send({type: 'config', iceServers: browserIceServers(options.iceServers, options.turn), policy: options.policy ?? 'all', pings: options.pings ?? 10, bytes, gatherTimeoutMs, connectTimeoutMs})
    progress(`browser ${remote} opened the page; waiting for its offer…`)
    const offerMsg = await receive('offer', gatherTimeoutMs + 30_000)
    let offer: BrowserOffer
    let stripped: {sdp: string; removed: number}
    try {
      offer = parseBrowserOffer(offerMsg)
      stripped = stripMdnsCandidates(offer.sdp)
      stripped.sdp = validateSdp(stripped.sdp, true).sdp
    } catch (err) {
      send({type: 'error', message: (err as Error).message})
      ws.close(4415, 'bad offer')
      throw err
    }
    progress(`offer from ${offer.userAgent.slice(0, 60)}: ${offer.candidates.length} candidates${stripped.removed ? ` (${stripped.removed} behind mDNS names)` : ''}`)
    let applied = false
    const signaller: Signaller = {
      async waitPeer() {},
      async send(d) {
        send({type: 'answer', sdp: d.sdp})
      },
      async receive() {
        return {type: 'offer', sdp: stripped.sdp}
      },
      applied: {
        tell() {},
        async wait(timeoutMs) {
          try {
            await receive('applied', timeoutMs)
            applied = true
          } catch {
            applied = false
          }
          return applied
        },
      },
      close() {},
    }
    let cli: LinkMeasurement
    try {
      cli = await runPeer({
        role: 'answerer',
        signaller,
        iceServers: options.iceServers,
        policy: options.policy ?? 'all',
        bytes,
        pings: options.pings ?? 10,
        connectTimeoutMs,
        gatherTimeoutMs,
        signal: options.signal,
        onProgress: progress,
      })
    } catch (err) {
      if (!(err instanceof WakuDiscError)) throw err
      cli = {ok: false, reason: err.message, openMs: null, iceConnectedMs: null, rttMs: [], rttMedianMs: null, bytes, throughputMbps: null, transferMs: null, path: 'unknown', logs: []}
    }
    let result: BrowserResult | undefined
    try {
      result = parseBrowserResult(await receive('result', cli.ok ? 70_000 : 10_000))
    } catch (err) {
      progress(`no result from the browser: ${(err as Error).message}`)
    }
    const report = buildPageReport({offer, mdnsHostCandidates: stripped.removed, browserAddress: remote.replace(/^::ffff:/, ''), result, cli, iceServers: options.iceServers, bytes, pageUrl: origin})
    send({type: 'report', report})
    // Give the page a moment to receive the report before the socket goes.
    await new Promise((r) => setTimeout(r, 100))
    ws.close(1000, 'done')
    return report
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL' ? new BadInputError('PAGE_LISTEN', `cannot serve the page on ${host}:${port}: ${err.message}`, {cause: err}) : err),
    )
    server.listen(port, host, () => resolve())
  })
  const bound = server.address() as AddressInfo
  origin = `http://${displayHost(host)}:${bound.port}`
  const onAbort = () => void close()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  async function close(): Promise<void> {
    options.signal?.removeEventListener('abort', onAbort)
    closedError ??= options.signal?.aborted ? abortError(options.signal, 'waiting for a browser') : new UnreachableError('PAGE_CLOSED', 'the page server was stopped')
    for (const w of waiters.splice(0)) w.reject(closedError)
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
  return {
    url: `${origin}/#t=${token}`,
    stats,
    nextReport() {
      const r = reports.shift()
      if (r) return Promise.resolve(r)
      if (closedError) return Promise.reject(closedError)
      return new Promise((resolve, reject) => waiters.push({resolve, reject}))
    },
    close,
  }
}
