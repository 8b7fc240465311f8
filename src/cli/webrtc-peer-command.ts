import {Command, Flags} from '@oclif/core'

import {BadInputError} from '../lib/errors.js'
import {loadPrivateKey} from '../lib/keys/index.js'
import {iceServersFrom} from '../lib/webrtc/credentials.js'
import {connectSignal, manualSignaller, readCompactLine, runPeer, type PeerReport, type Signaller} from '../lib/webrtc/peer.js'
import {connectWakuSignal, type WakuSignalStats, type WakuSignaller} from '../lib/webrtc/waku-signal/signaller.js'
import {renderWakuIdentity, renderWakuSignalStats} from '../ui/waku-signal.js'
import {renderPeerReport} from '../ui/webrtc.js'
import {BaseCommand} from './base-command.js'
import {iceServerFlags, turnFromFlags} from './ice-flags.js'

/** Flags shared by `webrtc listen` and `webrtc dial`: the two ends of one probe. */
export const webrtcPeerFlags = {
  signal: Flags.string({description: 'Signalling: a `webrtc signal` server URL ws://HOST:PORT, or `waku` (offer and answer over Waku relay; needs --waku-node).', exclusive: ['manual']}),
  room: Flags.string({description: 'Room name shared by both peers (ws:// signalling).', dependsOn: ['signal']}),
  'waku-node': Flags.string({description: 'With --signal waku: the Waku relay node to connect to, a WebSocket multiaddr /ip4/HOST/tcp/PORT/ws/p2p/ID or an ENR with one (see `webrtc waku-net`).', helpGroup: 'WAKU'}),
  key: Flags.string({description: 'With --signal waku, listener: static secp256k1 key file (hex or keystore, as `key generate` writes), so the ENR and peer id stay the same across runs (default: a new key per run).', helpGroup: 'WAKU'}),
  cluster: Flags.integer({description: 'With --signal waku: the Waku cluster id (pubsub topic /waku/2/rs/<cluster>/<shard>).', default: 1, helpGroup: 'WAKU'}),
  shard: Flags.integer({description: 'With --signal waku: the shard.', default: 0, helpGroup: 'WAKU'}),
  manual: Flags.boolean({description: "No signalling server: print our description as one wdc1. line on stderr and read the other side's line from stdin."}),
  ...iceServerFlags,
  'relay-only': Flags.boolean({description: 'Only relay candidates (iceTransportPolicy "relay").'}),
  bytes: Flags.integer({description: 'Bytes the dialer sends for the throughput test (0 = skip).', default: 1024 * 1024, min: 0, max: 1024 * 1024 * 1024}),
  pings: Flags.integer({description: 'Ping-pong round trips for the RTT.', default: 10, min: 1, max: 1000}),
  'connect-timeout': Flags.integer({description: 'Give up connecting after this many ms.', default: 15_000, min: 500, max: 300_000}),
  'gather-timeout': Flags.integer({description: 'Stop waiting for ICE gathering after this many ms.', default: 5000, min: 100, max: 60_000}),
}

/** `webrtc dial` only: the listener to invite over Waku. */
export const webrtcDialFlags = {
  peer: Flags.string({description: 'With --signal waku: the listener’s ENR (enr:…) or peer id, as `webrtc listen --signal waku` prints them.', helpGroup: 'WAKU'}),
  'peer-timeout': Flags.integer({description: 'With --signal waku: give up after this many seconds without an announcement from --peer.', default: 120, min: 1, max: 86_400, helpGroup: 'WAKU'}),
}

type PeerFlags = {
  signal?: string; room?: string; manual: boolean; stun?: string[]; turn?: string; 'turn-user'?: string
  'turn-password-file'?: string; 'relay-only': boolean; bytes: number; pings: number; 'connect-timeout': number; 'gather-timeout': number
  'waku-node'?: string; key?: string; cluster: number; shard: number; peer?: string; 'peer-timeout'?: number
}

/**
 * The ICE and measurement settings both ends of a link take from the same flags (`webrtc
 * listen|dial`, and `listen --page`): TURN credentials, ICE servers, policy, sizes and timeouts.
 */
export function linkSetup(f: Pick<PeerFlags, 'stun' | 'turn' | 'turn-user' | 'turn-password-file' | 'relay-only' | 'bytes' | 'pings' | 'connect-timeout' | 'gather-timeout'>) {
  const turn = turnFromFlags(f)
  const {iceServers} = iceServersFrom(f.stun, turn)
  if (f['relay-only'] && !turn) throw new BadInputError('RELAY_NEEDS_TURN', '--relay-only needs a TURN server (--turn turn:HOST:PORT --turn-user U)')
  return {
    turn,
    iceServers,
    policy: f['relay-only'] ? ('relay' as const) : ('all' as const),
    bytes: f.bytes,
    pings: f.pings,
    connectTimeoutMs: f['connect-timeout'],
    gatherTimeoutMs: f['gather-timeout'],
  }
}

/** One end of a two-machine WebRTC probe; `listen` answers, `dial` offers. */
export abstract class WebrtcPeerCommand<T extends typeof Command> extends BaseCommand<T> {
  protected abstract readonly role: 'offerer' | 'answerer'

  async run(): Promise<PeerReport & {signalling?: WakuSignalStats}> {
    const f = this.flags as unknown as PeerFlags
    const waku = f.signal === 'waku'
    this.checkSignallingFlags(f, waku)
    const {turn: _turn, ...link} = linkSetup(f)
    const signaller: Signaller = waku
      ? await this.wakuSignaller(f)
      : f.manual
      ? manualSignaller(
          (code, d) => {
            // The line must reach the user even with --json/--quiet: it is how the exchange works.
            process.stderr.write(`Our ${d.type} (paste it into the other side):\n${code}\n`)
            if (d.type === 'offer') process.stderr.write('Paste the answer line here:\n')
          },
          async () => {
            const line = await readCompactLine(process.stdin, this.signal)
            // One line is all we read; a still-open stdin pipe would keep the process alive.
            process.stdin.destroy()
            return line
          },
        )
      : await connectSignal(f.signal!, f.room!, {signal: this.signal})
    const report = await runPeer({
      role: this.role,
      signaller,
      room: waku ? undefined : f.room,
      ...link,
      signal: this.signal,
      onProgress: (t) => this.progress(t),
    })
    const wakuSignaller = waku ? (signaller as WakuSignaller) : undefined
    // runPeer closed the signaller: let the Waku node finish stopping before the process exits.
    await wakuSignaller?.closed
    this.out(renderPeerReport(report))
    if (wakuSignaller) this.out(renderWakuSignalStats(wakuSignaller.stats()))
    this.resultExitCode = report.exitCode
    return wakuSignaller ? {...report, signalling: wakuSignaller.stats()} : report
  }

  /** Which signalling the flags ask for, refused with one clear error when they mix or miss. */
  private checkSignallingFlags(f: PeerFlags, waku: boolean): void {
    const wakuOnly = (['waku-node', 'key', 'peer'] as const).filter((k) => f[k] !== undefined)
    if (!waku && wakuOnly.length) throw new BadInputError('WAKU_FLAGS_NEED_WAKU', `--${wakuOnly[0]} goes with --signal waku`)
    if (waku) {
      if (f.room !== undefined) throw new BadInputError('ROOM_NOT_FOR_WAKU', '--room is for ws:// signalling; over Waku the dialer names the listener with --peer')
      if (!f['waku-node']) throw new BadInputError('WAKU_NODE_REQUIRED', '--signal waku needs --waku-node MULTIADDR|ENR (a Waku relay node reachable over WebSockets; `webrtc waku-net` runs a local one)')
      if (this.role === 'offerer' && !f.peer) throw new BadInputError('PEER_REQUIRED', '--signal waku needs --peer: the listener’s ENR or peer id (it prints both on stderr)')
      if (this.role === 'offerer' && f.key) throw new BadInputError('KEY_LISTEN_ONLY', '--key is the listener’s static key; the dialer uses a new key per run')
      return
    }
    if (!f.manual && !(f.signal && f.room)) throw new BadInputError('NO_SIGNALLING', 'give --signal ws://HOST:PORT --room NAME, --signal waku --waku-node ADDR, or --manual')
  }

  private async wakuSignaller(f: PeerFlags): Promise<WakuSignaller> {
    const privateKey = f.key ? await loadPrivateKey(f.key) : undefined
    return connectWakuSignal({
      role: this.role,
      node: f['waku-node']!,
      cluster: f.cluster,
      shard: f.shard,
      privateKey,
      peer: f.peer,
      waitPeerTimeoutMs: (f['peer-timeout'] ?? 120) * 1000,
      signal: this.signal,
      // What the dialer needs must reach the user even with --json/--quiet (like --manual's lines).
      onIdentity: (identity) => process.stderr.write(renderWakuIdentity(identity)),
      onProgress: (t) => this.progress(t),
    })
  }
}
