import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {iceServerFlags, turnFromFlags} from '../../cli/ice-flags.js'
import {checkStunCount} from '../../lib/webrtc/credentials.js'
import {parseStunUrl, splitList} from '../../lib/webrtc/ice.js'
import {probeNat, type ProbeReport} from '../../lib/webrtc/probe.js'
import {renderProbeReport} from '../../ui/webrtc.js'

export default class WebrtcProbe extends BaseCommand<typeof WebrtcProbe> {
  static override summary = 'What this machine can do with your STUN/TURN servers: candidates, NAT behaviour, TURN, verdict'
  static override description =
    'Probe NAT traversal with your STUN/TURN servers: ICE candidates by type, public mappings and whether they are endpoint-independent, RFC 5780 mapping/filtering when the server supports it, a TURN allocation and relay-only data channel, a verdict and a privacy note.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --stun stun:stun.example.org:3478',
    'WAKU_DISC_TURN_PASSWORD=s3cret <%= config.bin %> <%= command.id %> --stun stun:198.18.0.1 --stun stun:198.18.0.2 --turn turn:198.18.0.1:3478 --turn-user probe --json',
  ]

  static override flags = {
    ...iceServerFlags,
    'gather-timeout': Flags.integer({description: 'Stop waiting for ICE gathering after this many ms.', default: 5000, min: 100, max: 60_000}),
    'connect-timeout': Flags.integer({description: 'Give up on the relay-only data channel after this many ms.', default: 10_000, min: 500, max: 120_000}),
    'no-rfc5780': Flags.boolean({description: 'Skip the RFC 5780 mapping/filtering tests.'}),
  }

  async run(): Promise<ProbeReport> {
    const turn = turnFromFlags(this.flags)
    const stun = splitList(this.flags.stun).map(parseStunUrl)
    checkStunCount(stun.length) // before the progress line: bad input is one line
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
    this.resultExitCode = report.exitCode
    return report
  }
}
