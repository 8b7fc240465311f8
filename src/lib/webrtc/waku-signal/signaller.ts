/**
 * A Signaller (peer.ts) that carries the WebRTC offer and answer over Waku relay instead of the
 * `webrtc signal` WebSocket rendezvous. The protocol is described in messages.ts, the cryptography
 * in crypto.ts. The listener keeps serving the first valid invitation whatever else arrives:
 * messages wait in a bounded queue, ECDH work is rate limited, and every refused message is
 * counted by its code (stats()), never thrown.
 */
import {abortError, BadInputError, ProtocolError, UnreachableError, type WakuDiscError} from '../../errors.js'
import {encodeEnr, parseEnr, type EnrRecord} from '../../enr/index.js'
import {generatePrivateKey, peerIdOf, publicKeyOf} from '../../keys/index.js'
import type {Signaller} from '../peer.js'
import type {PrivacyObserver} from '../privacy.js'
import type {SessionDescription} from '../sdp.js'
import {
  ANNOUNCE_TOPIC,
  createInvitation,
  decodeAnnounce,
  encodeAnnounce,
  kindOf,
  listenerTopic,
  MAX_SIGNAL_BYTES,
  openAnswer,
  openApplied,
  openInvitation,
  peekInvitation,
  peekSessionId,
  readHeader,
  refusalCode,
  ReplayGuard,
  sealAnswer,
  sealApplied,
  publicKeyFromPeerId,
  type RefusalCode,
  type Session,
} from './messages.js'
import {DEFAULT_CLUSTER, DEFAULT_SHARD, parseWakuNode, pubsubTopicOf, startWakuEndpoint, type WakuEndpoint} from './network.js'
import {bytesToHex} from '../../keys/hex.js'

export interface WakuSignalLimits {
  /** Raw messages waiting to be read on the listener's topic (more are dropped: SIGNAL_QUEUE_FULL). */
  queue: number
  /** Invitations whose ECDH we do at once, and per second after that (more: SIGNAL_RATE_LIMITED). */
  burst: number
  perSecond: number
}

export const DEFAULT_LIMITS: WakuSignalLimits = {queue: 256, burst: 64, perSecond: 32}

export interface WakuSignalOptions {
  role: 'offerer' | 'answerer'
  /** `--waku-node`: a WebSocket multiaddr with /p2p/, or an ENR with one. */
  node: string
  cluster?: number
  shard?: number
  /** Listener: its static key (a new one per run when absent). */
  privateKey?: Uint8Array
  /** Dialer: the listener's ENR (`enr:…`) or libp2p peer id. */
  peer?: string
  signal?: AbortSignal
  /** Listener: how often it announces itself (default 2 s). */
  announceIntervalMs?: number
  /** Dialer: how long it waits for the listener's announcement (default 120 s). */
  waitPeerTimeoutMs?: number
  /** Dialer: how long it waits for the answer once it has invited (default 60 s); resends the invitation every resendMs (3 s). */
  answerTimeoutMs?: number
  resendMs?: number
  connectTimeoutMs?: number
  limits?: Partial<WakuSignalLimits>
  /** Listener: called once subscribed, with what a dialer needs (the command prints it). */
  onIdentity?: (identity: ListenerIdentity) => void
  onProgress?: (text: string) => void
}

export interface ListenerIdentity {
  enr: string
  peerId: string
  topic: string
  pubsubTopic: string
}

export interface WakuSignalStats {
  role: 'offerer' | 'answerer'
  node: string
  pubsubTopic: string
  /** The listener's peer id and content topic (ours when listening, the target's when dialling). */
  peerId: string
  topic: string
  replyTopic?: string
  published: {messages: number; bytes: number; byKind: Record<string, number>}
  received: {messages: number; bytes: number}
  /** Refused messages by code (they never stop the run). */
  refused: Partial<Record<RefusalCode, number>>
  refusedTotal: number
  /** Copies of the invitation being served, or of our answer (resends), handled without a refusal. */
  duplicates: number
  /** Valid announcements of other listeners (dialer). */
  otherAnnouncements: number
  /** Whether the other peer said it used the same Waku node as we did (known once the offer or answer is read). */
  sameNode?: boolean
}

export interface WakuSignaller extends Signaller {
  identity?: ListenerIdentity
  stats(): WakuSignalStats
  observers(): PrivacyObserver[]
  /** Resolves when close() has stopped the Waku node. */
  readonly closed: Promise<void>
}

/** `--peer`: the listener's ENR or libp2p peer id → its public key and peer id. */
export function parsePeer(input: string): {publicKey: Uint8Array; peerId: string; enr?: EnrRecord} {
  const text = input.trim()
  if (text.startsWith('enr:')) {
    let enr: EnrRecord
    try {
      enr = parseEnr(text)
    } catch (err) {
      throw new BadInputError('BAD_PEER', `--peer ENR does not parse: ${(err as Error).message.slice(0, 120)}`)
    }
    if (!enr.signatureValid) throw new BadInputError('BAD_PEER', '--peer ENR has an invalid signature')
    return {publicKey: enr.publicKey, peerId: enr.peerId, enr}
  }
  const publicKey = publicKeyFromPeerId(text)
  if (!publicKey) throw new BadInputError('BAD_PEER', `--peer must be the listener's ENR (enr:…) or the peer id of its secp256k1 key (16Uiu2…), got "${text.slice(0, 60)}"`)
  return {publicKey, peerId: text}
}

class TokenBucket {
  #tokens: number
  #at = Date.now()
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.#tokens = burst
  }
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.perSecond)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}

/** Waits for `cond`, waking on `wake()` or every 250 ms; typed errors for abort and timeout. */
function waiter(signal?: AbortSignal) {
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

/**
 * Starts our Waku endpoint, dials `--waku-node`, and returns the signaller for one run. The
 * listener announces itself and serves the first valid invitation; the dialer waits for the
 * target's announcement (waitPeer), invites, and reads the answer.
 */
export async function connectWakuSignal(options: WakuSignalOptions): Promise<WakuSignaller> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER
  const shard = options.shard ?? DEFAULT_SHARD
  const pubsubTopic = pubsubTopicOf(cluster, shard)
  const nodeAddress = parseWakuNode(options.node)
  const limits = {...DEFAULT_LIMITS, ...options.limits}
  const progress = options.onProgress ?? (() => {})
  const signal = options.signal

  // Identities first: bad flags fail before any network work.
  let target: ReturnType<typeof parsePeer> | undefined
  let staticKey: Uint8Array | undefined
  let staticPublic: Uint8Array | undefined
  let enr: EnrRecord | undefined
  if (options.role === 'offerer') {
    if (!options.peer) throw new BadInputError('PEER_REQUIRED', '--signal waku needs --peer: the listener’s ENR or peer id (it prints both)')
    target = parsePeer(options.peer)
  } else {
    staticKey = options.privateKey ?? generatePrivateKey()
    staticPublic = publicKeyOf(staticKey)
    enr = encodeEnr({privateKey: staticKey, seq: BigInt(Math.floor(Date.now() / 1000)), cluster, shards: [shard]})
  }
  const peerId = target?.peerId ?? peerIdOf(staticPublic!)
  const topic = listenerTopic(peerId)

  const stats: WakuSignalStats = {
    role: options.role,
    node: nodeAddress,
    pubsubTopic,
    peerId,
    topic,
    published: {messages: 0, bytes: 0, byKind: {}},
    received: {messages: 0, bytes: 0},
    refused: {},
    refusedTotal: 0,
    duplicates: 0,
    otherAnnouncements: 0,
  }
  const times: number[] = []
  const topicsUsed = new Set<string>()
  const refuse = (code: RefusalCode) => {
    stats.refused[code] = (stats.refused[code] ?? 0) + 1
    stats.refusedTotal++
  }
  const count = (err: unknown) => {
    const code = refusalCode(err)
    if (!code) throw err
    refuse(code)
  }

  const endpoint: WakuEndpoint = await startWakuEndpoint({cluster, shard})
  let closing: Promise<void> | undefined
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  const stopEndpoint = () => (closing ??= endpoint.stop().finally(resolveClosed))
  try {
    progress(`connecting to the Waku node ${nodeAddress}…`)
    await endpoint.connect(nodeAddress, {signal, timeoutMs: options.connectTimeoutMs})
  } catch (err) {
    await stopEndpoint()
    throw err
  }
  const nodePeerId = /\/p2p\/([^/]+)$/.exec(nodeAddress)?.[1] ?? ''
  const w = waiter(signal)
  const unsubscribers: (() => void)[] = []
  const timers = new Set<NodeJS.Timeout>()
  let otherNode: string | undefined
  let failure: WakuDiscError | undefined

  const publish = async (contentTopic: string, kind: string, bytes: Uint8Array) => {
    await endpoint.publish(contentTopic, bytes)
    stats.published.messages++
    stats.published.bytes += bytes.length
    stats.published.byKind[kind] = (stats.published.byKind[kind] ?? 0) + 1
    topicsUsed.add(contentTopic)
    times.push(Date.now())
  }
  const onRaw = (handler: (bytes: Uint8Array) => void) => (bytes: Uint8Array) => {
    stats.received.messages++
    stats.received.bytes += bytes.length
    try {
      handler(bytes)
    } catch (err) {
      try {
        count(err)
      } catch (bug) {
        // Not a refusal: our bug. Fail the run with it instead of dying in a callback.
        failure ??= new ProtocolError('SIGNAL_INTERNAL', `reading a signalling message failed: ${(bug as Error).message}`, {cause: bug})
        w.wake()
      }
    }
  }
  const close = () => {
    for (const t of timers) clearInterval(t)
    timers.clear()
    for (const u of unsubscribers) u()
    w.wake()
    void stopEndpoint()
  }
  const base = {
    stats: () => ({...stats, published: {...stats.published, byKind: {...stats.published.byKind}}, refused: {...stats.refused}, ...(otherNode !== undefined ? {sameNode: otherNode === nodePeerId} : {})}),
    observers: () => observersOf(),
    closed,
    close,
  }

  const observersOf = (): PrivacyObserver[] => {
    const same = otherNode !== undefined && otherNode === nodePeerId
    const span = times.length ? `${new Date(times[0]!).toISOString()} – ${new Date(times.at(-1)!).toISOString()}` : 'none'
    const what = options.role === 'answerer' ? `announcements of listener ${peerId} (its ENR: static public key, cluster and shard, no addresses) every ${Math.round((options.announceIntervalMs ?? 2000) / 1000)} s until a dialer was served` : `an invitation to listener ${peerId} and the "applied" notice`
    const published = `${stats.published.messages} messages (${stats.published.bytes} bytes; ${Object.entries(stats.published.byKind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), sent ${span}`
    const notSdp = 'not the SDP (ICE candidates, DTLS fingerprint): offer and answer are sealed to the listener’s key (ECIES, ChaCha20-Poly1305)'
    // Relay subscriptions are per pubsub topic: the content topics we only read stay with us.
    const topics = `that we relay ${pubsubTopic}, and the content topics of what we published: ${[...topicsUsed].join(', ') || 'none'}`
    return [
      {
        server: nodeAddress,
        role: 'waku-node',
        sawAddresses: endpoint.observedAddresses(),
        sawBothPeers: same ? true : 'unknown',
        carriedData: false,
        learned: [
          endpoint.observedAddresses().length ? `our address ${endpoint.observedAddresses().join(', ')} (the connection's source)` : 'our address (the connection’s source)',
          `that this connection first published ${what}: the first hop can tell the messages came from us`,
          topics,
          published,
          notSdp,
          same ? 'both peers were connected to it: it can link the two addresses' : 'whether the other peer used it too is not known (the other peer did not name the same node)',
          'the messages are ephemeral: store nodes do not keep them',
        ],
      },
      {
        server: `relay subscribers of ${pubsubTopic}`,
        role: 'waku-subscribers',
        sawAddresses: [],
        sawBothPeers: 'unknown',
        carriedData: false,
        learned: [
          options.role === 'answerer' ? `that listener ${peerId} was online (its signed announcements), and when` : `that someone invited listener ${peerId}, and when`,
          topics,
          published,
          'the link between the listener’s topic and the reply topic (timing), but not who the dialer is: it has no static key and no address in the messages',
          notSdp,
        ],
      },
    ]
  }

  if (options.role === 'answerer') {
    // ─── listener ───
    const key = staticKey!
    const pub = staticPublic!
    const guard = new ReplayGuard()
    const bucket = new TokenBucket(limits.burst, limits.perSecond)
    const queue: Uint8Array[] = []
    let current: {session: Session; sdp: string} | undefined
    let answerBytes: Uint8Array | undefined
    let lastResend = 0
    let applied = false
    let draining = false

    const handle = (bytes: Uint8Array) => {
      const kind = kindOf(bytes)
      if (kind === 'applied') {
        const {idHex} = peekSessionId(bytes, 'applied', topic)
        if (!current || idHex !== current.session.idHex) throw new ProtocolError('SIGNAL_WRONG_KEY', 'applied notice for an invitation we are not serving')
        openApplied(current.session, bytes)
        if (applied) stats.duplicates++
        applied = true
        w.wake()
        return
      }
      if (kind !== 'invite') {
        readHeader(bytes, topic) // throws the precise refusal
        throw new ProtocolError('SIGNAL_JUNK', `a ${kind ?? 'unknown'} message on the listener's topic`)
      }
      const peek = peekInvitation(bytes, {staticPublicKey: pub, topic})
      const eph = bytesToHex(peek.ephemeralPublic)
      if (current && eph === bytesToHex(current.session.ephemeralPublic)) {
        // The dialer resends its invitation until answered: answer again (at most once a second).
        stats.duplicates++
        if (answerBytes && Date.now() - lastResend > 1000) {
          lastResend = Date.now()
          publish(current.session.replyTopic, 'answer', answerBytes).catch(() => {})
        }
        return
      }
      if (guard.has(eph)) throw new ProtocolError('SIGNAL_REPLAYED', 'invitation with an ephemeral key already used')
      if (!bucket.take()) throw new ProtocolError('SIGNAL_RATE_LIMITED', 'too many invitations: this one was dropped unread')
      const inv = openInvitation(bytes, {staticPrivateKey: key, staticPublicKey: pub, topic})
      guard.seen(eph)
      if (guard.seen(`id:${inv.session.idHex}`)) throw new ProtocolError('SIGNAL_REPLAYED', 'invitation id already used')
      if (current) throw new ProtocolError('SIGNAL_BUSY', 'already serving another invitation')
      current = {session: inv.session, sdp: inv.sdp}
      otherNode = inv.node
      stats.replyTopic = inv.session.replyTopic
      for (const t of timers) clearInterval(t) // stop announcing: we are taken
      timers.clear()
      w.wake()
    }
    const read = onRaw(handle)
    const drain = () => {
      draining = false
      for (let i = 0; i < 16 && queue.length; i++) read(queue.shift()!)
      if (queue.length) {
        draining = true
        setImmediate(drain)
      }
    }
    unsubscribers.push(
      endpoint.subscribe(topic, (bytes) => {
        const early: RefusalCode | undefined = bytes.length > MAX_SIGNAL_BYTES ? 'SIGNAL_TOO_BIG' : queue.length >= limits.queue ? 'SIGNAL_QUEUE_FULL' : undefined
        if (early) {
          stats.received.messages++
          stats.received.bytes += bytes.length
          refuse(early)
          return
        }
        queue.push(bytes)
        if (!draining) {
          draining = true
          setImmediate(drain)
        }
      }),
    )
    const identity: ListenerIdentity = {enr: enr!.text, peerId, topic, pubsubTopic}
    const announce = () => {
      if (current) return
      publish(ANNOUNCE_TOPIC, 'announce', encodeAnnounce({privateKey: key, enr: enr!})).catch(() => {
        // No relay peer on the topic at this moment: the next round tries again.
      })
    }
    announce()
    timers.add(setInterval(announce, options.announceIntervalMs ?? 2000))
    options.onIdentity?.(identity)
    progress(`announcing ${peerId} on ${ANNOUNCE_TOPIC}; invitations on ${topic}`)
    return {
      ...base,
      identity,
      async waitPeer() {},
      async send(d: SessionDescription) {
        if (d.type !== 'answer' || !current) throw new ProtocolError('SIGNAL_UNEXPECTED', `a listener sends only an answer to an invitation it serves, not an ${d.type}`)
        answerBytes = sealAnswer(current.session, d.sdp, nodePeerId)
        lastResend = Date.now()
        await publish(current.session.replyTopic, 'answer', answerBytes)
      },
      async receive(type) {
        if (type !== 'offer') throw new ProtocolError('SIGNAL_UNEXPECTED', 'a listener receives only offers')
        await w.until(
          () => current !== undefined,
          'waiting for an invitation over Waku',
          2 ** 31 - 1,
          () => new UnreachableError('SIGNAL_TIMEOUT', 'no invitation'),
          () => failure,
        )
        return {type: 'offer', sdp: current!.sdp}
      },
      applied: {
        tell() {},
        async wait(timeoutMs: number) {
          return w.until(() => applied, 'waiting for the dialer to apply our answer', timeoutMs, () => new UnreachableError('SIGNAL_TIMEOUT', 'no applied notice')).then(
            () => true,
            () => false,
          )
        },
      },
    }
  }

  // ─── dialer ───
  const t = target!
  let announced = false
  let session: Session | undefined
  let answer: {sdp: string} | undefined
  unsubscribers.push(
    endpoint.subscribe(
      ANNOUNCE_TOPIC,
      onRaw((bytes) => {
        const a = decodeAnnounce(bytes)
        if (a.peerId !== t.peerId) {
          stats.otherAnnouncements++
          return
        }
        if (!announced) progress(`listener ${t.peerId} is announcing itself`)
        announced = true
        w.wake()
      }),
    ),
  )
  return {
    ...base,
    async waitPeer() {
      const timeoutMs = options.waitPeerTimeoutMs ?? 120_000
      progress(`waiting for an announcement of ${t.peerId} on ${ANNOUNCE_TOPIC}…`)
      await w.until(
        () => announced,
        'waiting for the listener’s announcement over Waku',
        timeoutMs,
        () =>
          new UnreachableError('SIGNAL_TIMEOUT', `no announcement of listener ${t.peerId} on ${pubsubTopic} within ${Math.round(timeoutMs / 1000)} s`, {
            hint: 'is `webrtc listen --signal waku` running, on a Waku network connected to ours, with the same --cluster and --shard?',
          }),
        () => failure,
      )
    },
    async send(d: SessionDescription) {
      if (d.type !== 'offer') throw new ProtocolError('SIGNAL_UNEXPECTED', `a dialer sends only its offer, not an ${d.type}`)
      const inv = createInvitation({listenerPublicKey: t.publicKey, listenerPeerId: t.peerId, sdp: d.sdp, node: nodePeerId})
      const s = inv.session
      session = s
      stats.replyTopic = s.replyTopic
      unsubscribers.push(
        endpoint.subscribe(
          s.replyTopic,
          onRaw((bytes) => {
            if (answer) {
              stats.duplicates++
              return
            }
            const a = openAnswer(s, bytes)
            answer = {sdp: a.sdp}
            otherNode = a.node
            for (const timer of timers) clearInterval(timer)
            timers.clear()
            w.wake()
          }),
        ),
      )
      await publish(s.listenerTopic, 'invite', inv.bytes)
      // A flood may have crowded our invitation out of the listener's queue: repeat it until answered.
      timers.add(
        setInterval(() => {
          if (!answer) publish(s.listenerTopic, 'invite', inv.bytes).catch(() => {})
        }, options.resendMs ?? 3000),
      )
    },
    async receive(type) {
      if (type !== 'answer' || !session) throw new ProtocolError('SIGNAL_UNEXPECTED', 'a dialer receives only the answer to its invitation')
      const timeoutMs = options.answerTimeoutMs ?? 60_000
      await w.until(
        () => answer !== undefined,
        'waiting for the listener’s answer over Waku',
        timeoutMs,
        () => new UnreachableError('SIGNAL_TIMEOUT', `listener ${t.peerId} did not answer within ${Math.round(timeoutMs / 1000)} s`),
        () => failure,
      )
      return {type: 'answer', sdp: answer!.sdp}
    },
    applied: {
      tell() {
        if (!session) return
        const bytes = sealApplied(session)
        publish(session.listenerTopic, 'applied', bytes).catch(() => {})
      },
      async wait() {
        return false
      },
    },
  }
}
