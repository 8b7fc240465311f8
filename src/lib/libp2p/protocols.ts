/**
 * The libp2p protocol ids a Waku node may announce in identify, named. Ids are from nwaku's
 * `waku/waku_core/codecs.nim` (see shared/vectors/waku-protocol-ids.json); the libp2p ones from
 * the libp2p specs. Capability names are what `caps --expect` accepts.
 */
import {BadInputError} from '../errors.js'

export const PEER_EXCHANGE_PROTOCOL = '/vac/waku/peer-exchange/2.0.0-alpha1'
export const METADATA_PROTOCOL = '/vac/waku/metadata/1.0.0'
export const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0'
export const PING_PROTOCOL = '/ipfs/ping/1.0.0'

export const WAKU_PROTOCOLS = {
  relay: '/vac/waku/relay/2.0.0',
  storeV3: '/vac/waku/store-query/3.0.0',
  storeV2: '/vac/waku/store/2.0.0-beta4',
  filterSubscribe: '/vac/waku/filter-subscribe/2.0.0-beta1',
  filterPush: '/vac/waku/filter-push/2.0.0-beta1',
  lightpushV3: '/vac/waku/lightpush/3.0.0',
  lightpushV2: '/vac/waku/lightpush/2.0.0-beta1',
  syncReconciliation: '/vac/waku/reconciliation/1.0.0',
  syncTransfer: '/vac/waku/transfer/1.0.0',
  metadata: METADATA_PROTOCOL,
  peerExchange: PEER_EXCHANGE_PROTOCOL,
  rendezvous: '/vac/waku/rendezvous/1.0.0',
} as const

export interface ProtocolName {
  id: string
  /** Short human name, e.g. 'store v3', 'filter push'. */
  name: string
  /** The `--expect` capability this id provides, if any. */
  capability?: Capability
  waku: boolean
}

/** Capabilities `caps --expect` understands. */
export const CAPABILITIES = [
  'relay',
  'store',
  'storev3',
  'storev2',
  'filter',
  'filter-push',
  'lightpush',
  'lightpushv3',
  'lightpushv2',
  'peer-exchange',
  'metadata',
  'rendezvous',
  'sync',
  'mix',
  'ping',
  'identify',
  'autonat',
  'circuit-relay',
] as const
export type Capability = (typeof CAPABILITIES)[number]

interface Entry {
  id: string
  name: string
  caps: Capability[]
  waku: boolean
}

const KNOWN: Entry[] = [
  {id: WAKU_PROTOCOLS.relay, name: 'relay', caps: ['relay'], waku: true},
  {id: WAKU_PROTOCOLS.storeV3, name: 'store v3', caps: ['store', 'storev3'], waku: true},
  {id: WAKU_PROTOCOLS.storeV2, name: 'store v2 (legacy)', caps: ['store', 'storev2'], waku: true},
  {id: WAKU_PROTOCOLS.filterSubscribe, name: 'filter subscribe', caps: ['filter'], waku: true},
  {id: WAKU_PROTOCOLS.filterPush, name: 'filter push', caps: ['filter-push'], waku: true},
  {id: WAKU_PROTOCOLS.lightpushV3, name: 'lightpush v3', caps: ['lightpush', 'lightpushv3'], waku: true},
  {id: WAKU_PROTOCOLS.lightpushV2, name: 'lightpush v2 (legacy)', caps: ['lightpush', 'lightpushv2'], waku: true},
  {id: WAKU_PROTOCOLS.syncReconciliation, name: 'sync reconciliation', caps: ['sync'], waku: true},
  {id: WAKU_PROTOCOLS.syncTransfer, name: 'sync transfer', caps: [], waku: true},
  {id: WAKU_PROTOCOLS.metadata, name: 'metadata', caps: ['metadata'], waku: true},
  {id: WAKU_PROTOCOLS.peerExchange, name: 'peer exchange', caps: ['peer-exchange'], waku: true},
  {id: WAKU_PROTOCOLS.rendezvous, name: 'waku rendezvous', caps: ['rendezvous'], waku: true},
  {id: '/rendezvous/1.0.0', name: 'libp2p rendezvous', caps: ['rendezvous'], waku: false},
  {id: IDENTIFY_PROTOCOL, name: 'identify', caps: ['identify'], waku: false},
  {id: '/ipfs/id/push/1.0.0', name: 'identify push', caps: [], waku: false},
  {id: PING_PROTOCOL, name: 'ping', caps: ['ping'], waku: false},
  {id: '/libp2p/autonat/1.0.0', name: 'autonat', caps: ['autonat'], waku: false},
  {id: '/libp2p/circuit/relay/0.2.0/hop', name: 'circuit relay hop', caps: ['circuit-relay'], waku: false},
  {id: '/libp2p/circuit/relay/0.2.0/stop', name: 'circuit relay stop', caps: [], waku: false},
  {id: '/libp2p/dcutr', name: 'hole punching (dcutr)', caps: [], waku: false},
  {id: '/meshsub/1.1.0', name: 'gossipsub 1.1', caps: [], waku: false},
  {id: '/meshsub/1.0.0', name: 'gossipsub 1.0', caps: [], waku: false},
]

const BY_ID = new Map(KNOWN.map((e) => [e.id, e]))

/** Names a protocol id; unknown ids get a name from their well-known prefix or 'unknown'. */
export function nameProtocol(id: string): ProtocolName {
  const known = BY_ID.get(id)
  if (known) return {id, name: known.name, waku: known.waku, ...(known.caps[0] ? {capability: known.caps[0]} : {})}
  if (/mix\/1\.0\.0$/.test(id)) return {id, name: 'mix', capability: 'mix', waku: true}
  if (id.startsWith('/vac/waku/')) return {id, name: `waku (unrecognised version)`, waku: true}
  return {id, name: 'other', waku: false}
}

/** Every capability the given protocol ids provide (an id may provide several, e.g. store + storev3). */
export function capabilitiesOf(protocols: readonly string[]): Capability[] {
  const out = new Set<Capability>()
  for (const id of protocols) {
    const known = BY_ID.get(id)
    if (known) for (const c of known.caps) out.add(c)
    else if (/mix\/1\.0\.0$/.test(id)) out.add('mix')
  }
  return CAPABILITIES.filter((c) => out.has(c))
}

/** Parses a capability name (case-insensitive; 'px' is peer-exchange). Returns undefined if unknown. */
export function parseCapability(text: string): Capability | undefined {
  const t = text.trim().toLowerCase()
  if (t === 'px' || t === 'peerexchange') return 'peer-exchange'
  if (t === 'filter-subscribe') return 'filter'
  return (CAPABILITIES as readonly string[]).includes(t) ? (t as Capability) : undefined
}

/** Values of a repeatable, comma-separated flag (`--expect relay,store --expect px`), trimmed, blanks dropped. */
export function splitCommaList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}

/** `--expect` names (aliases allowed) as capabilities; an unknown name is bad input listing the known ones. */
export function parseCapabilityList(values: readonly string[] | undefined, flag = '--expect'): Capability[] {
  return splitCommaList(values).map((name) => {
    const cap = parseCapability(name)
    if (!cap) throw new BadInputError('UNKNOWN_CAPABILITY', `${flag}: unknown protocol name ${JSON.stringify(name)}`, {hint: `known: ${CAPABILITIES.join(', ')}`})
    return cap
  })
}

/** Relay shard numbers (0-1023) from a repeatable, comma-separated flag. */
export function parseShardList(values: readonly string[] | undefined, flag = '--shard'): number[] {
  return splitCommaList(values).map((s) => {
    const n = Number(s)
    if (!/^\d+$/.test(s) || n > 1023) throw new BadInputError('BAD_SHARD', `${flag}: ${JSON.stringify(s)} is not a shard number (0-1023)`)
    return n
  })
}

/**
 * The protocol ids an ENR `waku2` bit promises (nwaku's bit → codec map; store and lightpush are
 * satisfied by either version).
 */
export const WAKU2_BIT_CAPABILITY: Record<string, Capability> = {
  relay: 'relay',
  store: 'store',
  filter: 'filter',
  lightpush: 'lightpush',
  sync: 'sync',
  mix: 'mix',
}
