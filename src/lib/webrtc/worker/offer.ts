/**
 * How an offer is handed to the answerer: two SDP edits that order the native handshake so that it
 * does not race (both used by the loopback pair and by a dial across machines).
 */

/**
 * Splits an offer into the description the answerer applies now (no candidates) and the candidates
 * it adds once the offerer has applied the answer. Applied at once, they let the answerer's ICE
 * checks reach the offerer before the offerer has the answer; libjuice queues them and connects the
 * instant the answer's credentials arrive, which in libdatachannel 0.24 can start DTLS before the
 * answer's fingerprint is committed: the handshake then fails ("certificate verify failed" /
 * "unknown CA") and setRemoteDescription throws "Got a remote candidate without ICE transport"
 * (3 of 100 dials under load here). Held back, the offerer's own checks come first, and they start
 * only after its description is complete; the answerer answers them without knowing the offer's
 * candidates (ICE peer-reflexive), and adds them for NAT traversal once released.
 */
export function holdCandidates(offerSdp: string): {sdp: string; candidates: string[]; mid: string} {
  const lines = offerSdp.split(/\r?\n/)
  const candidates = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2))
  const sdp = lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n')
  const mid = /^a=mid:(\S+)/m.exec(offerSdp)?.[1] ?? '0'
  return {sdp, candidates, mid}
}

/**
 * Declares the offerer the DTLS client (`a=setup:active` instead of `actpass`). The answerer then
 * waits as DTLS server, and the first DTLS flight leaves the offerer only after the offerer's own ICE
 * check succeeded. With actpass the answerer usually becomes the client and, since it gets ICE
 * connectivity before the offerer even has the answer, its ClientHello is dropped and retransmitted
 * 1 s later: every channel then took over a second to open.
 */
export function offererActive(sdp: string): string {
  return sdp.replace(/^a=setup:actpass\r?$/m, 'a=setup:active\r')
}
