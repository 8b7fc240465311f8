/**
 * What the user points a libp2p check at: a multiaddr ending in /p2p/<peer id>, or an ENR whose
 * dial addresses (tcp, tcp6 and the `multiaddrs` field) all carry the record's peer id.
 */
import {peerIdFromString} from '@libp2p/peer-id'
import {multiaddr, type Multiaddr} from '@multiformats/multiaddr'

import {decodeEnr, lintEnr, parseEnr, type DecodedEnr, type LintFinding} from '../enr/index.js'
import {BadInputError, CheckFailedError, isWakuDiscError} from '../errors.js'

export interface Target {
  /** What the user typed. */
  input: string
  kind: 'multiaddr' | 'enr'
  peerId: string
  /** Addresses to dial, each ending in /p2p/<peerId>. */
  multiaddrs: string[]
  /** Set when the target is an ENR. */
  enr?: DecodedEnr
  lint?: LintFinding[]
}

function peerIdOf(ma: Multiaddr): string | undefined {
  const parts = ma.getComponents().filter((c) => c.name === 'p2p')
  return parts.at(-1)?.value
}

/** Parses a multiaddr with /p2p/, or an ENR. Throws BadInputError with the reason otherwise. */
/** `enr:…`, or bare base64url long enough to be a record (geth prints them both ways). */
export function looksLikeEnrText(text: string): boolean {
  return /^enr:/i.test(text) || /^[A-Za-z0-9_-]{60,}$/.test(text)
}

/** The error for text that is neither a multiaddr nor an ENR (instead of an RLP/base64 message). */
export function notATarget(text: string): BadInputError {
  return new BadInputError('BAD_TARGET', `not a multiaddr or ENR: ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`, {
    hint: 'give a multiaddr with /p2p/<peer id> (/ip4/…/tcp/…/p2p/16Uiu2…) or an ENR (enr:-…)',
  })
}

export function parseTarget(input: string): Target {
  const text = input.trim()
  if (text === '') throw new BadInputError('EMPTY_TARGET', 'empty target: give a multiaddr with /p2p/<peer id> or an enr: record')
  if (text.startsWith('/')) {
    let ma: Multiaddr
    try {
      ma = multiaddr(text)
    } catch (err) {
      throw new BadInputError('BAD_MULTIADDR', `not a valid multiaddr: ${text} (${(err as Error).message})`, {cause: err})
    }
    const peerId = peerIdOf(ma)
    if (!peerId) {
      throw new BadInputError('MISSING_PEER_ID', `multiaddr has no /p2p/<peer id>: ${text}`, {
        hint: 'libp2p dials need the peer id; append /p2p/16Uiu2… (the node prints it, or use its ENR instead)',
      })
    }
    try {
      peerIdFromString(peerId)
    } catch (err) {
      throw new BadInputError('BAD_PEER_ID', `invalid peer id ${peerId} in ${text}`, {cause: err})
    }
    return {input, kind: 'multiaddr', peerId, multiaddrs: [ma.toString()]}
  }
  if (/^enode:\/\//i.test(text)) {
    throw new BadInputError('ENODE_NOT_LIBP2P', 'an enode:// URL names a devp2p node, not a libp2p one', {
      hint: 'give the node\'s ENR (enr:…) or a multiaddr with /p2p/<peer id>',
    })
  }
  if (!looksLikeEnrText(text)) throw notATarget(text)
  let decoded: DecodedEnr
  let lint: LintFinding[]
  try {
    const record = parseEnr(text)
    decoded = decodeEnr(record)
    lint = lintEnr(record)
  } catch (err) {
    if (isWakuDiscError(err)) throw err
    throw new BadInputError('BAD_TARGET', `not a multiaddr or ENR: ${text.slice(0, 60)}`, {cause: err})
  }
  if (decoded.dialable.length === 0) {
    throw new CheckFailedError('ENR_NOT_DIALABLE', `the ENR of ${decoded.peerId} has no libp2p address (no ip+tcp, ip6+tcp6 or multiaddrs)`, {
      hint: 'nodes publish tcp and/or multiaddrs for libp2p; a discv5-only record cannot be dialled',
    })
  }
  return {input, kind: 'enr', peerId: decoded.peerId, multiaddrs: [...decoded.dialable], enr: decoded, lint}
}

/** Short label for tables: the peer id's tail. */
export function shortPeerId(peerId: string): string {
  return peerId.length > 12 ? `…${peerId.slice(-8)}` : peerId
}
