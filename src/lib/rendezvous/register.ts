/**
 * The client side of REGISTER and UNREGISTER: one request per stream to a rendezvous point, the
 * registration sealed as a WakuPeerRecord for the dialling peer unless one is given.
 */
import {peerIdFromPrivateKey} from '@libp2p/peer-id'

import {BadInputError} from '../errors.js'
import {stepSignal} from '../libp2p/session.js'
import type {Target} from '../libp2p/target.js'
import {checkNamespace, expectReplyType, rendezvousRequest, withRendezvousSession, type RendezvousConnectOptions} from './client.js'
import {RENDEZVOUS_MESSAGE_TYPE, encodeRegister, encodeUnregister, rendezvousStatusName} from './codec.js'
import {MAX_SIGNED_PEER_RECORD_BYTES, sealWakuPeerRecord} from './record.js'

export interface RegisterRendezvousOptions extends RendezvousConnectOptions {
  namespace: string
  /**
   * The signed envelope to register. Default: a WakuPeerRecord for the dialling peer, sealed now
   * with `privateKey` (which is then also the identity of the node created).
   */
  record?: Uint8Array
  /** Addresses for the sealed record (default: the node's listen addresses). */
  addresses?: string[]
  mixKey?: string
  /** Seconds; omitted = the point's default (60 s on nwaku). */
  ttlSeconds?: number
}

export interface RegisterRendezvousResult {
  namespace: string
  /** The registering peer (the connection's identity). */
  peerId: string
  status: number
  statusName: string
  statusText?: string
  /** Seconds granted. */
  ttl?: number
}

/** Sends one REGISTER and returns the point's answer (a refusal is a result, not an error). */
export async function registerRendezvous(targetInput: string | Target, options: RegisterRendezvousOptions): Promise<RegisterRendezvousResult> {
  checkNamespace(options.namespace)
  if (options.ttlSeconds !== undefined && (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 0)) {
    throw new BadInputError('BAD_TTL', `ttl must be a non-negative integer number of seconds, got ${options.ttlSeconds}`)
  }
  if (!options.record && !options.privateKey) throw new BadInputError('NO_RECORD', 'give a sealed record or the private key to seal one')
  if (options.node && options.privateKey && !options.node.peerId.equals(peerIdFromPrivateKey(options.privateKey))) {
    throw new BadInputError('KEY_NOT_NODE', 'the private key is not the identity of the given node: the point would refuse the record')
  }
  return withRendezvousSession(targetInput, options, 'rendezvous register', async (session) => {
    const record = options.record ?? (await sealWakuPeerRecord({addresses: options.addresses ?? session.node.getMultiaddrs().map((a) => a.decapsulateCode(421).toString()), ...(options.mixKey !== undefined ? {mixKey: options.mixKey} : {})}, options.privateKey!))
    if (record.length > MAX_SIGNED_PEER_RECORD_BYTES) throw new BadInputError('RECORD_TOO_LARGE', `the signed record is ${record.length} bytes, more than nwaku reads (${MAX_SIGNED_PEER_RECORD_BYTES})`)
    const what = `rendezvous register response (${options.namespace})`
    const request = encodeRegister({ns: options.namespace, signedPeerRecord: record, ...(options.ttlSeconds !== undefined ? {ttl: BigInt(options.ttlSeconds)} : {})})
    const reply = (await rendezvousRequest(session.dialled.connection, session.protocol, request, {signal: stepSignal(session.signal, session.timeouts.protocolMs), maxResponseBytes: 64 * 1024, what}))!
    expectReplyType(reply, RENDEZVOUS_MESSAGE_TYPE.REGISTER_RESPONSE, what)
    const response = reply.message.registerResponse!
    return {
      namespace: options.namespace,
      peerId: session.node.peerId.toString(),
      status: response.status,
      statusName: rendezvousStatusName(response.status) ?? 'UNRECOGNISED',
      ...(response.statusText !== undefined && response.statusText !== '' ? {statusText: response.statusText} : {}),
      ...(response.ttl !== undefined ? {ttl: Number(response.ttl)} : {}),
    }
  })
}

/** Sends one UNREGISTER (the protocol has no answer to wait for). */
export async function unregisterRendezvous(targetInput: string | Target, options: RendezvousConnectOptions & {namespace: string}): Promise<void> {
  checkNamespace(options.namespace)
  await withRendezvousSession(targetInput, options, 'rendezvous unregister', async (session) => {
    await rendezvousRequest(session.dialled.connection, session.protocol, encodeUnregister({ns: options.namespace}), {
      signal: stepSignal(session.signal, session.timeouts.protocolMs),
      maxResponseBytes: 0,
      what: 'rendezvous unregister',
      expectReply: false,
    })
  })
}
