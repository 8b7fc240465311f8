import {Flags} from '@oclif/core'

import {linkSetup, WebrtcPeerCommand, webrtcPeerFlags} from '../../cli/webrtc-peer-command.js'
import {abortError, ExitCode} from '../../lib/errors.js'
import {startPageServer} from '../../lib/webrtc/page-server.js'
import {renderPageReport} from '../../ui/webrtc.js'

export default class WebrtcListen extends WebrtcPeerCommand<typeof WebrtcListen> {
  static override summary = 'Wait for a WebRTC peer (signalling room, --manual, or a browser with --page) and report the connection'
  static override description =
    'Wait for a peer running `webrtc dial` (in a `webrtc signal` room, or by pasting offer and answer with --manual), answer it, and report the selected candidate pair from both ends and the time to connect (the dialer measures RTT and throughput; we answer its pings).\n\nWith --page, serve a small page instead: any browser that opens its URL gathers candidates with its own ICE agent (same --stun/--turn list), shows them, and opens a data channel to this process; both the page and the CLI end with the same report (user agent, candidates, mapping, verdict, selected pair, open time, RTT, throughput, who learned what).'

  static override examples = [
    '<%= config.bin %> <%= command.id %> --signal ws://198.51.100.7:8000 --room lab1 --stun stun:198.51.100.7:3478',
    '<%= config.bin %> <%= command.id %> --manual --stun stun:198.51.100.7',
    '<%= config.bin %> <%= command.id %> --page --once --stun stun:198.51.100.7:3478',
    '<%= config.bin %> <%= command.id %> --page --page-host 0.0.0.0 --page-port 8080 --stun stun:198.51.100.7 --turn turn:198.51.100.7 --turn-user probe',
  ]

  static override flags = {
    ...webrtcPeerFlags,
    page: Flags.boolean({description: 'Serve a page for a browser to be the other end (prints `page: URL` on stderr).', exclusive: ['signal', 'manual']}),
    // No defaults here: oclif checks dependsOn against defaulted flags too (the defaults are applied in run()).
    'page-host': Flags.string({description: 'Address to serve the page on [default: 127.0.0.1].', dependsOn: ['page']}),
    'page-port': Flags.integer({description: 'Port to serve the page on (0 = any free port) [default: 0].', min: 0, max: 65535, dependsOn: ['page']}),
    once: Flags.boolean({description: 'With --page: exit after the first browser has finished (exit 0 connected, 3 not).', dependsOn: ['page']}),
  }

  protected readonly role = 'answerer'

  // PeerReport from a signalled peer, PageReport (or the session counts without --once) with --page.
  override async run(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!this.flags.page) return super.run()
    const f = this.flags
    const server = await startPageServer({
      host: f['page-host'] ?? '127.0.0.1',
      port: f['page-port'] ?? 0,
      ...linkSetup(f),
      signal: this.signal,
      onProgress: (t) => this.progress(t),
    })
    // The URL must reach the user even with --json/--quiet: it is how the browser gets here.
    process.stderr.write(`page: ${server.url}\n`)
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(abortError(this.signal, 'waiting for a browser'))
      if (this.signal.aborted) fail()
      else this.signal.addEventListener('abort', fail, {once: true})
    })
    try {
      if (f.once) {
        const report = await Promise.race([server.nextReport(), aborted])
        this.out(renderPageReport(report))
        this.resultExitCode = report.exitCode
        return report
      }
      // Serve browser after browser until stopped; each report as it comes (one JSON line with --json).
      for (;;) {
        const report = await Promise.race([server.nextReport(), aborted]).catch(() => undefined)
        if (!report) break
        if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(report)}\n`)
        else this.out(renderPageReport(report))
      }
      if (this.signal.reason && (this.signal.reason as Error).name !== 'TimeoutError') this.resultExitCode = ExitCode.interrupted
      return server.stats
    } finally {
      await server.close()
    }
  }
}
