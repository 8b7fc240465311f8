import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {loadTurnConfig} from '../../lib/webrtc/credentials.js'
import {parseStunUrl, splitList} from '../../lib/webrtc/ice.js'
import {probeNat, type ProbeReport} from '../../lib/webrtc/probe.js'
import {renderProbeReport} from '../../ui/webrtc.js'

export default class WebrtcProbe extends BaseCommand<typeof WebrtcProbe> {
  static override description =
    'Probe NAT traversal with your STUN/TURN servers: ICE candidates by type, public mappings and whether they are endpoint-independent, RFC 5780 mapping/filtering when the server supports it, a TURN allocation and relay-only data channel, a verdict and a privacy note.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --stun stun:stun.example.org:3478',
    'WAKU_DISC_TURN_PASSWORD=s3cret <%= config.bin %> <%= command.id %> --stun stun:198.18.0.1 --stun stun:198.18.0.2 --turn turn:198.18.0.1:3478 --turn-user probe --json',
  ]

  static override flags = {
    stun: Flags.string({description: 'STUN server URL stun:HOST[:PORT] (repeatable, comma-separated). One PeerConnection is used per server.', multiple: true}),
    turn: Flags.string({description: 'TURN server URL turn:HOST[:PORT][?transport=udp] (TCP/TLS cannot be tested by node-datachannel).'}),
    'turn-user': Flags.string({description: 'TURN username (the password comes from WAKU_DISC_TURN_PASSWORD or --turn-password-file).'}),
    'turn-password-file': Flags.string({description: 'File holding the TURN password (first line).'}),
    'gather-timeout': Flags.integer({description: 'Stop waiting for ICE gathering after this many ms.', default: 5000, min: 100, max: 60_000}),
    'connect-timeout': Flags.integer({description: 'Give up on the relay-only data channel after this many ms.', default: 10_000, min: 500, max: 120_000}),
    'no-rfc5780': Flags.boolean({description: 'Skip the RFC 5780 mapping/filtering tests.'}),
  }

  async run(): Promise<ProbeReport> {
    const turn = loadTurnConfig({
      turn: this.flags.turn,
      user: this.flags['turn-user'],
      passwordFile: this.flags['turn-password-file'],
      passwordEnv: process.env.WAKU_DISC_TURN_PASSWORD,
    })
    const stun = splitList(this.flags.stun).map(parseStunUrl)
    this.progress('probing…')
    const report = await probeNat({
      stun,
      turn,
      gatherTimeoutMs: this.flags['gather-timeout'],
      connectTimeoutMs: this.flags['connect-timeout'],
      skipBehavior: this.flags['no-rfc5780'],
      signal: this.signal,
    })
    this.out(renderProbeReport(report))
    const turnBad = report.turn && !['ok', 'unsupported-transport'].includes(report.turn.status)
    const allStunFailed = report.stun.length > 0 && report.stun.every((s) => s.error !== undefined)
    if (turnBad || allStunFailed || report.verdict === 'UDP blocked') this.resultExitCode = 3
    return report
  }
}
