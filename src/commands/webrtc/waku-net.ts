import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {startWakuNetwork} from '../../lib/webrtc/waku-signal/network.js'

export default class WebrtcWakuNet extends BaseCommand<typeof WebrtcWakuNet> {
  static override summary = 'Run a local js-waku relay network for `webrtc listen/dial --signal waku`'
  static override description =
    'Starts N js-waku relay nodes listening on WebSockets (free ports on --listen), each dialling the previous one (a line: node 1 – node 2 – … – node N), on one pubsub topic /waku/2/rs/<cluster>/<shard>. No discovery and no bootstrap: they talk only to each other. Prints each node’s multiaddr, then `ready`; --json prints {pubsubTopic, nodes} once ready. Runs until interrupted.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --nodes 5 --cluster 42 --json',
  ]

  static override flags = {
    nodes: Flags.integer({description: 'How many relay nodes (1-64).', default: 3}),
    listen: Flags.string({description: 'IP address the nodes listen on.', default: '127.0.0.1'}),
    cluster: Flags.integer({description: 'Waku cluster id.', default: 1}),
    shard: Flags.integer({description: 'Shard (pubsub topic /waku/2/rs/<cluster>/<shard>).', default: 0}),
  }

  async run(): Promise<{pubsubTopic: string; nodes: {peerId: string; multiaddr: string}[]}> {
    this.progress(`starting ${this.flags.nodes} js-waku relay nodes on ${this.flags.listen}…`)
    const net = await startWakuNetwork({nodes: this.flags.nodes, host: this.flags.listen, cluster: this.flags.cluster, shard: this.flags.shard, signal: this.signal})
    const description = {pubsubTopic: net.pubsubTopic, nodes: net.nodes}
    if (this.jsonEnabled()) {
      // Printed once ready (not at the end) so scripts and tests can use the nodes while it runs.
      this.logJson(description)
    } else {
      net.nodes.forEach((n, i) => this.out(`node ${i + 1}: ${n.multiaddr}`))
      this.out('ready')
    }
    const interrupted = await untilStopped(this.signal)
    await net.stop()
    this.progress('Waku network stopped')
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return description
  }

  /** The description was printed when ready; don't print it a second time at exit. */
  protected override logJson(json: unknown): void {
    if (this.printed) return
    this.printed = true
    super.logJson(json)
  }

  private printed = false
}
