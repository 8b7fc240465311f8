/**
 * The rendezvous source: every namespace asked at one point, each valid registration turned into
 * a peer joined with the crawl by node id (the node id of a secp256k1 peer id's key). Peers with
 * other key types cannot be in a discv5 DHT and are left out.
 */
import {peerIdFromString} from '@libp2p/peer-id'

import {isWakuDiscError, type ErrorJson} from '../errors.js'
import {nodeIdOf} from '../keys/index.js'
import {discoverRendezvous} from '../rendezvous/client.js'
import type {RendezvousSourceQuery, SourcePeer} from './gather.js'

function nodeIdOfPeer(peerId: string): string {
  try {
    const key = peerIdFromString(peerId).publicKey
    return key?.type === 'secp256k1' ? nodeIdOf(key.raw) : ''
  } catch {
    return ''
  }
}

export const discoverRendezvousPeers: RendezvousSourceQuery = async (target, options) => {
  const errors: ErrorJson[] = []
  const peers: SourcePeer[] = []
  let queries = 0
  try {
    const result = await discoverRendezvous(target, {namespaces: options.namespaces, node: options.node, signal: options.signal, timeoutMs: options.timeoutMs})
    for (const ns of result.namespaces) {
      queries += Math.max(1, ns.pages)
      if (ns.error) errors.push({...ns.error, message: `${target} ${ns.namespace}: ${ns.error.message}`})
      for (const r of ns.registrations) {
        if (!r.ok) {
          if (r.error) errors.push({...r.error, message: `${target} ${ns.namespace}: ${r.error.message}`})
          continue
        }
        peers.push({nodeId: nodeIdOfPeer(r.peerId!), peerId: r.peerId!, seqNo: r.seqNo ?? '0', addresses: r.addresses ?? []})
      }
    }
  } catch (err) {
    queries++
    errors.push(isWakuDiscError(err) ? {...err.toJSON(), message: `${target}: ${err.message}`} : {name: 'Error', code: 'SOURCE_FAILED', exitCode: 1, message: `${target}: ${String((err as Error)?.message ?? err)}`})
  }
  return {peers: peers.filter((p) => p.nodeId !== ''), queries, errors}
}
