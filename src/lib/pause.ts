/**
 * Waits `ms`, or less when the signal aborts: it never rejects, so a polling loop that checks the
 * signal itself can wait without a try/catch. (`net/http.ts` `sleep` rejects with the abort error
 * instead, for callers that must stop at once.)
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}
