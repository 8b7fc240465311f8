/**
 * A Signaller (peer.ts) that carries the WebRTC offer and answer over Waku relay instead of the
 * `webrtc signal` WebSocket rendezvous. The protocol is described in messages.ts, the cryptography
 * in crypto.ts. The listener (listener.ts) keeps serving the first valid invitation whatever else
 * arrives: messages wait in a bounded queue, ECDH work is rate limited (intake.ts), and every
 * refused message is counted by its code (stats()), never thrown. The dialer is dialer.ts; what
 * both share is session.ts.
 */
import {BadInputError} from '../../errors.js'
import {encodeEnr, type EnrRecord} from '../../enr/index.js'
import {generatePrivateKey, peerIdOf, publicKeyOf} from '../../keys/index.js'
import {inviteListener} from './dialer.js'
import {parsePeer} from './identity.js'
import {DEFAULT_LIMITS} from './intake.js'
import {serveInvitations} from './listener.js'
import {listenerTopic} from './messages.js'
import {DEFAULT_CLUSTER, DEFAULT_SHARD, parseWakuNode, pubsubTopicOf, startWakuEndpoint} from './network.js'
import {SignalSession} from './session.js'
import type {WakuSignaller, WakuSignalOptions} from './types.js'

export type {ListenerIdentity, WakuSignaller, WakuSignalOptions, WakuSignalStats} from './types.js'
export {DEFAULT_LIMITS, type WakuSignalLimits} from './intake.js'

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

  // Identities first: bad flags fail before any network work.
  let target: ReturnType<typeof parsePeer> | undefined
  let me: {key: Uint8Array; pub: Uint8Array; enr: EnrRecord} | undefined
  if (options.role === 'offerer') {
    if (!options.peer) throw new BadInputError('PEER_REQUIRED', '--signal waku needs --peer: the listener’s ENR or peer id (it prints both)')
    target = parsePeer(options.peer)
  } else {
    const key = options.privateKey ?? generatePrivateKey()
    me = {key, pub: publicKeyOf(key), enr: encodeEnr({privateKey: key, seq: BigInt(Math.floor(Date.now() / 1000)), cluster, shards: [shard]})}
  }
  const peerId = target?.peerId ?? peerIdOf(me!.pub)

  const endpoint = await startWakuEndpoint({cluster, shard})
  const session = new SignalSession(options, endpoint, {nodeAddress, pubsubTopic, peerId, topic: listenerTopic(peerId)})
  try {
    session.progress(`connecting to the Waku node ${nodeAddress}…`)
    await endpoint.connect(nodeAddress, {signal: options.signal, timeoutMs: options.connectTimeoutMs})
  } catch (err) {
    await session.stopEndpoint()
    throw err
  }
  return options.role === 'answerer' ? serveInvitations(session, me!, limits) : inviteListener(session, target!)
}
