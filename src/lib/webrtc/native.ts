import {fork, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {abortError, ProtocolError} from '../errors.js'
import type {FromWorker, ToWorker, WorkerTask} from './types.js'

export interface NativeRunOptions {
  signal?: AbortSignal
  /** Hard limit for the child; it is killed after this. */
  timeoutMs: number
  /** Messages the worker sends before its result (local descriptions, progress). */
  onMessage?: (msg: FromWorker, reply: (m: ToWorker) => void) => void
  what: string
  /** Messages sent right after the task (e.g. the remote offer an answerer needs). */
  afterStart?: ToWorker[]
  /** Called with the child once forked (tests use it to simulate a native crash). */
  onSpawn?: (child: ChildProcess) => void
}

/**
 * Locates the worker's entry point, worker/main.js next to this file in dist/ (built by tsc), or
 * worker/main.ts when running from the sources (tsx or vitest), which the child loads through tsx.
 */
function workerEntry(): {path: string; execArgv: string[]} {
  const js = fileURLToPath(new URL('./worker/main.js', import.meta.url))
  if (existsSync(js)) return {path: js, execArgv: []}
  const ts = fileURLToPath(new URL('./worker/main.ts', import.meta.url))
  return {path: ts, execArgv: ['--import', 'tsx']}
}

/**
 * Runs one task in a child process that loads node-datachannel, so that a native crash or a hung
 * teardown costs the child, never the CLI. A child that dies without a result becomes a
 * ProtocolError naming the signal or exit code.
 */
export function runNative<R>(task: WorkerTask, options: NativeRunOptions): Promise<R> {
  const {path, execArgv} = workerEntry()
  return new Promise<R>((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortError(options.signal, options.what))
    let child: ChildProcess
    try {
      child = fork(path, [], {execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json'})
    } catch (err) {
      return reject(new ProtocolError('WEBRTC_WORKER_START', `cannot start the WebRTC worker: ${(err as Error).message}`, {cause: err}))
    }
    options.onSpawn?.(child)
    let settled = false
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4000) stderr += d
    })
    const cleanup = () => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      cleanup()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      reject(err)
    }
    const onAbort = () => fail(abortError(options.signal!, options.what))
    options.signal?.addEventListener('abort', onAbort, {once: true})
    const timer = setTimeout(() => fail(new ProtocolError('WEBRTC_WORKER_TIMEOUT', `${options.what}: the WebRTC worker did not finish within ${options.timeoutMs} ms`)), options.timeoutMs)
    const reply = (m: ToWorker) => {
      if (child.connected) child.send(m)
    }
    child.on('message', (msg: FromWorker) => {
      if (settled) return
      if (msg.op === 'ready') {
        reply({op: 'run', task})
        for (const m of options.afterStart ?? []) reply(m)
        return
      }
      if (msg.op === 'result') {
        settled = true
        cleanup()
        // The worker exits by itself; make sure it does.
        setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref()
        return resolve(msg.result as R)
      }
      if (msg.op === 'error') return fail(new ProtocolError(msg.code, `${options.what}: ${msg.message}`))
      try {
        options.onMessage?.(msg, reply)
      } catch (err) {
        fail(err as Error)
      }
    })
    child.on('error', (err) => fail(new ProtocolError('WEBRTC_WORKER_START', `cannot start the WebRTC worker: ${err.message}`, {cause: err})))
    child.on('exit', (code, sig) => {
      if (settled) return
      const how = sig ? `signal ${sig}` : `exit code ${code}`
      const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)
      fail(new ProtocolError('WEBRTC_WORKER_CRASHED', `${options.what}: the native WebRTC worker died (${how}) before reporting${tail ? `: ${tail}` : ''}`))
    })
  })
}
