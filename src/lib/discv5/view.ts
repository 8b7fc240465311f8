/**
 * The per-node view a crawl reports: address, seq and the decoded Waku fields, built from the
 * record with the ENR module's field decoders. The discv5 library already checked every record's
 * signature (through the verified-record cache), so this does not check it again, and skips the
 * peer id and lint work of `decodeEnr` (about 5 ms per record: too slow inside a crawl).
 */
import type {ENR} from '@chainsafe/enr'

import {decodeMultiaddrs, decodeWaku2, matchesNodeFilter, parseEnr, shardsOf, type DecodedEnr, type NodeFilter, type WakuFields} from '../enr/index.js'

export interface RecordView {
  enr: string
  nodeId: string
  /** uint64 as a decimal string. */
  seq: string
  ip?: string
  udp?: number
  tcp?: number
  ip6?: string
  udp6?: number
  waku?: WakuFields
}

export function recordView(enr: ENR): RecordView {
  const text = enr.encodeTxt()
  const view: RecordView = {enr: text, nodeId: enr.nodeId, seq: enr.seq.toString()}
  if (enr.ip !== undefined) view.ip = enr.ip
  if (enr.udp !== undefined) view.udp = enr.udp
  if (enr.tcp !== undefined) view.tcp = enr.tcp
  if (enr.ip6 !== undefined) view.ip6 = enr.ip6
  if (enr.udp6 !== undefined) view.udp6 = enr.udp6
  const waku2 = enr.kvs.get('waku2')
  const multiaddrs = enr.kvs.get('multiaddrs')
  const hasShards = enr.kvs.has('rs') || enr.kvs.has('rsv')
  if (waku2 !== undefined || multiaddrs !== undefined || hasShards) {
    const w: WakuFields = {}
    if (waku2 !== undefined) w.waku2 = decodeWaku2(waku2)
    if (multiaddrs !== undefined) {
      const m = decodeMultiaddrs(multiaddrs)
      if (m.ok) w.multiaddrs = m.value.addresses
    }
    if (hasShards) {
      try {
        const s = shardsOf(parseEnr(text, {verifySignature: false}))
        if (s) {
          w.cluster = s.cluster
          w.shards = s.shards
          w.shardSource = s.source
        }
      } catch {
        // A record the ENR module refuses keeps its other fields.
      }
    }
    view.waku = w
  }
  return view
}

/** Whether a view is a Waku node (has a `waku2` field). */
export function isWaku(view: RecordView): boolean {
  return view.waku?.waku2 !== undefined
}

/** matchesNodeFilter from the ENR module (it reads only the Waku fields of the decoded record). */
export function viewMatches(view: RecordView, filter: NodeFilter | undefined): boolean {
  if (!filter) return true
  return matchesNodeFilter({waku: view.waku} as DecodedEnr, filter)
}
