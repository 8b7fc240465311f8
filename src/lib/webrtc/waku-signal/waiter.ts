import {abortError, type WakuDiscError} from '../../errors.js'

export type Waiter = ReturnType<typeof waiter>

/** Waits for `cond`, waking on `wake()` or every 250 ms; typed errors for abort and timeout. */
export function waiter(signal?: AbortSignal) {
  const wakers = new Set<() => void>()
  return {
    wake() {
      for (const w of wakers) w()
    },
    async until(cond: () => boolean, what: string, timeoutMs: number, timeout: () => WakuDiscError, failure?: () => WakuDiscError | undefined): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!cond()) {
        const f = failure?.()
        if (f) throw f
        if (signal?.aborted) throw abortError(signal, what)
        const left = deadline - Date.now()
        if (left <= 0) throw timeout()
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t)
            wakers.delete(done)
            signal?.removeEventListener('abort', done)
            resolve()
          }
          const t = setTimeout(done, Math.min(left, 250))
          wakers.add(done)
          signal?.addEventListener('abort', done, {once: true})
        })
      }
    },
  }
}
