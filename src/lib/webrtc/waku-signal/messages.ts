/**
 * WebRTC offer/answer over Waku relay: the wire messages.
 *
 * Protocol (version 1). All messages go on one pubsub topic `/waku/2/rs/<cluster>/<shard>` as
 * ephemeral Waku messages (store nodes do not keep them); the payload is one of the binary
 * messages below, at most MAX_SIGNAL_BYTES.
 *
 * 1. The listener has a static secp256k1 key (`--key`, or a new one per run) and so a libp2p peer
 *    id and a signed ENR (cluster and shard, no addresses). Its content topic is
 *    `/waku-disc/1/webrtc-<peerId>/proto` (listenerTopic()).
 * 2. Every few seconds it publishes an ANNOUNCE on `/waku-disc/1/webrtc-announce/proto`: its ENR
 *    and its topic with a timestamp, signed by the static key.
 * 3. The dialer knows the listener's ENR or peer id (`--peer`). It waits for a valid, fresh
 *    announcement of that key (waitPeer), then publishes an INVITE on the listener's topic: an
 *    ephemeral public key and, sealed to the listener's key (crypto.ts), a random invitation id,
 *    its own per-run reply topic `/waku-disc/1/webrtc-r<32 hex>/proto` and the SDP offer. It
 *    repeats the same invitation every few seconds until answered (a flood may crowd it out once).
 * 4. The listener serves the first valid invitation: it publishes the ANSWER on the reply topic,
 *    sealed with the other direction's key and bound to the invitation id; the dialer publishes
 *    APPLIED (same id, sealed) on the listener's topic once it has applied the answer.
 *
 * Layout: version (1) ‖ kind (1) ‖ timestamp ms (8, big-endian) ‖ topic length (1) ‖ topic (the
 * content topic it is published on), then per kind:
 *   ANNOUNCE  ENR length (2) ‖ ENR ‖ listener topic length (1) ‖ listener topic ‖ signature r‖s (64, low s) over
 *             keccak256("waku-disc webrtc announce v1" ‖ everything before it);
 *   INVITE    key hint (8) ‖ ephemeral public key (33) ‖ nonce (12) ‖ sealed JSON {id, reply, sdp, node};
 *   ANSWER    invitation id (16) ‖ nonce (12) ‖ sealed JSON {sdp, node};
 *   APPLIED   invitation id (16) ‖ nonce (12) ‖ sealed JSON {}.
 * Everything before the nonce is the associated data, so no header byte can change unnoticed.
 * `node` is the peer id of the Waku node the sender is connected to (so each side can tell whether
 * one node saw both). Timestamps must be within ±FRESH_WINDOW_MS; ephemeral keys and invitation ids
 * are remembered for twice that (ReplayGuard in replay.ts). Refusals are ProtocolErrors with the
 * codes in REFUSAL_CODES: the signaller counts them and never stops for them. Peer ids and --peer
 * are read in identity.ts.
 */
import {randomBytes} from 'node:crypto'

import {ProtocolError} from '../../errors.js'
import {parseEnr, type EnrRecord} from '../../enr/index.js'
import {keccak256, signDigest, verifyDigest} from '../../keys/index.js'
import {bytesToHex, hexToBytes} from '../../keys/hex.js'
import {validateSdp} from '../sdp.js'
import {ecdh, ephemeralKeyPair, KEY_HINT_BYTES, keyHint, NONCE_BYTES, open, PUBLIC_KEY_BYTES, seal, sessionKeys, TAG_BYTES, type SessionKeys} from './crypto.js'

export const SIGNAL_VERSION = 1
export const MAX_SIGNAL_BYTES = 16 * 1024
export const FRESH_WINDOW_MS = 60_000
export const ANNOUNCE_TOPIC = '/waku-disc/1/webrtc-announce/proto'
export const INVITATION_ID_BYTES = 16

export const Kind = {announce: 1, invite: 2, answer: 3, applied: 4} as const
export type KindName = keyof typeof Kind
const KIND_NAMES: Record<number, KindName> = {1: 'announce', 2: 'invite', 3: 'answer', 4: 'applied'}

/** Why a message was refused (ProtocolError codes; counted in the signaller's stats). */
export const REFUSAL_CODES = [
  'SIGNAL_TOO_BIG',
  'SIGNAL_JUNK',
  'SIGNAL_WRONG_TOPIC',
  'SIGNAL_STALE',
  'SIGNAL_WRONG_KEY',
  'SIGNAL_TAMPERED',
  'SIGNAL_REPLAYED',
  'SIGNAL_BAD_SDP',
  'SIGNAL_BUSY',
  'SIGNAL_RATE_LIMITED',
  'SIGNAL_QUEUE_FULL',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

function refuse(code: RefusalCode, message: string): never {
  throw new ProtocolError(code, message)
}

/** The refusal code of an error thrown while reading a message (undefined for anything else: a bug). */
export function refusalCode(err: unknown): RefusalCode | undefined {
  return err instanceof ProtocolError && (REFUSAL_CODES as readonly string[]).includes(err.code) ? (err.code as RefusalCode) : undefined
}

/** The listener's content topic, derived from its identity. */
export function listenerTopic(peerId: string): string {
  return `/waku-disc/1/webrtc-${peerId}/proto`
}

const REPLY_TOPIC = /^\/waku-disc\/1\/webrtc-r[0-9a-f]{32}\/proto$/

/** A dialer's per-run reply topic (random: it names nobody). */
export function newReplyTopic(): string {
  return `/waku-disc/1/webrtc-r${randomBytes(16).toString('hex')}/proto`
}

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', {fatal: true})
const ANNOUNCE_DOMAIN = enc.encode('waku-disc webrtc announce v1')

interface Header {
  kind: KindName
  timestamp: number
  topic: string
  /** Offset of the first byte after the header. */
  end: number
}

function writeHeader(kind: KindName, topic: string, now: number): Uint8Array {
  const t = enc.encode(topic)
  if (t.length > 255) throw new ProtocolError('SIGNAL_JUNK', 'content topic longer than 255 bytes')
  const out = new Uint8Array(11 + t.length)
  out[0] = SIGNAL_VERSION
  out[1] = Kind[kind]
  new DataView(out.buffer).setBigUint64(2, BigInt(Math.max(0, Math.floor(now))))
  out[10] = t.length
  out.set(t, 11)
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/**
 * Reads and checks the clear header: size, version, kind, that it names the topic it came on, and
 * that its timestamp is fresh. Cheap: runs before any signature check or ECDH.
 */
export function readHeader(bytes: Uint8Array, receivedOn: string, now = Date.now()): Header {
  if (!(bytes instanceof Uint8Array)) refuse('SIGNAL_JUNK', 'not a byte payload')
  if (bytes.length > MAX_SIGNAL_BYTES) refuse('SIGNAL_TOO_BIG', `message of ${bytes.length} bytes (limit ${MAX_SIGNAL_BYTES})`)
  if (bytes.length < 11) refuse('SIGNAL_JUNK', `message of ${bytes.length} bytes is shorter than a header`)
  if (bytes[0] !== SIGNAL_VERSION) refuse('SIGNAL_JUNK', `unknown version ${bytes[0]}`)
  const kind = KIND_NAMES[bytes[1]!]
  if (!kind) refuse('SIGNAL_JUNK', `unknown message kind ${bytes[1]}`)
  const ts = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(2)
  const topicLength = bytes[10]!
  if (bytes.length < 11 + topicLength) refuse('SIGNAL_JUNK', 'message ends inside its topic')
  let topic: string
  try {
    topic = dec.decode(bytes.subarray(11, 11 + topicLength))
  } catch {
    refuse('SIGNAL_JUNK', 'topic is not UTF-8')
  }
  if (topic !== receivedOn) refuse('SIGNAL_WRONG_TOPIC', `message names topic "${topic.slice(0, 80)}" but came on ${receivedOn}`)
  const timestamp = ts > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ts)
  if (Math.abs(timestamp - now) > FRESH_WINDOW_MS) refuse('SIGNAL_STALE', `timestamp ${Math.round((timestamp - now) / 1000)} s from now (window ±${FRESH_WINDOW_MS / 1000} s)`)
  return {kind, timestamp, topic, end: 11 + topicLength}
}

// ─── ANNOUNCE ────────────────────────────────────────────────────────────────────────────────

export interface Announcement {
  enr: EnrRecord
  peerId: string
  topic: string
  timestamp: number
}

export function encodeAnnounce(input: {privateKey: Uint8Array; enr: EnrRecord; now?: number}): Uint8Array {
  const header = writeHeader('announce', ANNOUNCE_TOPIC, input.now ?? Date.now())
  const topic = enc.encode(listenerTopic(input.enr.peerId))
  const len = new Uint8Array(2)
  new DataView(len.buffer).setUint16(0, input.enr.raw.length)
  const body = concat(header, len, input.enr.raw, Uint8Array.of(topic.length), topic)
  // r ‖ s only: a recovery byte would be a byte nobody checks (verifyDigest ignores it).
  const signature = signDigest(keccak256(concat(ANNOUNCE_DOMAIN, body)), input.privateKey).subarray(0, 64)
  return concat(body, signature)
}

export function decodeAnnounce(bytes: Uint8Array, now = Date.now()): Announcement {
  const h = readHeader(bytes, ANNOUNCE_TOPIC, now)
  if (h.kind !== 'announce') refuse('SIGNAL_JUNK', `a ${h.kind} message on the announce topic`)
  let o = h.end
  if (bytes.length < o + 2) refuse('SIGNAL_JUNK', 'announcement ends before its ENR')
  const enrLength = (bytes[o]! << 8) | bytes[o + 1]!
  o += 2
  if (bytes.length < o + enrLength + 1) refuse('SIGNAL_JUNK', 'announcement ends inside its ENR')
  let enr: EnrRecord
  try {
    enr = parseEnr(bytes.subarray(o, o + enrLength))
  } catch (err) {
    refuse('SIGNAL_JUNK', `announcement ENR does not parse: ${(err as Error).message.slice(0, 100)}`)
  }
  o += enrLength
  const topicLength = bytes[o]!
  o += 1
  if (bytes.length !== o + topicLength + 64) refuse('SIGNAL_JUNK', 'announcement has the wrong length for its fields')
  let topic: string
  try {
    topic = dec.decode(bytes.subarray(o, o + topicLength))
  } catch {
    refuse('SIGNAL_JUNK', 'announced topic is not UTF-8')
  }
  o += topicLength
  if (!enr.signatureValid) refuse('SIGNAL_TAMPERED', 'announced ENR has an invalid signature')
  const digest = keccak256(concat(ANNOUNCE_DOMAIN, bytes.subarray(0, o)))
  if (!verifyDigest(bytes.subarray(o, o + 64), digest, enr.publicKey)) refuse('SIGNAL_TAMPERED', 'announcement is not signed by the key of its ENR')
  if (topic !== listenerTopic(enr.peerId)) refuse('SIGNAL_TAMPERED', 'announced topic is not the one derived from the ENR key')
  return {enr, peerId: enr.peerId, topic, timestamp: h.timestamp}
}

// ─── INVITE / ANSWER / APPLIED ──────────────────────────────────────────────────────────────────

/** The dialer's side of one invitation (or the listener's, after opening it). */
export interface Session {
  id: Uint8Array
  idHex: string
  ephemeralPublic: Uint8Array
  keys: SessionKeys
  replyTopic: string
  listenerTopic: string
}

export interface OpenedInvitation {
  session: Session
  sdp: string
  /** Peer id of the Waku node the dialer says it is connected to ('' when not given). */
  node: string
  timestamp: number
}

function sealedJson(key: Uint8Array, aad: Uint8Array, value: unknown): Uint8Array {
  const {nonce, sealed} = seal(key, aad, enc.encode(JSON.stringify(value)))
  const out = concat(aad, nonce, sealed)
  // The other side would refuse it: say so here instead of waiting for an answer that never comes.
  if (out.length > MAX_SIGNAL_BYTES) throw new ProtocolError('SIGNAL_TOO_BIG', `our message would be ${out.length} bytes (limit ${MAX_SIGNAL_BYTES}): the SDP is too large`)
  return out
}

function openJson(key: Uint8Array, bytes: Uint8Array, aadEnd: number, what: string): Record<string, unknown> {
  if (bytes.length < aadEnd + NONCE_BYTES + TAG_BYTES) refuse('SIGNAL_JUNK', `${what} is too short`)
  const plain = open(key, bytes.subarray(0, aadEnd), bytes.subarray(aadEnd, aadEnd + NONCE_BYTES), bytes.subarray(aadEnd + NONCE_BYTES))
  if (!plain) refuse('SIGNAL_TAMPERED', `${what} does not decrypt (altered in transit, or sealed with another key)`)
  let obj: unknown
  try {
    obj = JSON.parse(dec.decode(plain))
  } catch {
    refuse('SIGNAL_JUNK', `${what} is not a JSON object`)
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) refuse('SIGNAL_JUNK', `${what} is not a JSON object`)
  return obj as Record<string, unknown>
}

function checkSdp(sdp: unknown, type: 'offer' | 'answer'): string {
  try {
    return validateSdp(sdp, true).sdp
  } catch (err) {
    refuse('SIGNAL_BAD_SDP', `the ${type} in the message is not a usable SDP: ${(err as Error).message.slice(0, 120)}`)
  }
}

const NODE_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

function nodeField(v: unknown): string {
  if (v === undefined || v === '') return ''
  if (typeof v !== 'string' || !NODE_ID.test(v)) refuse('SIGNAL_JUNK', 'node field is not a peer id')
  return v
}

export function createInvitation(input: {listenerPublicKey: Uint8Array; listenerPeerId: string; sdp: string; node?: string; now?: number}): {bytes: Uint8Array; session: Session} {
  const eph = ephemeralKeyPair()
  const shared = ecdh(eph.privateKey, input.listenerPublicKey)
  eph.privateKey.fill(0)
  if (!shared) throw new ProtocolError('SIGNAL_WRONG_KEY', 'the listener key is not a secp256k1 point')
  const keys = sessionKeys(shared, eph.publicKey, input.listenerPublicKey)
  const id = new Uint8Array(randomBytes(INVITATION_ID_BYTES))
  const topic = listenerTopic(input.listenerPeerId)
  const replyTopic = newReplyTopic()
  const aad = concat(writeHeader('invite', topic, input.now ?? Date.now()), keyHint(input.listenerPublicKey), eph.publicKey)
  const bytes = sealedJson(keys.toListener, aad, {id: bytesToHex(id), reply: replyTopic, sdp: input.sdp, ...(input.node ? {node: input.node} : {})})
  return {bytes, session: {id, idHex: bytesToHex(id), ephemeralPublic: eph.publicKey, keys, replyTopic, listenerTopic: topic}}
}

/** Cheap part of reading an invitation (no ECDH): header, key hint, ephemeral key bytes. */
export function peekInvitation(bytes: Uint8Array, input: {staticPublicKey: Uint8Array; topic: string; now?: number}): {ephemeralPublic: Uint8Array; aadEnd: number; timestamp: number} {
  const h = readHeader(bytes, input.topic, input.now)
  if (h.kind !== 'invite') refuse('SIGNAL_JUNK', `expected an invitation, got ${h.kind}`)
  const hintEnd = h.end + KEY_HINT_BYTES
  const aadEnd = hintEnd + PUBLIC_KEY_BYTES
  if (bytes.length < aadEnd + NONCE_BYTES + TAG_BYTES) refuse('SIGNAL_JUNK', 'invitation is too short')
  const hint = keyHint(input.staticPublicKey)
  if (!bytes.subarray(h.end, hintEnd).every((b, i) => b === hint[i])) refuse('SIGNAL_WRONG_KEY', 'invitation is sealed to another key')
  return {ephemeralPublic: bytes.slice(hintEnd, aadEnd), aadEnd, timestamp: h.timestamp}
}

export function openInvitation(bytes: Uint8Array, input: {staticPrivateKey: Uint8Array; staticPublicKey: Uint8Array; topic: string; now?: number}): OpenedInvitation {
  const {ephemeralPublic, aadEnd, timestamp} = peekInvitation(bytes, input)
  const shared = ecdh(input.staticPrivateKey, ephemeralPublic)
  if (!shared) refuse('SIGNAL_TAMPERED', 'invitation carries an ephemeral key that is not a secp256k1 point')
  const keys = sessionKeys(shared, ephemeralPublic, input.staticPublicKey)
  const obj = openJson(keys.toListener, bytes, aadEnd, 'invitation')
  if (typeof obj.id !== 'string' || !/^[0-9a-f]{32}$/.test(obj.id)) refuse('SIGNAL_JUNK', 'invitation id is not 32 hex characters')
  if (typeof obj.reply !== 'string' || !REPLY_TOPIC.test(obj.reply)) refuse('SIGNAL_JUNK', 'invitation reply topic is not a waku-disc reply topic')
  const sdp = checkSdp(obj.sdp, 'offer')
  const node = nodeField(obj.node)
  const session: Session = {id: hexToBytes(obj.id), idHex: obj.id, ephemeralPublic, keys, replyTopic: obj.reply, listenerTopic: input.topic}
  return {session, sdp, node, timestamp}
}

function sessionMessage(kind: 'answer' | 'applied', session: Session, key: Uint8Array, value: unknown, now: number): Uint8Array {
  const topic = kind === 'answer' ? session.replyTopic : session.listenerTopic
  return sealedJson(key, concat(writeHeader(kind, topic, now), session.id), value)
}

export function sealAnswer(session: Session, sdp: string, node = '', now = Date.now()): Uint8Array {
  return sessionMessage('answer', session, session.keys.toDialer, {sdp, ...(node ? {node} : {})}, now)
}

export function sealApplied(session: Session, now = Date.now()): Uint8Array {
  return sessionMessage('applied', session, session.keys.toListener, {}, now)
}

/** The invitation id of an ANSWER or APPLIED (checks the header first). */
export function peekSessionId(bytes: Uint8Array, kind: 'answer' | 'applied', topic: string, now = Date.now()): {idHex: string; aadEnd: number} {
  const h = readHeader(bytes, topic, now)
  if (h.kind !== kind) refuse('SIGNAL_JUNK', `expected ${kind === 'answer' ? 'an answer' : 'an applied notice'}, got ${h.kind}`)
  const aadEnd = h.end + INVITATION_ID_BYTES
  if (bytes.length < aadEnd + NONCE_BYTES + TAG_BYTES) refuse('SIGNAL_JUNK', `${kind} is too short`)
  return {idHex: bytesToHex(bytes.subarray(h.end, aadEnd)), aadEnd}
}

export function openAnswer(session: Session, bytes: Uint8Array, now = Date.now()): {sdp: string; node: string} {
  const {idHex, aadEnd} = peekSessionId(bytes, 'answer', session.replyTopic, now)
  if (idHex !== session.idHex) refuse('SIGNAL_WRONG_KEY', 'answer is bound to another invitation')
  const obj = openJson(session.keys.toDialer, bytes, aadEnd, 'answer')
  return {sdp: checkSdp(obj.sdp, 'answer'), node: nodeField(obj.node)}
}

export function openApplied(session: Session, bytes: Uint8Array, now = Date.now()): void {
  const {idHex, aadEnd} = peekSessionId(bytes, 'applied', session.listenerTopic, now)
  if (idHex !== session.idHex) refuse('SIGNAL_WRONG_KEY', 'applied notice is bound to another invitation')
  openJson(session.keys.toListener, bytes, aadEnd, 'applied notice')
}

/** The kind named by a message header, without any check beyond the first two bytes (for routing on the listener's topic). */
export function kindOf(bytes: Uint8Array): KindName | undefined {
  return bytes.length >= 2 && bytes[0] === SIGNAL_VERSION ? KIND_NAMES[bytes[1]!] : undefined
}
