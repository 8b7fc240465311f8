/**
 * The crawl's handshake pacer: how many new discv5 sessions may start at once, how long a first
 * contact waits for its WHOAREYOU, and how long a silent one keeps its slot. It reads two
 * saturation signals, handshake round trips and our own event-loop lag, and holds no request
 * state of its own (the engine counts what is in flight).
 */
export interface PacerOptions {
  /** Ceiling of new handshakes in flight. */
  maxNewSessions: number
  /** Ramp from 8 to the ceiling over this long (ms; 0 = none). */
  rampMs: number
  /** Floor of a first contact's WHOAREYOU wait (ms; 0 disables the early timeout). */
  challengeTimeoutMs: number
  requestTimeoutMs: number
  now: () => number
}

export class HandshakePacer {
  private limit = Number.POSITIVE_INFINITY
  private baseRtt = Number.POSITIVE_INFINITY
  private rttEwma = 0
  /** Recent WHOAREYOU round trips (ms), newest last. */
  private readonly challengeRtts: number[] = []
  private challengeRttMax = 0
  /** Event-loop lag now (ms), measured by a 50 ms probe. */
  lagMs = 0

  constructor(private readonly options: PacerOptions) {}

  /**
   * New handshakes allowed in flight: ramps up from 8 over rampMs, then follows a delay-based
   * controller: handshake round trips far above the fastest one seen mean the remote side or our
   * own event loop is saturated, so fewer new sessions start. Timeouts do not shrink it: dead
   * nodes are expected and cost no CPU.
   */
  cap(elapsedMs: number): number {
    const {rampMs, maxNewSessions} = this.options
    const ramp = rampMs <= 0 ? 1 : Math.min(1, elapsedMs / rampMs)
    const ramped = Math.max(Math.min(8, maxNewSessions), Math.round(maxNewSessions * ramp))
    return Math.max(1, Math.min(ramped, Math.floor(this.limit)))
  }

  /** Whether lag is low enough for another new handshake (one always may start when none runs). */
  lagAllowsHandshake(newSessionsInFlight: number): boolean {
    return this.lagMs < 150 || newSessionsInFlight === 0
  }

  onHandshakeRtt(rtt: number): void {
    const max = this.options.maxNewSessions
    if (!Number.isFinite(this.limit)) this.limit = max
    this.baseRtt = Math.min(this.baseRtt, rtt)
    this.rttEwma = this.rttEwma === 0 ? rtt : 0.8 * this.rttEwma + 0.2 * rtt
    if (rtt > 4 * this.baseRtt + 100) this.limit = Math.max(4, this.limit * 0.9)
    else this.limit = Math.min(max, this.limit + 0.5)
  }

  onChallengeRtt(rtt: number): void {
    this.challengeRtts.push(rtt)
    if (this.challengeRtts.length > 64) this.challengeRtts.shift()
    this.challengeRttMax = Math.max(...this.challengeRtts)
  }

  /** The WHOAREYOU wait a first contact would get now (ms). */
  challengeWaitMs(): number {
    return Math.max(this.options.challengeTimeoutMs, 4 * this.challengeRttMax + this.lagMs)
  }

  /**
   * How long a first contact waits for its WHOAREYOU: at least challengeTimeoutMs, and 4× the
   * slowest of the last 64 challenge round trips plus the current loop lag (a remote or a loop
   * under load answers later, and then the wait grows with it). undefined = the full timeout: on
   * a node's last attempt, and when disabled.
   */
  challengeTimeout(lastAttempt: boolean): number | undefined {
    if (this.options.challengeTimeoutMs <= 0 || lastAttempt) return undefined
    return this.challengeWaitMs()
  }

  /**
   * How long a silent first contact keeps its handshake slot: until its WHOAREYOU is overdue (2×
   * the slowest recent challenge round trip, at least 100 ms), not for the whole request. The CPU
   * the cap protects is spent only once the challenge arrives; a dead node never costs any, and
   * must not keep live nodes' handshakes waiting.
   */
  slotHoldMs(): number {
    const byRequest = Math.max(300, 3 * this.rttEwma)
    const byChallenge = this.challengeRtts.length > 0 ? Math.max(100, 2 * this.challengeRttMax) : byRequest
    return Math.min(this.options.requestTimeoutMs, byRequest, byChallenge)
  }

  /**
   * Our own event loop is the other saturation signal: a handshake costs ~4 ms of CPU here, and
   * when replies queue up behind each other the library's request timers fire before the replies
   * are read (timers run before I/O in each loop turn), marking live nodes dead. High lag shrinks
   * the new-handshake limit quickly; the engine also holds new handshakes while lag is high.
   */
  startLagProbe(): NodeJS.Timeout {
    const now = this.options.now
    let expected = now() + 50
    return setInterval(() => {
      const t = now()
      const lag = Math.max(0, t - expected)
      // Decaying maximum: one slow turn keeps counting for a few probes.
      this.lagMs = Math.max(lag, this.lagMs * 0.7)
      expected = t + 50
      if (this.lagMs > 60) {
        if (!Number.isFinite(this.limit)) this.limit = this.options.maxNewSessions
        this.limit = Math.max(2, this.limit * 0.7)
      }
    }, 50)
  }
}
