import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {reach, type ReachReport} from '../../lib/nat/index.js'
import {renderReach} from '../../ui/nat.js'

export default class NatReach extends BaseCommand<typeof NatReach> {
  static override summary = 'Is a libp2p node reachable from here: direct dial, relay, DCUtR hole punch'
  static override description =
    'Dials the target\'s direct addresses (a multiaddr with /p2p/, or an ENR\'s tcp/multiaddrs), then, with --relay (or a /p2p-circuit target), connects through the circuit relay v2 and waits for DCUtR to upgrade the relayed connection to a direct one. With --transport webrtc the upgrade is js-libp2p\'s private-to-private WebRTC: SDP exchanged over the relayed connection, then ICE over UDP with the --stun servers (no TURN, so an open link is direct). Each attempt ends with one of punchr\'s outcomes: SUCCESS, FAILED, NO_CONNECTION, NO_STREAM, CONNECTION_REVERSED, CANCELLED. Exit 0 when the target is reachable directly or by a punch, 3 when only the relay works, 4 when nothing does.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> /ip4/203.0.113.7/tcp/60000/p2p/16Uiu2HAm…',
    '<%= config.bin %> <%= command.id %> /ip4/198.51.100.1/tcp/4001/p2p/16Uiu2HAmRelay…/p2p-circuit/p2p/16Uiu2HAmTarget… --attempts 20 --json',
    '<%= config.bin %> <%= command.id %> /ip4/198.51.100.1/tcp/4001/p2p/16Uiu2HAmRelay…/p2p-circuit/p2p/16Uiu2HAmTarget… --transport webrtc --stun stun:198.51.100.1:3478 --attempts 20',
    '<%= config.bin %> <%= command.id %> enr:-QE… --relay /ip4/198.51.100.1/tcp/4001/p2p/16Uiu2HAmRelay…',
  ]
  static override args = {target: Args.string({required: true, description: 'multiaddr with /p2p/<peer id> (may be a /p2p-circuit address), or an ENR'})}
  static override flags = {
    relay: Flags.string({description: 'circuit relay v2 multiaddr with /p2p/<relay peer id>'}),
    listen: Flags.string({description: 'our listen multiaddr for the punch (repeatable)', multiple: true, default: ['/ip4/0.0.0.0/tcp/0']}),
    announce: Flags.string({description: 'an address we are reachable at (public host, port mapping): lets the target upgrade by dialling us', multiple: true}),
    transport: Flags.string({description: 'how the relayed connection becomes direct: dcutr (TCP, DCUtR) or webrtc (ICE over UDP, signalled through the relay; needs `nat listen --webrtc`)', options: ['dcutr', 'webrtc'], default: 'dcutr'}),
    stun: Flags.string({description: 'STUN server for --transport webrtc, stun:HOST:PORT (repeatable)', multiple: true}),
    attempts: Flags.integer({description: 'hole-punch attempts through the relay', default: 1, min: 1, max: 1000}),
    'attempt-timeout': Flags.integer({description: 'ms to wait for each dial and for each upgrade', default: 10_000, min: 100}),
  }

  async run(): Promise<ReachReport> {
    const report = await reach(this.args.target, {relay: this.flags.relay, listen: this.flags.listen, announce: this.flags.announce, transport: this.flags.transport as 'dcutr' | 'webrtc', stun: this.flags.stun, attempts: this.flags.attempts, timeoutMs: this.flags['attempt-timeout'], signal: this.signal})
    this.out(renderReach(report))
    this.resultExitCode = report.exitCode
    return report
  }
}
