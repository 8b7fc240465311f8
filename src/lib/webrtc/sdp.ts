/**
 * Checks on everything a remote peer (or a paste) hands us before it reaches node-datachannel's
 * native SDP parser: size, characters, line count, candidate count and candidate syntax. The
 * native side has crashed on fuzzed descriptions, and a crash there cannot be caught in JS.
 */
import {deflateRawSync, inflateRawSync} from 'node:zlib'
import {isIP} from 'node:net'

import {BadInputError, ProtocolError} from '../errors.js'

export const MAX_SDP_BYTES = 64 * 1024
export const MAX_SDP_LINES = 400
/** libjuice keeps at most 20 candidates (ICE_MAX_CANDIDATES_COUNT); more is a flood. */
export const MAX_REMOTE_CANDIDATES = 20
export const MAX_COMPACT_CHARS = 16 * 1024

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay'

export interface IceCandidate {
  foundation: string
  component: number
  transport: string
  priority: number
  address: string
  port: number
  type: CandidateType
  relatedAddress?: string
  relatedPort?: number
}

function bad(code: string, message: string, remote: boolean): Error {
  return remote ? new ProtocolError(code, message) : new BadInputError(code, message)
}

/** Parses one `candidate:` line (with or without `a=`). Throws on anything malformed. */
export function parseCandidate(line: string, remote = true): IceCandidate {
  const text = line.trim().replace(/^a=/, '')
  if (text.length > 512) throw bad('BAD_CANDIDATE', `candidate line is ${text.length} characters (limit 512)`, remote)
  const m = /^candidate:(\S{1,32}) (\d{1,3}) (\S{1,16}) (\d{1,10}) (\S{1,64}) (\d{1,5}) typ (host|srflx|prflx|relay)((?: \S{1,64} \S{1,128})*)$/.exec(text)
  if (!m) throw bad('BAD_CANDIDATE', `malformed ICE candidate: "${text.slice(0, 120)}"`, remote)
  const port = Number(m[6])
  if (port < 1 || port > 65535) throw bad('BAD_CANDIDATE', `candidate port ${port} is out of range`, remote)
  const address = m[5]!
  if (!isIP(address)) throw bad('BAD_CANDIDATE', `candidate address "${address.slice(0, 64)}" is not an IP address (host names and mDNS names are refused)`, remote)
  if (/^(0\.0\.0\.0|255\.255\.255\.255|::)$/.test(address) || /^(22[4-9]|23\d)\./.test(address) || /^ff/i.test(address)) {
    throw bad('BAD_CANDIDATE', `candidate address ${address} is unspecified, broadcast or multicast`, remote)
  }
  const priority = Number(m[4])
  if (priority > 0xffffffff) throw bad('BAD_CANDIDATE', `candidate priority ${m[4]} does not fit in 32 bits`, remote)
  const c: IceCandidate = {foundation: m[1]!, component: Number(m[2]), transport: m[3]!.toUpperCase(), priority, address, port, type: m[7] as CandidateType}
  const ext = m[8]!.trim().split(' ').filter(Boolean)
  for (let i = 0; i + 1 < ext.length; i += 2) {
    if (ext[i] === 'raddr') c.relatedAddress = ext[i + 1]
    if (ext[i] === 'rport') c.relatedPort = Number(ext[i + 1])
  }
  return c
}

export interface SdpSummary {
  candidates: IceCandidate[]
  iceUfrag: string
  hasFingerprint: boolean
  /** IceCandidate lines that were dropped (e.g. TCP candidates); counted, not fatal. */
  dropped: number
}

/**
 * Validates an SDP from a remote peer. Returns the normalised SDP (CRLF line ends) and a summary.
 * `remote` picks the error type: ProtocolError for what a peer sent, BadInputError for a paste.
 */
export function validateSdp(sdp: unknown, remote = true): {sdp: string; summary: SdpSummary} {
  if (typeof sdp !== 'string') throw bad('BAD_SDP', 'SDP is not a string', remote)
  const bytes = Buffer.byteLength(sdp)
  if (bytes > MAX_SDP_BYTES) throw bad('SDP_TOO_LARGE', `SDP is ${bytes} bytes (limit ${MAX_SDP_BYTES})`, remote)
  // eslint-disable-next-line no-control-regex
  if (/[^\x20-\x7e\r\n\t]/.test(sdp)) throw bad('BAD_SDP', 'SDP contains non-ASCII or control characters', remote)
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '')
  if (lines.length > MAX_SDP_LINES) throw bad('SDP_TOO_LARGE', `SDP has ${lines.length} lines (limit ${MAX_SDP_LINES})`, remote)
  if (lines[0] !== 'v=0') throw bad('BAD_SDP', `SDP must start with "v=0", got "${(lines[0] ?? '').slice(0, 40)}"`, remote)
  const out: string[] = []
  const candidates: IceCandidate[] = []
  let dropped = 0
  let ufrag = ''
  let fingerprint = false
  let application = false
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) throw bad('BAD_SDP', `malformed SDP line "${line.slice(0, 60)}"`, remote)
    if (line.length > 1024) throw bad('BAD_SDP', `SDP line of ${line.length} characters (limit 1024)`, remote)
    if (line.startsWith('a=candidate:')) {
      const c = parseCandidate(line, remote)
      if (c.transport !== 'UDP') {
        dropped++
        continue
      }
      candidates.push(c)
      if (candidates.length > MAX_REMOTE_CANDIDATES) {
        throw bad('TOO_MANY_CANDIDATES', `SDP carries more than ${MAX_REMOTE_CANDIDATES} candidates`, remote)
      }
    }
    if (line.startsWith('a=ice-ufrag:')) {
      ufrag = line.slice(12)
      if (!/^[A-Za-z0-9+/]{4,256}$/.test(ufrag)) throw bad('BAD_SDP', 'a=ice-ufrag has invalid characters or length (4..256 ice-chars)', remote)
    }
    if (line.startsWith('a=ice-pwd:') && !/^[A-Za-z0-9+/]{22,256}$/.test(line.slice(10))) {
      throw bad('BAD_SDP', 'a=ice-pwd has invalid characters or length (22..256 ice-chars)', remote)
    }
    if (/^a=fingerprint:sha-(256|384|512) [0-9A-Fa-f:]+$/.test(line)) fingerprint = true
    if (/^m=application \d+ (UDP\/)?DTLS\/SCTP webrtc-datachannel$/.test(line)) application = true
    out.push(line)
  }
  if (!application) throw bad('BAD_SDP', 'SDP has no "m=application … webrtc-datachannel" section', remote)
  if (!ufrag) throw bad('BAD_SDP', 'SDP has no a=ice-ufrag', remote)
  if (!fingerprint) throw bad('BAD_SDP', 'SDP has no a=fingerprint (sha-256/384/512)', remote)
  return {sdp: out.join('\r\n') + '\r\n', summary: {candidates, iceUfrag: ufrag, hasFingerprint: fingerprint, dropped}}
}

export interface SessionDescription {
  type: 'offer' | 'answer'
  sdp: string
}

const COMPACT_PREFIX = 'wdc1.'

/** A paste-friendly form of an offer or answer: `wdc1.` + base64url(deflate(JSON)). */
export function encodeCompactDescription(d: SessionDescription): string {
  const json = JSON.stringify({t: d.type === 'offer' ? 'o' : 'a', s: d.sdp.replace(/\r\n/g, '\n')})
  return COMPACT_PREFIX + deflateRawSync(Buffer.from(json), {level: 9}).toString('base64url')
}

export function decodeCompactDescription(text: string): SessionDescription {
  const t = text.trim()
  if (t.length > MAX_COMPACT_CHARS) throw new BadInputError('BAD_COMPACT', `pasted description is ${t.length} characters (limit ${MAX_COMPACT_CHARS})`)
  if (!t.startsWith(COMPACT_PREFIX)) throw new BadInputError('BAD_COMPACT', `pasted text does not start with "${COMPACT_PREFIX}" (copy the whole line printed by the other side)`)
  const body = t.slice(COMPACT_PREFIX.length)
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new BadInputError('BAD_COMPACT', 'pasted description has characters outside base64url')
  let json: unknown
  try {
    json = JSON.parse(inflateRawSync(Buffer.from(body, 'base64url'), {maxOutputLength: MAX_SDP_BYTES + 1024}).toString('utf8'))
  } catch (err) {
    throw new BadInputError('BAD_COMPACT', `pasted description does not decode: ${(err as Error).message}`, {cause: err})
  }
  const o = json as {t?: unknown; s?: unknown}
  if (typeof o !== 'object' || o === null || (o.t !== 'o' && o.t !== 'a') || typeof o.s !== 'string') {
    throw new BadInputError('BAD_COMPACT', 'pasted description has the wrong shape')
  }
  const {sdp} = validateSdp(o.s, false)
  return {type: o.t === 'o' ? 'offer' : 'answer', sdp}
}
