import {Command, Flags} from '@oclif/core'

import {BadInputError} from '../lib/errors.js'
import {iceServersFrom} from '../lib/webrtc/credentials.js'
import {connectSignal, manualSignaller, readCompactLine, runPeer, type PeerReport} from '../lib/webrtc/peer.js'
import {renderPeerReport} from '../ui/webrtc.js'
import {BaseCommand} from './base-command.js'
import {iceServerFlags, turnFromFlags} from './ice-flags.js'

/** Flags shared by `webrtc listen` and `webrtc dial`: the two ends of one probe. */
export const webrtcPeerFlags = {
  signal: Flags.string({description: 'Signalling server URL ws://HOST:PORT (see `webrtc signal`).', exclusive: ['manual']}),
  room: Flags.string({description: 'Room name shared by both peers.', dependsOn: ['signal']}),
  manual: Flags.boolean({description: "No signalling server: print our description as one wdc1. line on stderr and read the other side's line from stdin."}),
  ...iceServerFlags,
  'relay-only': Flags.boolean({description: 'Only relay candidates (iceTransportPolicy "relay").'}),
  bytes: Flags.integer({description: 'Bytes the dialer sends for the throughput test (0 = skip).', default: 1024 * 1024, min: 0, max: 1024 * 1024 * 1024}),
  pings: Flags.integer({description: 'Ping-pong round trips for the RTT.', default: 10, min: 1, max: 1000}),
  'connect-timeout': Flags.integer({description: 'Give up connecting after this many ms.', default: 15_000, min: 500, max: 300_000}),
  'gather-timeout': Flags.integer({description: 'Stop waiting for ICE gathering after this many ms.', default: 5000, min: 100, max: 60_000}),
}

/** One end of a two-machine WebRTC probe; `listen` answers, `dial` offers. */
export abstract class WebrtcPeerCommand<T extends typeof Command> extends BaseCommand<T> {
  protected abstract readonly role: 'offerer' | 'answerer'

  async run(): Promise<PeerReport> {
    const f = this.flags as unknown as {
      signal?: string; room?: string; manual: boolean; stun?: string[]; turn?: string; 'turn-user'?: string
      'turn-password-file'?: string; 'relay-only': boolean; bytes: number; pings: number; 'connect-timeout': number; 'gather-timeout': number
    }
    if (!f.manual && !(f.signal && f.room)) throw new BadInputError('NO_SIGNALLING', 'give --signal ws://HOST:PORT --room NAME, or --manual')
    const turn = turnFromFlags(f)
    const {iceServers} = iceServersFrom(f.stun, turn)
    if (f['relay-only'] && !turn) throw new BadInputError('RELAY_NEEDS_TURN', '--relay-only needs a TURN server (--turn turn:HOST:PORT --turn-user U)')
    const signaller = f.manual
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
      room: f.room,
      iceServers,
      policy: f['relay-only'] ? 'relay' : 'all',
      bytes: f.bytes,
      pings: f.pings,
      connectTimeoutMs: f['connect-timeout'],
      gatherTimeoutMs: f['gather-timeout'],
      signal: this.signal,
      onProgress: (t) => this.progress(t),
    })
    this.out(renderPeerReport(report))
    if (!report.ok) this.resultExitCode = 3
    return report
  }
}
