/**
 * The WebRTC path of `nat reach --transport webrtc`: js-libp2p's private-to-private WebRTC,
 * signalled over the relayed connection, then ICE over UDP with STUN. Attempts run in a child
 * process (webrtc-punch-worker.ts) because node-datachannel is native code.
 */
import {fork} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {peerIdFromString} from '@libp2p/peer-id'
import {multiaddr} from '@multiformats/multiaddr'

import {createPunchNode, dialRelayed, errorInfo, WEBRTC_SIGNALLING, type PunchAttempt, type WebRtcPunchOptions} from './punch-node.js'

/**
 * The WebRTC path: SDP and ICE candidates travel over the relayed connection (js-libp2p's
 * private-to-private WebRTC), then ICE punches UDP with STUN-learned addresses. No TURN is given,
 * so an open connection is a direct one.
 */
export async function punchOnceWebRtc(attempt: number, relay: string, peer: string, options: {timeoutMs: number; signal?: AbortSignal; webrtc: WebRtcPunchOptions}): Promise<PunchAttempt> {
  const node = await createPunchNode([], [], options.webrtc)
  const result: PunchAttempt = {attempt, outcome: 'UNKNOWN'}
  const budget = () => AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])])
  try {
    if (!(await dialRelayed(node, relay, peer, result, options))) return result
    const t1 = performance.now()
    try {
      const direct = await node.dial(multiaddr(`${relay}/p2p-circuit/webrtc/p2p/${peer}`), {signal: budget()})
      result.directMs = Math.round(performance.now() - t1)
      result.directAddress = direct.remoteAddr.toString()
      result.direction = direct.direction
      result.outcome = 'SUCCESS'
    } catch (err) {
      const protocols = (await node.peerStore.get(peerIdFromString(peer)).catch(() => undefined))?.protocols ?? []
      result.outcome = options.signal?.aborted ? 'CANCELLED' : protocols.length > 0 && !protocols.includes(WEBRTC_SIGNALLING) ? 'NO_STREAM' : 'FAILED'
      result.error = result.outcome === 'NO_STREAM' ? `the target does not speak ${WEBRTC_SIGNALLING}` : errorInfo(err).message
    }
    return result
  } finally {
    await node.stop()
  }
}

export interface WebRtcPunchJob {
  relay: string
  peer: string
  attempts: number
  timeoutMs: number
  stun: string[]
}

function workerEntry(): {path: string; execArgv: string[]} {
  const js = fileURLToPath(new URL('./webrtc-punch-worker.js', import.meta.url))
  if (existsSync(js)) return {path: js, execArgv: []}
  return {path: fileURLToPath(new URL('./webrtc-punch-worker.ts', import.meta.url)), execArgv: ['--import', 'tsx']}
}

/** Runs the WebRTC attempts in a child (webrtc-punch-worker.ts); a child that dies or hangs costs its attempts, not the CLI. */
export async function punchWebRtcInChild(job: WebRtcPunchJob, signal?: AbortSignal): Promise<PunchAttempt[]> {
  const {path, execArgv} = workerEntry()
  const attempts: PunchAttempt[] = []
  await new Promise<void>((resolve) => {
    const child = fork(path, [], {execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json'})
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4000) stderr += d
    })
    const end = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      resolve()
    }
    const onAbort = () => {
      for (let i = attempts.length + 1; i <= job.attempts; i++) attempts.push({attempt: i, outcome: 'CANCELLED'})
      end()
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    // Each attempt has two dials of timeoutMs; a child past that plus start-up is hung.
    const timer = setTimeout(() => {
      for (let i = attempts.length + 1; i <= job.attempts; i++) attempts.push({attempt: i, outcome: 'UNKNOWN', error: 'the WebRTC worker hung'})
      end()
    }, job.attempts * job.timeoutMs * 2 + 15_000)
    child.on('message', (m: {op: string; attempt?: PunchAttempt}) => {
      if (m.op === 'ready') child.send(job)
      else if (m.op === 'attempt' && m.attempt) attempts.push(m.attempt)
      else if (m.op === 'done') end()
    })
    child.on('exit', (code, sig) => {
      if (attempts.length < job.attempts && !signal?.aborted) {
        const tail = stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)
        for (let i = attempts.length + 1; i <= job.attempts; i++) attempts.push({attempt: i, outcome: 'UNKNOWN', error: `the WebRTC worker died (${sig ?? `exit ${code}`})${tail ? `: ${tail}` : ''}`})
      }
      end()
    })
  })
  return attempts
}

