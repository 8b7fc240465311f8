import type {ListenerIdentity, WakuSignalStats} from '../lib/webrtc/waku-signal/signaller.js'

/** What a listener prints once subscribed (stderr, also under --json): what `webrtc dial --peer` needs. */
export function renderWakuIdentity(identity: ListenerIdentity): string {
  return `identity: ${identity.enr}\npeer id: ${identity.peerId}\ntopic: ${identity.topic}\n`
}

/** One line about the Waku signalling of a run: messages, and what was refused by code. */
export function renderWakuSignalStats(s: WakuSignalStats): string {
  const refused = Object.entries(s.refused)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ')
  const same = s.sameNode === undefined ? '' : s.sameNode ? '; both peers used the same Waku node' : '; the peers used different Waku nodes'
  return (
    `Waku signalling via ${s.node} on ${s.pubsubTopic}: published ${s.published.messages} messages (${s.published.bytes} bytes), received ${s.received.messages}` +
    `, refused ${s.refusedTotal}${refused ? ` (${refused})` : ''}${s.duplicates ? `, ${s.duplicates} duplicates` : ''}${same}`
  )
}
