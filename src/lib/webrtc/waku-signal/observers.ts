/** What the Waku node we used and the relay's other subscribers learned from our signalling (the report's privacy section). */
import type {PrivacyObserver} from '../privacy.js'
import type {WakuSignalStats} from './types.js'

export interface SignalExposure {
  role: 'offerer' | 'answerer'
  /** `--waku-node` as dialled. */
  nodeAddress: string
  pubsubTopic: string
  /** The listener's peer id. */
  peerId: string
  announceIntervalMs: number
  stats: WakuSignalStats
  /** When each of our messages was published (ms since the epoch). */
  times: number[]
  /** The content topics we published on. */
  topicsUsed: Iterable<string>
  /** Our addresses as the node saw them (the connection's source). */
  observedAddresses: string[]
  /** The other peer named the same node as ours. */
  sameNode: boolean
}

export function signalObservers(x: SignalExposure): PrivacyObserver[] {
  const {stats, peerId, pubsubTopic} = x
  const span = x.times.length ? `${new Date(x.times[0]!).toISOString()} – ${new Date(x.times.at(-1)!).toISOString()}` : 'none'
  const what = x.role === 'answerer' ? `announcements of listener ${peerId} (its ENR: static public key, cluster and shard, no addresses) every ${Math.round(x.announceIntervalMs / 1000)} s until a dialer was served` : `an invitation to listener ${peerId} and the "applied" notice`
  const published = `${stats.published.messages} messages (${stats.published.bytes} bytes; ${Object.entries(stats.published.byKind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}), sent ${span}`
  const notSdp = 'not the SDP (ICE candidates, DTLS fingerprint): offer and answer are sealed to the listener’s key (ECIES, ChaCha20-Poly1305)'
  // Relay subscriptions are per pubsub topic: the content topics we only read stay with us.
  const topics = `that we relay ${pubsubTopic}, and the content topics of what we published: ${[...x.topicsUsed].join(', ') || 'none'}`
  return [
    {
      server: x.nodeAddress,
      role: 'waku-node',
      sawAddresses: x.observedAddresses,
      sawBothPeers: x.sameNode ? true : 'unknown',
      carriedData: false,
      learned: [
        x.observedAddresses.length ? `our address ${x.observedAddresses.join(', ')} (the connection's source)` : 'our address (the connection’s source)',
        `that this connection first published ${what}: the first hop can tell the messages came from us`,
        topics,
        published,
        notSdp,
        x.sameNode ? 'both peers were connected to it: it can link the two addresses' : 'whether the other peer used it too is not known (the other peer did not name the same node)',
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
        x.role === 'answerer' ? `that listener ${peerId} was online (its signed announcements), and when` : `that someone invited listener ${peerId}, and when`,
        topics,
        published,
        'the link between the listener’s topic and the reply topic (timing), but not who the dialer is: it has no static key and no address in the messages',
        notSdp,
      ],
    },
  ]
}
