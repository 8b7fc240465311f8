import WebSocket from 'ws'

import {abortError, BadInputError, ExitCode, ProtocolError, UnreachableError, WakuDiscError} from '../errors.js'
import type {IceServerSpec} from './ice.js'
import {runNative} from './native.js'
import {decodeCompactDescription, encodeCompactDescription, validateSdp, type SessionDescription} from './sdp.js'
import {ROOM_PATTERN} from './signal-server.js'
import {describeIceServer} from './pair.js'
import {linkPrivacy, sdpAddresses, type PrivacyObserver} from './privacy.js'
import type {IcePolicy, LinkMeasurement, LinkSide} from './types.js'

/** How a peer swaps its offer/answer with the other side. */
export interface Signaller {
  /** Resolves when the other peer is present (the dialer waits for this before offering). */
  waitPeer(): Promise<void>
  send(d: SessionDescription): Promise<void>
  receive(type: 'offer' | 'answer'): Promise<SessionDescription>
  /**
   * Offerer: tell the answerer our side has applied its answer. Answerer: resolves true when told so
   * (false after timeoutMs). Absent on signallers without a way back (copy-and-paste).
   */
  applied?: {tell(): void; wait(timeoutMs: number): Promise<boolean>}
  /** What the signalling path's servers learned (for the report's privacy section). */
  observers?(): PrivacyObserver[]
  close(): void
}

/** How long a listener holds the offer's candidates for the dialer's "applied" (see holdCandidates in worker/offer.ts). */
export const HOLD_CANDIDATES_MS = 3000

export const MAX_SIGNAL_MESSAGE = 64 * 1024

/** WebSocket signalling through `webrtc signal`: `ws://HOST:PORT/<room>`. */
export async function connectSignal(url: string, room: string, options: {signal?: AbortSignal; timeoutMs?: number} = {}): Promise<Signaller> {
  if (!/^wss?:\/\/[^\s/]+\/?$/.test(url)) throw new BadInputError('BAD_SIGNAL_URL', `--signal must look like ws://HOST:PORT, got "${url.slice(0, 80)}"`)
  if (!ROOM_PATTERN.test(room)) throw new BadInputError('BAD_ROOM', '--room must be 1-64 characters of [A-Za-z0-9_.-]')
  const target = `${url.replace(/\/$/, '')}/${room}`
  const ws = new WebSocket(target, {maxPayload: MAX_SIGNAL_MESSAGE, perMessageDeflate: false, handshakeTimeout: options.timeoutMs ?? 10_000})
  const queue: Record<string, unknown>[] = []
  let failure: WakuDiscError | undefined
  let ready = false
  let applied = false
  let wake: (() => void) | undefined
  const notify = () => wake?.()
  ws.on('message', (data, isBinary) => {
    if (failure) return
    const text = data.toString()
    let obj: unknown
    try {
      obj = isBinary ? undefined : JSON.parse(text)
    } catch {
      obj = undefined
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || typeof (obj as {type?: unknown}).type !== 'string') {
      failure = new ProtocolError('SIGNAL_JUNK', `the signalling server sent something that is not a JSON message object: "${text.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}"`)
      ws.terminate()
    } else {
      const m = obj as {type: string}
      if (m.type === 'ready') ready = true
      else if (m.type === 'applied') applied = true
      else if (m.type === 'peer-left' && !failure) {
        // Only fatal while we still wait for something from the peer; handled by receive().
        queue.push(m)
      } else if (queue.length < 32) queue.push(m)
    }
    notify()
  })
  ws.on('close', (code, reason) => {
    if (!failure) failure = new UnreachableError('SIGNAL_CLOSED', `the signalling server closed the connection (${code}${reason.length ? ` ${reason.toString().slice(0, 100)}` : ''})`)
    notify()
  })
  ws.on('error', (err) => {
    if (!failure) failure = new UnreachableError('SIGNAL_UNREACHABLE', `cannot reach the signalling server ${target}: ${err.message}`, {cause: err})
    notify()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('close', () => reject(failure))
    ws.once('error', () => reject(failure))
  })
  const until = async (cond: () => boolean, what: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      if (failure) throw failure
      if (options.signal?.aborted) throw abortError(options.signal, what)
      const left = deadline - Date.now()
      if (left <= 0) throw new UnreachableError('SIGNAL_TIMEOUT', `${what}: nothing within ${Math.round(timeoutMs / 1000)} s`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 250))
        wake = () => {
          clearTimeout(t)
          r()
        }
      })
    }
  }
  return {
    async waitPeer() {
      await until(() => ready, 'waiting for the other peer in the room', 10 * 60_000)
    },
    async send(d) {
      if (failure) throw failure
      ws.send(JSON.stringify({type: 'description', sdpType: d.type, sdp: d.sdp}))
    },
    async receive(type) {
      let got: SessionDescription | undefined
      await until(
        () => {
          const i = queue.findIndex((m) => m.type === 'description' || m.type === 'peer-left')
          if (i < 0) return false
          const m = queue.splice(i, 1)[0]!
          if (m.type === 'peer-left') {
            failure = new UnreachableError('SIGNAL_PEER_LEFT', 'the other peer left the room before answering')
            return false
          }
          if (m.sdpType !== type) {
            failure = new ProtocolError('SIGNAL_UNEXPECTED', `expected an ${type} from the peer, got ${JSON.stringify(m.sdpType).slice(0, 20)}`)
            return false
          }
          got = {type, sdp: validateSdp(m.sdp, true).sdp}
          return true
        },
        `waiting for the peer's ${type}`,
        10 * 60_000,
      ).catch((err: unknown) => {
        throw err
      })
      return got!
    },
    applied: {
      tell() {
        if (!failure) ws.send(JSON.stringify({type: 'applied'}))
      },
      async wait(timeoutMs) {
        return until(() => applied, 'waiting for the dialer to apply our answer', timeoutMs).then(
          () => true,
          () => false,
        )
      },
    },
    observers() {
      return [
        {
          server: target,
          role: 'signalling' as const,
          sawAddresses: [],
          sawBothPeers: true,
          carriedData: false,
          learned: ['both descriptions in plain text: every candidate of both peers, host (LAN) addresses included', 'both peers\' IP addresses (their WebSocket connections), the room name and when each joined'],
        },
      ]
    },
    close() {
      ws.close()
    },
  }
}

/** Copy-and-paste signalling: our description is shown as one `wdc1.` line; theirs is read back. */
export function manualSignaller(show: (code: string, d: SessionDescription) => void, read: () => Promise<string>): Signaller {
  return {
    async waitPeer() {},
    async send(d) {
      show(encodeCompactDescription(d), d)
    },
    async receive(type) {
      const d = decodeCompactDescription(await read())
      if (d.type !== type) throw new BadInputError('BAD_COMPACT', `pasted an ${d.type}, but an ${type} is needed here`)
      return d
    },
    observers() {
      return [{server: 'copy and paste', role: 'manual' as const, sawAddresses: [], sawBothPeers: true, carriedData: false, learned: ['whatever carried the pasted lines (chat, e-mail) saw both descriptions: every candidate of both peers, host addresses included']}]
    },
    close() {},
  }
}

export interface PeerOptions {
  role: 'offerer' | 'answerer'
  signaller: Signaller
  room?: string
  iceServers?: IceServerSpec[]
  policy?: IcePolicy
  bytes?: number
  pings?: number
  connectTimeoutMs?: number
  gatherTimeoutMs?: number
  signal?: AbortSignal
  onProgress?: (text: string) => void
}

export interface PeerReport extends LinkMeasurement {
  role: 'offerer' | 'answerer'
  room?: string
  iceServers: string[]
  privacy: PrivacyObserver[]
  /** 0 when the channel opened and the measurements finished, else 3. */
  exitCode: 0 | 3
}

/** Who learned what on a two-machine link, from what both ends reported (the peer's servers are not known). */
export function peerPrivacy(result: LinkMeasurement, role: 'offerer' | 'answerer', iceServers: IceServerSpec[], signalling: PrivacyObserver[]): PrivacyObserver[] {
  const own: LinkSide | undefined = role === 'offerer' ? result.offerer : result.answerer
  const other: LinkSide | undefined = role === 'offerer' ? result.answerer : result.offerer
  const local = {label: 'you', candidates: own?.localCandidates ?? [], servers: iceServers.map(describeIceServer)}
  const remote = other ? {label: 'the peer', candidates: other.localCandidates} : undefined
  const sig = signalling.map((o) => (o.sawAddresses.length || o.role === 'waku-node' || o.role === 'waku-subscribers' ? o : {...o, sawAddresses: sdpAddresses(local)}))
  return linkPrivacy({local, remote, selectedPair: own?.selectedPair ?? null, signalling: sig})
}

/**
 * One end of a two-machine probe (`webrtc dial` = offerer, `webrtc listen` = answerer): swaps
 * complete descriptions (no trickle: candidates ride in the SDP after gathering) through the
 * signaller, then the dialer measures RTT and throughput and both ends swap their selected pairs,
 * so each report shows what both ends saw.
 */
export async function runPeer(options: PeerOptions): Promise<PeerReport> {
  const {role, signaller} = options
  const progress = options.onProgress ?? (() => {})
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000
  const gatherTimeoutMs = options.gatherTimeoutMs ?? 5000
  let offer: SessionDescription | undefined
  try {
    if (role === 'offerer') {
      progress('waiting for the peer…')
      await signaller.waitPeer()
    } else {
      progress('waiting for an offer…')
      offer = await signaller.receive('offer')
    }
    const sendFailures: Error[] = []
    const result = await runNative<LinkMeasurement>(
      {
        kind: 'peer',
        role,
        iceServers: options.iceServers ?? [],
        policy: options.policy ?? 'all',
        bytes: options.bytes ?? 1024 * 1024,
        pings: options.pings ?? 10,
        connectTimeoutMs,
        gatherTimeoutMs,
        // Without an "applied" message (copy and paste) the answerer still holds the offer's
        // candidates until its ICE connects (the offerer's checks came through, so the offerer
        // has our answer) or HOLD_CANDIDATES_MS pass: releasing them at once let the answerer's
        // checks reach the offerer before the pasted answer, the native DTLS race.
        holdCandidatesMs: HOLD_CANDIDATES_MS,
      },
      {
        signal: options.signal,
        timeoutMs: connectTimeoutMs + gatherTimeoutMs + 15 * 60_000,
        what: role === 'offerer' ? 'webrtc dial' : 'webrtc listen',
        onMessage: (msg, reply) => {
          if (msg.op === 'progress') progress(msg.text)
          if (msg.op === 'answer-applied') signaller.applied?.tell()
          if (msg.op !== 'local-description') return
          progress(`sending our ${msg.sdpType}…`)
          signaller
            .send({type: msg.sdpType, sdp: msg.sdp})
            .then(async () => {
              if (role === 'offerer') {
                const answer = await signaller.receive('answer')
                progress('got the answer; connecting…')
                reply({op: 'remote-description', sdpType: 'answer', sdp: answer.sdp})
              }
            })
            .catch((err: Error) => {
              sendFailures.push(err)
              reply({op: 'abort'})
            })
          if (role === 'answerer') {
            progress('connecting…')
            void signaller.applied?.wait(HOLD_CANDIDATES_MS).then((told) => told && reply({op: 'release-candidates'}))
          }
        },
        afterStart: offer ? [{op: 'remote-description', sdpType: 'offer', sdp: offer.sdp}] : [],
      },
    ).catch((err: unknown) => {
      if (sendFailures.length) throw sendFailures[0]
      throw err
    })
    if (sendFailures.length) throw sendFailures[0]
    const iceServers = options.iceServers ?? []
    return {
      ...result,
      role,
      ...(options.room ? {room: options.room} : {}),
      iceServers: iceServers.map((s) => `${s.relayType ? 'turn' : 'stun'}:${s.hostname}:${s.port}`),
      privacy: peerPrivacy(result, role, iceServers, signaller.observers?.() ?? []),
      exitCode: result.ok ? ExitCode.ok : ExitCode.checkFailed,
    }
  } finally {
    signaller.close()
  }
}

/**
 * Reads the first line that looks like a compact description (`wdc1.…`) from a stream such as
 * stdin, skipping other lines; bounded in size, and aborted by the signal.
 */
export function readCompactLine(stream: NodeJS.ReadableStream, signal?: AbortSignal, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = ''
    let total = 0
    const done = (err?: Error, line?: string) => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      signal?.removeEventListener('abort', onAbort)
      stream.pause()
      if (err) reject(err)
      else resolve(line!)
    }
    const onData = (chunk: Buffer | string) => {
      const s = chunk.toString()
      total += s.length
      buf += s
      for (;;) {
        const nl = buf.indexOf('\n')
        if (nl < 0) break
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (line.startsWith('wdc1.')) return done(undefined, line)
      }
      if (total > limit) done(new BadInputError('BAD_COMPACT', `no wdc1. line in the first ${limit} bytes of input`))
    }
    const onEnd = () => {
      const line = buf.trim()
      if (line.startsWith('wdc1.')) done(undefined, line)
      else done(new BadInputError('BAD_COMPACT', 'input ended before a wdc1. line (paste the line printed by the other side)'))
    }
    const onAbort = () => done(abortError(signal!, 'waiting for the pasted description'))
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, {once: true})
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.resume()
  })
}
