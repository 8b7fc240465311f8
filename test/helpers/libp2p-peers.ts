/**
 * Independent test peers for px/caps: plain js-libp2p nodes (not waku-disc's own node factory),
 * with a chosen set of protocols, answering with raw bytes framed by it-length-prefixed, so our
 * client is checked against a second implementation of the framing. Also hostile answerers.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {generateKeyPair, privateKeyFromRaw} from '@libp2p/crypto/keys'
import {identify} from '@libp2p/identify'
import type {Connection, Libp2p, Stream} from '@libp2p/interface'
import {mplex} from '@libp2p/mplex'
import {ping} from '@libp2p/ping'
import {tcp} from '@libp2p/tcp'
import {webSockets} from '@libp2p/websockets'
import * as lp from 'it-length-prefixed'
import {createLibp2p} from 'libp2p'

export type RawHandler = (stream: Stream, connection: Connection) => Promise<void>

export interface TestPeerOptions {
  /** Protocol id → handler. Ids mapped to 'announce' are registered with a handler that just closes. */
  protocols?: Record<string, RawHandler | 'announce'>
  agentVersion?: string
  /** 32-byte secp256k1 key (so an ENR can be signed for the same identity). */
  rawKey?: Uint8Array
  ws?: boolean
  muxers?: Array<'yamux' | 'mplex'>
  ping?: boolean
  /** Listen on wss (/tls/ws) with this certificate. */
  wss?: {cert: string; key: string}
  /** false: no identify service (a test may then answer /ipfs/id/1.0.0 itself). */
  identify?: boolean
}

export interface TestPeer {
  node: Libp2p
  peerId: string
  tcp: string
  ws?: string
  wss?: string
  port: number
  stop(): Promise<void>
}

export async function startTestPeer(options: TestPeerOptions = {}): Promise<TestPeer> {
  const privateKey = options.rawKey ? privateKeyFromRaw(options.rawKey) : await generateKeyPair('secp256k1')
  const muxers = (options.muxers ?? ['yamux', 'mplex']).map((m) => (m === 'yamux' ? yamux() : mplex()))
  const node = await createLibp2p({
    privateKey,
    addresses: {listen: ['/ip4/127.0.0.1/tcp/0', ...(options.ws ? ['/ip4/127.0.0.1/tcp/0/ws'] : []), ...(options.wss ? ['/ip4/127.0.0.1/tcp/0/tls/ws'] : [])]},
    transports: [tcp(), webSockets(options.wss ? {https: options.wss} : {})],
    connectionEncrypters: [noise()],
    streamMuxers: muxers,
    connectionMonitor: {enabled: false},
    connectionManager: {inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000},
    nodeInfo: {userAgent: options.agentVersion ?? 'test-peer/1.0'},
    services: {
      ...(options.identify === false ? {} : {identify: identify({runOnConnectionOpen: false})}),
      ...(options.ping === false ? {} : {ping: ping()}),
    },
  })
  for (const [id, handler] of Object.entries(options.protocols ?? {})) {
    await node.handle(id, handler === 'announce' ? async (s) => void (await s.close()) : handler)
  }
  const addrs = node.getMultiaddrs().map(String)
  const tcpAddr = addrs.find((a) => !a.includes('/ws'))!
  const wsAddr = addrs.find((a) => a.includes('/ws') && !a.includes('/tls/'))
  const wssAddr = addrs.find((a) => a.includes('/tls/ws'))
  return {
    node,
    peerId: node.peerId.toString(),
    tcp: tcpAddr,
    ...(wsAddr ? {ws: wsAddr} : {}),
    ...(wssAddr ? {wss: wssAddr} : {}),
    port: Number(/\/tcp\/(\d+)/.exec(tcpAddr)![1]),
    stop: async () => {
      await node.stop()
    },
  }
}

/** Reads one length-prefixed request with it-length-prefixed (any size; tests only). */
export async function readRequest(stream: Stream): Promise<Uint8Array | undefined> {
  // Normalise chunks to Uint8Array: libp2p's Uint8ArrayList may be another copy of the class.
  const chunks = (async function* () {
    for await (const c of stream) yield c instanceof Uint8Array ? c : c.subarray()
  })()
  for await (const msg of lp.decode(chunks)) return msg.subarray()
  return undefined
}

/** Honest answer: read the request, send `body` length-prefixed, close. */
export function answer(body: Uint8Array | ((request: Uint8Array | undefined) => Uint8Array)): RawHandler {
  return async (stream) => {
    const req = await readRequest(stream)
    const bytes = typeof body === 'function' ? body(req) : body
    for (const chunk of lp.encode([bytes])) stream.send(chunk)
    await stream.close()
  }
}

/** Speaks first (like an identify responder): sends `body` length-prefixed without reading, then closes. */
export function speakFirst(body: Uint8Array): RawHandler {
  return async (stream) => {
    for (const chunk of lp.encode([body])) stream.send(chunk)
    await stream.close()
  }
}

/** Raw answer: read the request, send exactly `bytes` (no framing added), close. */
export function rawAnswer(bytes: Uint8Array): RawHandler {
  return async (stream) => {
    await readRequest(stream)
    stream.send(bytes)
    await stream.close()
  }
}

/** Slow drip: the answer one byte every `intervalMs` (a slowloris responder). */
export function dripAnswer(bytes: Uint8Array, intervalMs: number): RawHandler {
  return async (stream) => {
    await readRequest(stream)
    const framed = new Uint8Array([...lp.encode.single(bytes).subarray()])
    for (const b of framed) {
      if (stream.status !== 'open') return
      stream.send(Uint8Array.of(b))
      await new Promise((r) => setTimeout(r, intervalMs))
    }
    await stream.close().catch(() => undefined)
  }
}

/** Never answers (holds the stream open until the peer gives up). */
export const silent: RawHandler = async (stream) => {
  await readRequest(stream)
  await new Promise((r) => setTimeout(r, 60_000).unref())
}

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

/** A self-signed certificate for 127.0.0.1/localhost made with openssl (undefined if openssl is missing). */
export function selfSignedCert(dir: string): {cert: string; key: string; certPath: string} | undefined {
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath], {stdio: 'ignore'})
  } catch {
    return undefined
  }
  return {cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath}
}

export interface Discv5Target {
  port: number
  stop(): Promise<void>
}

/** A @chainsafe/discv5 node on 127.0.0.1 (OS-chosen port) with this identity, answering PINGs. */
export async function startDiscv5Target(rawKey: Uint8Array, protocolId: 'd5waku' | 'discv5'): Promise<Discv5Target> {
  const {Discv5, multiaddrFromSocketAddress} = await import('@chainsafe/discv5')
  const {SignableENR} = await import('@chainsafe/enr')
  const privateKey = privateKeyFromRaw(rawKey)
  const node = Discv5.create({
    enr: SignableENR.createFromPrivateKey(privateKey as never),
    privateKey: privateKey as never,
    bindAddrs: {ip4: multiaddrFromSocketAddress({ip: {type: 4, octets: Uint8Array.of(127, 0, 0, 1)}, port: 0})},
    config: {protocolId},
  })
  await node.start()
  // The OS-chosen port lives on the transport's socket (bindAddrs keeps the configured port 0).
  const transport = node.sessionService.transport as unknown as {ip4?: {socket?: {address(): {port: number}}}}
  const port = transport.ip4!.socket!.address().port
  return {port, stop: () => node.stop()}
}
