import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {parseHostPort} from '../../lib/stun/endpoint.js'
import {startSignalServer, type SignalServerInfo, type SignalServerStats} from '../../lib/webrtc/signal-server.js'
import {renderSignalServerInfo, renderSignalServerStats} from '../../ui/webrtc.js'

export default class WebrtcSignal extends BaseCommand<typeof WebrtcSignal> {
  static override summary = 'A WebSocket rendezvous for `webrtc listen` / `webrtc dial`'
  static override description =
    'Run a small WebSocket rendezvous for `webrtc listen` / `webrtc dial`: rooms of two peers at ws://HOST:PORT/<room>, message relay only, with size limits and idle timeouts. Runs until interrupted.'

  static override examples = ['<%= config.bin %> <%= command.id %> --listen 0.0.0.0:8000', '<%= config.bin %> <%= command.id %> --listen 127.0.0.1:0 --idle-timeout 30']

  static override flags = {
    listen: Flags.string({description: 'HOST:PORT to listen on (port 0 = any free port).', required: true}),
    'idle-timeout': Flags.integer({description: 'Close connections silent for this many seconds.', default: 120, min: 1, max: 86_400}),
    'max-message-bytes': Flags.integer({description: 'Largest message relayed.', default: 64 * 1024, min: 1024, max: 1024 * 1024}),
    'max-rooms': Flags.integer({description: 'Most rooms open at once.', default: 1000, min: 1}),
  }

  async run(): Promise<{info: SignalServerInfo; stats: SignalServerStats}> {
    const listen = parseHostPort(this.flags.listen, '--listen', {allowZero: true})
    const server = await startSignalServer({
      listen,
      idleTimeoutMs: this.flags['idle-timeout'] * 1000,
      maxMessageBytes: this.flags['max-message-bytes'],
      maxRooms: this.flags['max-rooms'],
      onEvent: (e) => {
        if (this.flags.verbose) this.progress(`${e.kind} ${e.room ?? ''} ${e.detail ?? ''}`.trim())
      },
    })
    this.out(renderSignalServerInfo(server.info))
    const interrupted = await untilStopped(this.signal)
    await server.close()
    this.progress(renderSignalServerStats(server.stats))
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return {info: server.info, stats: server.stats}
  }
}
