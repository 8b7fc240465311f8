/**
 * The dialer's half of Waku signalling: it waits for the listener's announcement, invites it on
 * its topic (repeating the invitation until answered), reads the answer on its own reply topic and
 * sends "applied" once the answer is in.
 */
import {ProtocolError, UnreachableError} from '../../errors.js'
import type {SessionDescription} from '../sdp.js'
import type {parsePeer} from './identity.js'
import {ANNOUNCE_TOPIC, createInvitation, decodeAnnounce, openAnswer, sealApplied, type Session} from './messages.js'
import type {SignalSession} from './session.js'
import type {WakuSignaller} from './types.js'

export function inviteListener(s: SignalSession, t: ReturnType<typeof parsePeer>): WakuSignaller {
  const {stats, w, options} = s
  const {pubsubTopic} = s.place
  let announced = false
  let session: Session | undefined
  let answer: {sdp: string} | undefined
  s.unsubscribers.push(
    s.endpoint.subscribe(
      ANNOUNCE_TOPIC,
      s.onRaw((bytes) => {
        const a = decodeAnnounce(bytes)
        if (a.peerId !== t.peerId) {
          stats.otherAnnouncements++
          return
        }
        if (!announced) s.progress(`listener ${t.peerId} is announcing itself`)
        announced = true
        w.wake()
      }),
    ),
  )
  return {
    ...s.base(),
    async waitPeer() {
      const timeoutMs = options.waitPeerTimeoutMs ?? 120_000
      s.progress(`waiting for an announcement of ${t.peerId} on ${ANNOUNCE_TOPIC}…`)
      await w.until(
        () => announced,
        'waiting for the listener’s announcement over Waku',
        timeoutMs,
        () =>
          new UnreachableError('SIGNAL_TIMEOUT', `no announcement of listener ${t.peerId} on ${pubsubTopic} within ${Math.round(timeoutMs / 1000)} s`, {
            hint: 'is `webrtc listen --signal waku` running, on a Waku network connected to ours, with the same --cluster and --shard?',
          }),
        () => s.failure,
      )
    },
    async send(d: SessionDescription) {
      if (d.type !== 'offer') throw new ProtocolError('SIGNAL_UNEXPECTED', `a dialer sends only its offer, not an ${d.type}`)
      const inv = createInvitation({listenerPublicKey: t.publicKey, listenerPeerId: t.peerId, sdp: d.sdp, node: s.nodePeerId})
      const ses = inv.session
      session = ses
      stats.replyTopic = ses.replyTopic
      s.unsubscribers.push(
        s.endpoint.subscribe(
          ses.replyTopic,
          s.onRaw((bytes) => {
            if (answer) {
              stats.duplicates++
              return
            }
            const a = openAnswer(ses, bytes)
            answer = {sdp: a.sdp}
            s.otherNode = a.node
            s.stopTimers()
            w.wake()
          }),
        ),
      )
      await s.publish(ses.listenerTopic, 'invite', inv.bytes)
      // A flood may have crowded our invitation out of the listener's queue: repeat it until answered.
      s.timers.add(
        setInterval(() => {
          if (!answer) s.publish(ses.listenerTopic, 'invite', inv.bytes).catch(() => {})
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
        () => s.failure,
      )
      return {type: 'answer', sdp: answer!.sdp}
    },
    applied: {
      tell() {
        if (!session) return
        const bytes = sealApplied(session)
        s.publish(session.listenerTopic, 'applied', bytes).catch(() => {})
      },
      async wait() {
        return false
      },
    },
  }
}
