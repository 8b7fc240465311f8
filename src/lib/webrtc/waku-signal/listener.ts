/**
 * The listener's half of Waku signalling: it announces itself until a dialer is served, reads its
 * topic through the bounded intake, serves the first valid invitation, answers it (again for a
 * resent copy, at most once a second) and waits for the dialer's "applied".
 */
import {ProtocolError, UnreachableError} from '../../errors.js'
import type {EnrRecord} from '../../enr/index.js'
import {bytesToHex} from '../../keys/hex.js'
import type {SessionDescription} from '../sdp.js'
import {boundedIntake, TokenBucket, type WakuSignalLimits} from './intake.js'
import {ANNOUNCE_TOPIC, encodeAnnounce, kindOf, openApplied, openInvitation, peekInvitation, peekSessionId, readHeader, sealAnswer, type Session} from './messages.js'
import {ReplayGuard} from './replay.js'
import type {SignalSession} from './session.js'
import type {ListenerIdentity, WakuSignaller} from './types.js'

export function serveInvitations(s: SignalSession, me: {key: Uint8Array; pub: Uint8Array; enr: EnrRecord}, limits: WakuSignalLimits): WakuSignaller {
  const {topic, peerId, pubsubTopic} = s.place
  const {stats, w} = s
  const guard = new ReplayGuard()
  const bucket = new TokenBucket(limits.burst, limits.perSecond)
  let current: {session: Session; sdp: string} | undefined
  let answerBytes: Uint8Array | undefined
  let lastResend = 0
  let applied = false

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
    const peek = peekInvitation(bytes, {staticPublicKey: me.pub, topic})
    const eph = bytesToHex(peek.ephemeralPublic)
    if (current && eph === bytesToHex(current.session.ephemeralPublic)) {
      // The dialer resends its invitation until answered: answer again (at most once a second).
      stats.duplicates++
      if (answerBytes && Date.now() - lastResend > 1000) {
        lastResend = Date.now()
        s.publish(current.session.replyTopic, 'answer', answerBytes).catch(() => {})
      }
      return
    }
    if (guard.has(eph)) throw new ProtocolError('SIGNAL_REPLAYED', 'invitation with an ephemeral key already used')
    if (!bucket.take()) throw new ProtocolError('SIGNAL_RATE_LIMITED', 'too many invitations: this one was dropped unread')
    const inv = openInvitation(bytes, {staticPrivateKey: me.key, staticPublicKey: me.pub, topic})
    guard.seen(eph)
    if (guard.seen(`id:${inv.session.idHex}`)) throw new ProtocolError('SIGNAL_REPLAYED', 'invitation id already used')
    if (current) throw new ProtocolError('SIGNAL_BUSY', 'already serving another invitation')
    current = {session: inv.session, sdp: inv.sdp}
    s.otherNode = inv.node
    stats.replyTopic = inv.session.replyTopic
    s.stopTimers() // stop announcing: we are taken
    w.wake()
  }
  s.unsubscribers.push(
    s.endpoint.subscribe(
      topic,
      boundedIntake(limits.queue, s.onRaw(handle), (bytes, code) => {
        s.received(bytes)
        s.refuse(code)
      }),
    ),
  )

  const identity: ListenerIdentity = {enr: me.enr.text, peerId, topic, pubsubTopic}
  const announce = () => {
    if (current) return
    s.publish(ANNOUNCE_TOPIC, 'announce', encodeAnnounce({privateKey: me.key, enr: me.enr})).catch(() => {
      // No relay peer on the topic at this moment: the next round tries again.
    })
  }
  announce()
  s.timers.add(setInterval(announce, s.options.announceIntervalMs ?? 2000))
  s.options.onIdentity?.(identity)
  s.progress(`announcing ${peerId} on ${ANNOUNCE_TOPIC}; invitations on ${topic}`)

  return {
    ...s.base(),
    identity,
    async waitPeer() {},
    async send(d: SessionDescription) {
      if (d.type !== 'answer' || !current) throw new ProtocolError('SIGNAL_UNEXPECTED', `a listener sends only an answer to an invitation it serves, not an ${d.type}`)
      answerBytes = sealAnswer(current.session, d.sdp, s.nodePeerId)
      lastResend = Date.now()
      await s.publish(current.session.replyTopic, 'answer', answerBytes)
    },
    async receive(type) {
      if (type !== 'offer') throw new ProtocolError('SIGNAL_UNEXPECTED', 'a listener receives only offers')
      await w.until(
        () => current !== undefined,
        'waiting for an invitation over Waku',
        2 ** 31 - 1,
        () => new UnreachableError('SIGNAL_TIMEOUT', 'no invitation'),
        () => s.failure,
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
