import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {serveTreeDirectories, type DnsServerHandle} from '../../lib/dns/index.js'
import {BadInputError} from '../../lib/errors.js'

export interface ServeResult {
  host: string
  port: number
  zones: DnsServerHandle['zones']
  stats: DnsServerHandle['stats']
}

export default class DnsTreeServe extends BaseCommand<typeof DnsTreeServe> {
  static override description = 'Serve signed tree directories from a small authoritative DNS server (UDP and TCP on one port) until interrupted. For local testing and testnets.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./tree --listen 127.0.0.1:5353',
    '<%= config.bin %> <%= command.id %> ./tree-a ./tree-b --listen 127.0.0.1:0 --delay 20',
  ]
  static override strict = false
  static override args = {dir: Args.string({required: true, description: 'signed tree directory (several allowed)'})}
  static override flags = {
    listen: Flags.string({description: 'HOST:PORT to listen on (port 0 = any free port, printed at start)', default: '127.0.0.1:5353', env: 'WAKU_DISC_DNS_LISTEN'}),
    delay: Flags.integer({description: 'delay every answer by this many ms (simulated latency)', default: 0, min: 0, max: 60_000}),
  }

  async run(): Promise<ServeResult> {
    const {argv} = await this.parse(DnsTreeServe)
    const dirs = (argv as string[]).filter((a) => !a.startsWith('-'))
    if (dirs.length === 0) throw new BadInputError('DNS_NO_TREE_DIR', 'give at least one tree directory')
    const server = await serveTreeDirectories(dirs, {listen: this.flags.listen, delayMs: this.flags.delay, signal: this.signal})
    const where = server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`
    for (const z of server.zones) this.out(`serving ${z.url ?? z.domain} (${z.records} records) on ${where} (UDP+TCP)`)
    this.progress(`listening on ${where}; Ctrl-C to stop`)
    await new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve()
      else this.signal.addEventListener('abort', () => resolve(), {once: true})
    })
    await server.close()
    this.progress(`stopped: ${server.stats.udp} UDP and ${server.stats.tcp} TCP queries answered`)
    return {host: server.host, port: server.port, zones: server.zones, stats: server.stats}
  }
}
