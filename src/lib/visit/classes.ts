/**
 * Stable classes for why a visit (libp2p dial + identify) failed. Public: NDJSON `visit.error.class`
 * and the summary's `visits.failed` use these names, and the README lists them. The raw message is
 * always kept beside the class, so a wrong guess here loses nothing.
 */
import type {ErrorJson} from '../errors.js'

export const DIAL_ERROR_CLASSES = [
  'timeout',
  'connection-refused',
  'reset',
  'no-route',
  'dns-failed',
  'tls-failed',
  'negotiation-failed',
  'noise-failed',
  'peer-id-mismatch',
  'muxer-failed',
  'protocol-not-supported',
  'no-libp2p-address',
  'address-refused',
  'other',
] as const
export type DialErrorClass = (typeof DIAL_ERROR_CLASSES)[number]

/** One line per class, for the README and `--help`. */
export const DIAL_ERROR_MEANINGS: Record<DialErrorClass, string> = {
  timeout: 'no answer within the per-peer budget (silent TCP port, stalled handshake or identify)',
  'connection-refused': 'the host answered but nothing listens on the TCP port (RST to SYN)',
  reset: 'the connection was reset or closed during set-up',
  'no-route': 'no route to the host or network (EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL)',
  'dns-failed': 'a dns4/dns6 name in the record did not resolve',
  'tls-failed': 'the wss TLS handshake failed (certificate, name, protocol)',
  'negotiation-failed': 'the remote did not speak multistream-select (not libp2p, or garbage)',
  'noise-failed': 'the Noise handshake failed for a reason other than the peer id',
  'peer-id-mismatch': "the remote authenticated with another key than the record's",
  'muxer-failed': 'no stream multiplexer in common (yamux, mplex) or the muxer broke',
  'protocol-not-supported': 'connected, but the peer refused identify',
  'no-libp2p-address': 'the record has no tcp/tcp6 port and no multiaddrs',
  'address-refused': 'every address is one the crawler will not dial (safety rules, special-use names)',
  other: 'anything else (the message says what)',
}

const RULES: Array<[DialErrorClass, RegExp]> = [
  ['peer-id-mismatch', /does not match expected remote|unexpected peer|WRONG_PEER|authenticated as/i],
  ['connection-refused', /ECONNREFUSED|connection refused/i],
  ['no-route', /EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|no route to host|network is unreachable/i],
  ['dns-failed', /ENOTFOUND|EAI_AGAIN|EAI_NONAME|ESERVFAIL|ENODATA|getaddrinfo|could not resolve|dns/i],
  ['tls-failed', /ERR_TLS|ERR_SSL|CERT_|certificate|self[- ]signed|unable to verify|\bSSL\b|\bTLS\b/i],
  ['reset', /ECONNRESET|EPIPE|socket hang up|reset|ECONNABORTED|closed before|premature close|stream ended/i],
  ['muxer-failed', /muxer|yamux|mplex/i],
  ['noise-failed', /noise|decrypt|handshake|invalid crypto|crypto exchange|payload/i],
  ['negotiation-failed', /multistream|missing newline|protocol selection|length too long|invalid (?:message )?length|unexpected (?:end|eof)|varint|selection failed/i],
  ['timeout', /timed out|timeout|ETIMEDOUT|deadline/i],
]

/** The class of a dial failure, from our typed error's code first and its message next. */
export function classifyDialError(error: Pick<ErrorJson, 'code' | 'message'>): DialErrorClass {
  if (error.code === 'TIMEOUT') return 'timeout'
  if (error.code === 'WRONG_PEER') return 'peer-id-mismatch'
  if (error.code === 'PROTOCOL_UNSUPPORTED') return 'protocol-not-supported'
  for (const [cls, pattern] of RULES) if (pattern.test(error.message)) return cls
  return 'other'
}
