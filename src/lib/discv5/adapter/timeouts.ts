/**
 * The library's request timeouts: telling a failed request apart from other errors (by the code
 * the library rejects with, never by message text), and a request timer that tolerates a busy
 * event loop and gives up sooner on a first contact that never got its WHOAREYOU.
 */
import {CodeError, RequestErrorType, type Discv5, type IRequestCall} from '@chainsafe/discv5'

import {activeRequestsOf, type RequestTimeoutMap} from './internals.js'

/**
 * The RequestErrorType name a library request was rejected with, or undefined for any other
 * error. 11.0.0 rejects a request that failed in the session layer (`rpcFailure`) with
 * `new CodeError("RPC failure", RequestErrorType[error])`: the code is the enum's name, e.g.
 * "Timeout", "InvalidRemotePacket". Response errors (wrong address, wrong type) carry
 * ResponseErrorType names instead and are not request failures.
 */
export function requestErrorType(err: unknown): keyof typeof RequestErrorType | undefined {
  if (!(err instanceof CodeError)) return undefined
  const code = (err as {code?: unknown}).code
  return typeof code === 'string' && typeof (RequestErrorType as unknown as Record<string, unknown>)[code] === 'number' ? (code as keyof typeof RequestErrorType) : undefined
}

/** The request timed out (no answer within the request timeout and its resends). */
export function isRequestTimeout(err: unknown): boolean {
  return requestErrorType(err) === RequestErrorType[RequestErrorType.Timeout]
}

/**
 * The request failed in the session layer: it timed out, or its session failed (e.g. the remote's
 * handshake packet or record was invalid). Either way no answer came and the session is gone.
 */
export function isRequestFailure(err: unknown): boolean {
  return requestErrorType(err) !== undefined
}

/** Which stage a timed-out request had reached. */
export type TimeoutPhase = 'challenge' | 'handshake' | 'session'

export interface RequestTimerOptions {
  /**
   * Timeout (ms) of a first contact still waiting for the remote's WHOAREYOU (the random packet's
   * answer, which costs the remote no crypto). Called per request with its node id; undefined or
   * a value ≥ the request timeout keeps the request timeout.
   */
  challengeTimeoutMs?: (nodeId: string) => number | undefined
  /** A WHOAREYOU answered our random packet after this many ms. */
  onChallenge?: (nodeId: string, rttMs: number) => void
  /** A request timed out at this stage. */
  onTimeout?: (nodeId: string, phase: TimeoutPhase) => void
}

type RequestCallLike = Partial<Pick<IRequestCall, 'initiatingSession' | 'handshakeSent'>>

/**
 * Makes the library's request timeouts tolerant of a busy event loop. Node runs expired timers
 * before it reads the socket in each loop turn, so after a long busy stretch a request whose
 * answer is already waiting in the socket buffer times out anyway. Here an expired request
 * first lets one I/O phase run (setImmediate), and while the loop is lagging (lagMs() above
 * 100 ms) it is given up to three short extensions. Replaces `setTimeout` on the session
 * service's request map of this one instance.
 *
 * With `options.challengeTimeoutMs`, a first contact that has not had its WHOAREYOU yet times out
 * sooner than an established request: a silent (dead) address is then given up on without holding
 * the whole request timeout, while a live node, once it has answered the challenge, gets the full
 * timeout for the handshake and its reply.
 */
export function makeTimeoutsLagTolerant(discv5: Discv5, lagMs: () => number, options: RequestTimerOptions = {}): void {
  const map = activeRequestsOf(discv5)
  const extensions = new Map<unknown, number>()
  const challengeSentAt = new Map<unknown, number>()
  const nodeIdOf = (key: unknown) => String(key).split(':', 1)[0]!
  map.setTimeout = function (this: RequestTimeoutMap, key: unknown, timeout: number) {
    const call = this.get(key) as RequestCallLike | undefined
    if (!call) return
    clearTimeout(this.timeouts.get(key))
    const awaitingChallenge = call.initiatingSession === true && call.handshakeSent !== true
    if (awaitingChallenge) {
      challengeSentAt.set(key, performance.now())
      const limit = options.challengeTimeoutMs?.(nodeIdOf(key))
      if (limit !== undefined && limit > 0 && limit < timeout) timeout = limit
    } else {
      const sentAt = challengeSentAt.get(key)
      if (sentAt !== undefined) {
        challengeSentAt.delete(key)
        if (call.handshakeSent === true) options.onChallenge?.(nodeIdOf(key), performance.now() - sentAt)
      }
    }
    const fire = () => {
      setImmediate(() => {
        if (!this.has(key)) {
          extensions.delete(key)
          challengeSentAt.delete(key)
          return
        }
        const used = extensions.get(key) ?? 0
        const lag = lagMs()
        if (lag > 100 && used < 3) {
          extensions.set(key, used + 1)
          this.timeouts.set(key, setTimeout(fire, Math.min(1000, 2 * lag)))
          return
        }
        extensions.delete(key)
        challengeSentAt.delete(key)
        const value = this.get(key) as RequestCallLike | undefined
        this.delete(key)
        options.onTimeout?.(nodeIdOf(key), value?.handshakeSent ? 'handshake' : value?.initiatingSession ? 'challenge' : 'session')
        this.onTimeout?.(key, value)
      })
    }
    this.timeouts.set(key, setTimeout(fire, timeout))
  }
}
