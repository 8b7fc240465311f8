import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {iceServerFlags, turnFromFlags} from '../../cli/ice-flags.js'
import {iceServersFrom} from '../../lib/webrtc/credentials.js'
import {pairPeers, type PairReport} from '../../lib/webrtc/pair.js'
import {renderPairReport} from '../../ui/webrtc.js'

export default class WebrtcPair extends BaseCommand<typeof WebrtcPair> {
  static override summary = 'Two local peers and a data channel: time to open, RTT, throughput'
  static override description = 'Open a data channel between two local peers and measure time to open, RTT (ping-pong over the channel) and throughput.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --bytes 10000000 --json',
    'WAKU_DISC_TURN_PASSWORD=s3cret <%= config.bin %> <%= command.id %> --relay-only --turn turn:127.0.0.1:3478 --turn-user probe',
  ]

  static override flags = {
    'relay-only': Flags.boolean({description: 'Use iceTransportPolicy "relay": the channel must go through the TURN server.'}),
    bytes: Flags.integer({description: 'Bytes to send for the throughput test (0 = skip).', default: 4 * 1024 * 1024, min: 0}),
    pings: Flags.integer({description: 'Ping-pong round trips for the RTT.', default: 10, min: 1, max: 1000}),
    ...iceServerFlags,
    'connect-timeout': Flags.integer({description: 'Give up connecting after this many ms.', default: 15_000, min: 500, max: 300_000}),
  }

  async run(): Promise<PairReport> {
    const turn = turnFromFlags(this.flags)
    const {iceServers} = iceServersFrom(this.flags.stun, turn)
    const report = await pairPeers({
      iceServers,
      relayOnly: this.flags['relay-only'],
      bytes: this.flags.bytes,
      pings: this.flags.pings,
      connectTimeoutMs: this.flags['connect-timeout'],
      signal: this.signal,
    })
    this.out(renderPairReport(report))
    this.resultExitCode = report.exitCode
    return report
  }
}
