import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {parseHostPort} from '../../lib/stun/endpoint.js'
import {startStunServer, type StunServerInfo, type StunServerStats} from '../../lib/stun/server.js'
import {renderStunServerInfo, renderStunServerStats} from '../../ui/webrtc.js'

export default class StunServe extends BaseCommand<typeof StunServe> {
  static override summary = 'Run your own STUN server (RFC 5389, RFC 5780 with --alt)'
  static override description =
    'Run a STUN server (RFC 5389 Binding; with --alt, RFC 5780 OTHER-ADDRESS, RESPONSE-ORIGIN and CHANGE-REQUEST) so peers need no third-party STUN server. Runs until interrupted.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --listen 0.0.0.0:3478',
    '<%= config.bin %> <%= command.id %> --listen 203.0.113.10:3478 --alt 203.0.113.11:3479',
  ]

  static override flags = {
    listen: Flags.string({description: 'IP:PORT for the primary address (port 0 = any free port).', required: true}),
    alt: Flags.string({description: 'Second IP:PORT (another IP and another port) for RFC 5780 behaviour discovery.'}),
  }

  async run(): Promise<{info: StunServerInfo; stats: StunServerStats}> {
    const listen = parseHostPort(this.flags.listen, '--listen', {allowZero: true})
    const alt = this.flags.alt ? parseHostPort(this.flags.alt, '--alt', {allowZero: true}) : undefined
    const server = await startStunServer({
      listen,
      alt,
      onEvent: (e) => {
        if (this.flags.verbose) this.progress(`${e.kind} ${e.from} via ${e.via}${e.reason ? `: ${e.reason}` : ''}`)
      },
    })
    this.out(renderStunServerInfo(server.info))
    const interrupted = await untilStopped(this.signal)
    await server.close()
    this.progress(renderStunServerStats(server.stats))
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return {info: server.info, stats: server.stats}
  }
}
