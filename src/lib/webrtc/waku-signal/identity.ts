/** Who the listener is, from what a dialer is given (`--peer`): an ENR or a libp2p peer id. */
import {base58} from '@scure/base'

import {BadInputError} from '../../errors.js'
import {parseEnr, type EnrRecord} from '../../enr/index.js'
import {peerIdOf} from '../../keys/index.js'

const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x25, 0x08, 0x02, 0x12, 0x21)

/**
 * The secp256k1 public key inside a libp2p peer id (`16Uiu2…`: an identity multihash of the
 * protobuf key), or undefined for anything else (Ed25519 ids, hashes of larger keys, junk).
 */
export function publicKeyFromPeerId(peerId: string): Uint8Array | undefined {
  let bytes: Uint8Array
  try {
    bytes = base58.decode(peerId)
  } catch {
    return undefined
  }
  if (bytes.length !== PEER_ID_PREFIX.length + 33 || !PEER_ID_PREFIX.every((b, i) => bytes[i] === b)) return undefined
  const key = bytes.slice(PEER_ID_PREFIX.length)
  try {
    return peerIdOf(key) === peerId ? key : undefined
  } catch {
    return undefined
  }
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
