import {InterruptedError} from '../lib/errors.js'

/**
 * Waits until a long-running server command (`px serve`, `stun serve`, `webrtc signal`) is told to
 * stop by its command signal. Resolves `true` when it was interrupted (Ctrl-C / SIGTERM: the
 * command prints its summary, then exits 130 like every other interrupted command), `false` when
 * `--timeout` ended the run (a normal end, exit 0).
 */
export async function untilStopped(signal: AbortSignal): Promise<boolean> {
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
  return signal.reason instanceof InterruptedError
}
