/**
 * One discv5 PING to the UDP endpoint of an ENR, through @chainsafe/discv5 (with waku-disc's patch
 * that makes the packet protocol id configurable: 'd5waku' for Waku's 33/WAKU2-DISCV5, 'discv5'
 * for Ethereum). A throwaway identity, one handshake, one PING, then the socket is closed.
 */
import {Discv5, multiaddrFromSocketAddress} from '@chainsafe/discv5'
import {ENR, SignableENR} from '@chainsafe/enr'
import {generateKeyPair} from '@libp2p/crypto/keys'

import ipaddr from 'ipaddr.js'

import {assertDiscv5Adapter} from '../discv5/adapter/index.js'
import {classifyIp} from '../net/index.js'
import {BadInputError, CheckFailedError, UnreachableError, abortError} from '../errors.js'

export type Discv5ProtocolId = 'd5waku' | 'discv5'

export interface Discv5PingOptions {
  signal?: AbortSignal
  /** Default: 'd5waku' when the record has a waku2 field, else 'discv5'. */
  protocolId?: Discv5ProtocolId
  /** Per-request timeout inside discv5 (one retry), default 2 s. */
  requestTimeoutMs?: number
}

export interface Discv5Pong {
  rttMs: number
  /** The ENR seq the node reports: higher than the record's means the record is stale. */
  enrSeq: string
  /** Our address as the node saw it. */
  observed: string
  protocolId: Discv5ProtocolId
  endpoint: string
}

export async function discv5Ping(enrText: string, options: Discv5PingOptions = {}): Promise<Discv5Pong> {
  let enr: ENR
  try {
    enr = ENR.decodeTxt(enrText.trim())
  } catch (err) {
    throw new BadInputError('BAD_ENR', `discv5 ping: cannot decode the record (${(err as Error).message})`, {cause: err})
  }
  const v4 = enr.ip !== undefined && enr.udp !== undefined
  const ip = v4 ? enr.ip! : enr.ip6
  const port = v4 ? enr.udp! : enr.udp6
  if (ip === undefined || port === undefined) {
    throw new CheckFailedError('NO_DISCV5_ENDPOINT', 'the ENR has no ip+udp (or ip6+udp6): the node does not announce discv5')
  }
  const protocolId = options.protocolId ?? (enr.kvs.has('waku2') ? 'd5waku' : 'discv5')
  const loopback = classifyIp(ip).class === 'loopback'
  // @chainsafe/discv5 carries its own multiaddr version: build the bind address with its helper.
  const octets = v4 ? (loopback ? [127, 0, 0, 1] : [0, 0, 0, 0]) : [...new Array(15).fill(0), loopback ? 1 : 0]
  const bind = multiaddrFromSocketAddress({ip: {type: v4 ? 4 : 6, octets: Uint8Array.from(octets)}, port: 0})
  // The 'd5waku' protocol id exists only with our patch applied: check it is, with a clear error.
  assertDiscv5Adapter()
  const privateKey = await generateKeyPair('secp256k1')
  const discv5 = Discv5.create({
    enr: SignableENR.createFromPrivateKey(privateKey as never),
    privateKey: privateKey as never,
    bindAddrs: v4 ? {ip4: bind} : {ip6: bind},
    config: {protocolId, requestTimeout: options.requestTimeoutMs ?? 2000, requestRetries: 1, sessionEstablishTimeout: options.requestTimeoutMs ?? 2000},
  })
  const endpoint = v4 ? `${ip}:${port}` : `[${ip}]:${port}`
  await discv5.start()
  const signal = options.signal
  let onAbort: (() => void) | undefined
  try {
    const started = performance.now()
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal!, 'discv5 ping'))
      if (signal?.aborted) onAbort()
      else signal?.addEventListener('abort', onAbort, {once: true})
    })
    const pong = await Promise.race([discv5.sendPing(enr), aborted])
    return {
      rttMs: Math.round((performance.now() - started) * 100) / 100,
      enrSeq: pong.enrSeq.toString(),
      observed: socketText(pong.addr as {ip: unknown; port: number}),
      protocolId,
      endpoint,
    }
  } catch (err) {
    if (signal?.aborted) throw abortError(signal, 'discv5 ping')
    throw new UnreachableError('DISCV5_NO_PONG', `no discv5 PONG from ${endpoint} (protocol id ${protocolId}): ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
      hint: protocolId === 'd5waku' ? 'Waku nodes speak d5waku; an Ethereum node needs --discv5-protocol discv5' : 'a Waku node needs --discv5-protocol d5waku',
    })
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    await discv5.stop().catch(() => undefined)
  }
}

/** discv5 reports addresses as {ip: {type, octets}, port}. */
function socketText(addr: {ip: unknown; port: number}): string {
  const ip = addr.ip as {type?: number; octets?: Uint8Array} | string
  if (typeof ip === 'string') return `${ip}:${addr.port}`
  if (ip?.octets) {
    const text = ipaddr.fromByteArray([...ip.octets]).toString()
    return ip.type === 6 ? `[${text}]:${addr.port}` : `${text}:${addr.port}`
  }
  return `?:${addr.port}`
}
