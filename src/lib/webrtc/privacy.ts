/**
 * Who learned what during a probe or link (the seed's privacy question): every STUN, TURN,
 * signalling, page or Waku server the run talked to, which of our addresses it saw, whether it saw
 * both peers (so could link them), and whether data went through it.
 */
export type ObserverRole = 'stun' | 'turn' | 'signalling' | 'page-server' | 'waku-node' | 'waku-subscribers' | 'manual'

export interface PrivacyObserver {
  /** What it is: `stun:HOST:PORT`, `turn:HOST:PORT`, `ws://HOST:PORT/room`, a Waku multiaddr, … */
  server: string
  role: ObserverRole
  /** Our addresses it saw, as `IP:PORT` or `IP` (never credentials). */
  sawAddresses: string[]
  /** Whether it saw both peers of the link (can tell who talked to whom); 'unknown' when we cannot tell. */
  sawBothPeers: boolean | 'unknown'
  /** Whether the link's data went through it (a TURN relay on the selected pair). */
  carriedData: boolean
  /** Short facts in words: "the SDP in plain text (all candidates)", "content topics, sizes, timing", … */
  learned: string[]
}

/** Every probe and link report carries `privacy: PrivacyObserver[]` (same shape in --json). */

/** One end of a link as the privacy report needs it: its candidates and the servers it used. */
export interface PrivacyEnd {
  /** "you", "the browser", "the peer"… used in the facts. */
  label: string
  candidates: {type: string; address: string; port: number; relatedAddress?: string; relatedPort?: number; url?: string}[]
  /** `stun:HOST:PORT` / `turn:HOST:PORT` descriptions, credentials never included; undefined = not known. */
  servers?: string[]
}

const hp = (address: string, port?: number) => (port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`)
const uniq = (xs: string[]) => [...new Set(xs)]

/** `stun:1.2.3.4:3478?transport=udp` and `turn:…` → the `HOST:PORT` part, for matching candidate URLs. */
function serverKey(url: string): string {
  return url.replace(/^[a-z]+:/i, '').replace(/\?.*$/, '').toLowerCase()
}

/**
 * Who learned what on one link: each STUN/TURN server either end used (the public addresses it
 * returned are exactly what it saw), and the signalling parties passed in (they know their own
 * part). `selectedPair` decides whether a TURN server carried the data.
 */
export function linkPrivacy(input: {
  local: PrivacyEnd
  remote?: PrivacyEnd
  selectedPair?: {local: {type: string}; remote: {type: string}} | null
  signalling?: PrivacyObserver[]
}): PrivacyObserver[] {
  const out: PrivacyObserver[] = []
  const ends = [input.local, ...(input.remote ? [input.remote] : [])]
  const servers = uniq(ends.flatMap((e) => e.servers ?? []))
  const relayed = !!input.selectedPair && (input.selectedPair.local.type === 'relay' || input.selectedPair.remote.type === 'relay')
  for (const server of servers) {
    const turn = /^turns?:/i.test(server)
    const key = serverKey(server)
    const users = ends.filter((e) => e.servers?.some((s) => serverKey(s) === key))
    const seen: string[] = []
    const learned: string[] = []
    for (const e of users) {
      const fromIt = e.candidates.filter((c) => (turn ? c.type === 'relay' : c.type === 'srflx') && (!c.url || serverKey(c.url) === key || (users.length === 1 && servers.length === 1)))
      // A srflx address is what the server saw as the source; a relay candidate's related address is too.
      const addrs = uniq(fromIt.map((c) => (turn ? (c.relatedAddress ? hp(c.relatedAddress, c.relatedPort) : '') : hp(c.address, c.port))).filter(Boolean))
      seen.push(...addrs)
      if (addrs.length) learned.push(`${e.label}: public address ${addrs.join(', ')}`)
      else if (turn && fromIt.length) learned.push(`${e.label}: its public address (the ICE agent did not report which), relayed as ${uniq(fromIt.map((c) => hp(c.address, c.port))).join(', ')}`)
    }
    if (!seen.length) learned.push('no address it answered with was seen (it may still have seen the requests)')
    learned.push('when each end started its session')
    if (turn) learned.push(relayed ? 'the peer address on the other side of the relay, and the timing and volume of the data (the content stays DTLS-encrypted)' : 'the allocation only; the data did not go through it')
    const unknownOther = ends.length < 2 || ends.some((e) => e.servers === undefined)
    out.push({
      server,
      role: turn ? 'turn' : 'stun',
      sawAddresses: uniq(seen),
      sawBothPeers: users.length >= 2 || (turn && relayed) ? true : unknownOther ? 'unknown' : false,
      carriedData: turn && relayed,
      learned,
    })
  }
  out.push(...(input.signalling ?? []))
  return out
}

/** Host addresses in an SDP reach whoever carries it: name them for the signalling entries. */
export function sdpAddresses(end: PrivacyEnd): string[] {
  return uniq(end.candidates.map((c) => hp(c.address, c.port)))
}
