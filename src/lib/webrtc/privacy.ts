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
