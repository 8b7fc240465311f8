import {afterEach, describe, expect, it} from 'vitest'
import WebSocket, {WebSocketServer} from 'ws'

import {ProtocolError, UnreachableError} from '../../../src/lib/errors.js'
import {runNative} from '../../../src/lib/webrtc/native.js'
import {connectSignal} from '../../../src/lib/webrtc/peer.js'
import {SignalClose, startSignalServer, type SignalServer} from '../../../src/lib/webrtc/signal-server.js'

const servers: SignalServer[] = []
const sockets: WebSocket[] = []
const raw: WebSocketServer[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate()
  for (const s of servers.splice(0)) await s.close()
  for (const s of raw.splice(0)) await new Promise((r) => s.close(r))
})

async function server(opts: Partial<Parameters<typeof startSignalServer>[0]> = {}): Promise<SignalServer> {
  const s = await startSignalServer({listen: {host: '127.0.0.1', port: 0}, ...opts})
  servers.push(s)
  return s
}

/** A raw client that records every message and the close code. */
function client(url: string): Promise<{ws: WebSocket; messages: any[]; closed: Promise<{code: number; reason: string}>}> {
  const ws = new WebSocket(url)
  sockets.push(ws)
  const messages: any[] = []
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())))
  const closed = new Promise<{code: number; reason: string}>((r) => ws.on('close', (code, reason) => r({code, reason: reason.toString()})))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ws, messages, closed}))
    ws.once('error', reject)
  })
}

const until = async (f: () => boolean, ms = 3000) => {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('webrtc signal server', () => {
  it('pairs two peers in a room, relays messages both ways, rejects a third', async () => {
    const s = await server()
    const a = await client(`${s.info.url}/room1`)
    await until(() => a.messages.length === 1)
    expect(a.messages[0]).toEqual({type: 'joined', room: 'room1', peers: 1})
    a.ws.send(JSON.stringify({type: 'description', sdpType: 'offer', sdp: 'early'}))
    const b = await client(`${s.info.url}/room1`)
    await until(() => b.messages.some((m) => m.sdp === 'early'))
    expect(b.messages.map((m) => m.type)).toEqual(['joined', 'ready', 'description'])
    await until(() => a.messages.some((m) => m.type === 'ready'))
    b.ws.send(JSON.stringify({type: 'hello'}))
    await until(() => a.messages.some((m) => m.type === 'hello'))
    const c = await client(`${s.info.url}/room1`)
    expect((await c.closed).code).toBe(SignalClose.roomFull)
    b.ws.close()
    await until(() => a.messages.some((m) => m.type === 'peer-left'))
    expect(s.stats.relayed).toBe(2)
  })

  it('refuses bad room names, oversize and binary messages, and closes idle peers', async () => {
    const s = await server({maxMessageBytes: 1024, idleTimeoutMs: 300})
    const bad = await client(`${s.info.url}/bad%20room!`)
    expect((await bad.closed).code).toBe(SignalClose.badRoom)
    const big = await client(`${s.info.url}/r2`)
    big.ws.send('x'.repeat(5000))
    expect((await big.closed).code).toBe(SignalClose.tooBig)
    const bin = await client(`${s.info.url}/r3`)
    bin.ws.send(Buffer.from([1, 2, 3]))
    expect((await bin.closed).code).toBe(SignalClose.badMessage)
    const idle = await client(`${s.info.url}/r4`)
    expect((await idle.closed).code).toBe(SignalClose.idle)
  })

  it('connectSignal turns a junk-sending server into a clear ProtocolError', async () => {
    const junk = new WebSocketServer({host: '127.0.0.1', port: 0})
    raw.push(junk)
    await new Promise((r) => junk.once('listening', r))
    junk.on('connection', (ws) => ws.send('\u0000\u0001 not json at all'))
    const port = (junk.address() as {port: number}).port
    const sig = await connectSignal(`ws://127.0.0.1:${port}`, 'r')
    const err = await sig.waitPeer().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(/not a JSON message object: "\?\? not json/)
  })

  it('connectSignal rejects a peer that sends garbage SDP, and reports an unreachable server', async () => {
    const s = await server()
    const a = await connectSignal(s.info.url, 'sdp')
    const b = await connectSignal(s.info.url, 'sdp')
    await a.waitPeer()
    await b.send({type: 'offer', sdp: 'v=0\r\nthis is not sdp'})
    const err = await a.receive('offer').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(/malformed SDP line/)
    a.close()
    b.close()
    const down = await connectSignal('ws://127.0.0.1:1', 'x').catch((e: unknown) => e)
    expect(down).toBeInstanceOf(UnreachableError)
  })
})

describe('native worker isolation', () => {
  it('a crash of the node-datachannel child becomes a typed error; the caller survives', async () => {
    const err = await runNative(
      {kind: 'gather', runs: [{id: 'x', iceServers: [{hostname: '127.0.0.1', port: 9}], policy: 'all', timeoutMs: 20_000, graceMs: 0}]},
      {timeoutMs: 30_000, what: 'crash test', onSpawn: (child) => setTimeout(() => child.kill('SIGABRT'), 1500)},
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).code).toBe('WEBRTC_WORKER_CRASHED')
    expect((err as Error).message).toMatch(/signal SIGABRT/)
    // The same process can still run native work.
    const ok = await runNative<{runs: {candidates: unknown[]}[]}>(
      {kind: 'gather', runs: [{id: 'y', iceServers: [], policy: 'all', timeoutMs: 5000, graceMs: 50}]},
      {timeoutMs: 30_000, what: 'gather'},
    )
    expect(ok.runs[0]!.candidates.length).toBeGreaterThan(0)
  })
})

describe('native worker fed odd-but-valid SDP', () => {
  it('mutated offers that pass validation never take down the caller (typed result or typed error)', async () => {
    const {runPeer} = await import('../../../src/lib/webrtc/peer.js')
    const {validateSdp} = await import('../../../src/lib/webrtc/sdp.js')
    const {isWakuDiscError} = await import('../../../src/lib/errors.js')
    const base =
      'v=0\r\no=rtc 4036007048 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic:WMS *\r\na=ice-options:ice2,trickle\r\na=fingerprint:sha-256 B1:E5:D7:8A:EF:84:97:B6:3C:21:32:E7:1C:E3:C6:8E:85:A1:B8:22:D5:42:56:1B:F5:AB:10:4A:35:CF:8D:3E\r\nm=application 36386 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.2\r\na=mid:0\r\na=sendrecv\r\na=sctp-port:5000\r\na=max-message-size:262144\r\na=setup:actpass\r\na=ice-ufrag:JeHk\r\na=ice-pwd:0Bqxl5pk7SQHNq/XjZeJM4\r\na=candidate:1 1 UDP 2114977791 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n'
    const mutations: [string, string][] = [
      ['a=candidate:1 1 UDP 2114977791 127.0.0.1 9 typ host', 'a=candidate:1 1 UDP 0 127.0.0.1 9 typ host'],
      ['a=candidate:1 1 UDP 2114977791 127.0.0.1 9 typ host', 'a=candidate:1 9 UDP 4294967295 127.0.0.1 65535 typ relay raddr 1.1.1.1 rport 1'],
      ['a=fingerprint:sha-256 B1:E5', 'a=fingerprint:sha-256 FF:E5'],
      ['a=fingerprint:sha-256 B1:E5:D7:8A:EF:84:97:B6:3C:21:32:E7:1C:E3:C6:8E:85:A1:B8:22:D5:42:56:1B:F5:AB:10:4A:35:CF:8D:3E', 'a=fingerprint:sha-512 AB'],
      ['a=setup:actpass', 'a=setup:bogus'],
      ['a=sctp-port:5000', 'a=sctp-port:99999999'],
      ['a=max-message-size:262144', 'a=max-message-size:-1'],
      ['m=application 36386', 'm=application 0'],
      ['a=mid:0', 'a=mid:' + 'x'.repeat(900)],
    ]
    for (const [from, to] of mutations) {
      const sdp = base.replace(from, to)
      expect(sdp).not.toBe(base)
      validateSdp(sdp) // must pass the pre-check, so that native code really sees it
      const signaller = {
        waitPeer: async () => {},
        send: async () => {},
        receive: async () => ({type: 'offer' as const, sdp}),
        close: () => {},
      }
      const outcome = await runPeer({role: 'answerer', signaller, connectTimeoutMs: 500, gatherTimeoutMs: 1000, bytes: 0, pings: 1}).then(
        (r) => ({ok: true as const, r}),
        (e: unknown) => ({ok: false as const, e}),
      )
      if (outcome.ok) expect(outcome.r.ok).toBe(false)
      else expect(isWakuDiscError(outcome.e), `${to}: ${String(outcome.e)}`).toBe(true)
    }
  }, 120_000)
})
