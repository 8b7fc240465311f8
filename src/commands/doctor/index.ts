import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {createTxtResolver} from '../../lib/dns/index.js'
import {runDoctor} from '../../lib/doctor/index.js'
import {describeDoctor, renderDoctor, type DescribedDoctorReport} from '../../ui/doctor.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'One health report for a node (ENR or multiaddr) or a DNS tree (enrtree://)'
  static override description =
    'Chains the other checks: for an ENR, decode and lint, a discv5 PING to its udp endpoint (d5waku for Waku records), caps (identify, protocols, metadata, ping, ENR cross-check) and a peer-exchange sample; for a multiaddr, caps and the PX sample; for an enrtree:// URL, the tree\'s verification and caps on a random sample of its nodes. Steps that cannot run say why. Exit 0 when healthy (warnings allowed), 3 when a check failed, 4 when the node is unreachable.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> enr:-QE…',
    '<%= config.bin %> <%= command.id %> /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAm… --json',
    '<%= config.bin %> <%= command.id %> enrtree://AIRVQ5…@sandbox.waku.nodes.status.im --sample 5',
    '<%= config.bin %> <%= command.id %> enrtree://…@nodes.example.org --server 127.0.0.1:5353',
    '<%= config.bin %> <%= command.id %> enr:-QE… --reachability --gateway 192.168.1.1 --relay /ip4/198.51.100.1/tcp/4001/p2p/16Uiu2HAm…',
  ]
  static override args = {target: Args.string({required: true, description: 'ENR, multiaddr with /p2p/<peer id>, or enrtree:// URL'})}
  static override flags = {
    num: Flags.integer({char: 'n', description: 'peers to ask for in the peer-exchange sample', default: 5, min: 1, max: 60}),
    sample: Flags.integer({description: 'tree nodes to check with caps (enrtree:// only)', default: 3, min: 0, max: 50}),
    server: Flags.string({description: 'DNS server for enrtree:// (HOST:PORT)', env: 'WAKU_DISC_DNS_SERVER', exclusive: ['doh']}),
    doh: Flags.string({description: 'DNS-over-HTTPS endpoint for enrtree://', env: 'WAKU_DISC_DOH', exclusive: ['server']}),
    'discv5-protocol': Flags.string({description: "discv5 packet protocol id for the PING (default: d5waku for records with waku2, else discv5)", options: ['d5waku', 'discv5']}),
    'no-discv5': Flags.boolean({description: 'skip the discv5 PING'}),
    reachability: Flags.boolean({description: "run on the node's host: port mapping at the gateway (a test mapping of the record's udp port, removed after) compared with the record, and with --relay a DCUtR attempt"}),
    gateway: Flags.string({description: 'gateway for --reachability (default: the default route)', dependsOn: ['reachability']}),
    relay: Flags.string({description: 'circuit relay v2 multiaddr for --reachability: dial the node through it and watch for a direct upgrade', dependsOn: ['reachability']}),
  }

  async run(): Promise<DescribedDoctorReport> {
    const isTree = /^enrtree:\/\//i.test(this.args.target.trim())
    const resolver = isTree ? createTxtResolver({server: this.flags.server, doh: this.flags.doh}) : undefined
    try {
      const report = await runDoctor(this.args.target, {
        signal: this.signal,
        pxPeers: this.flags.num,
        treeSample: this.flags.sample,
        ...(this.flags['no-discv5'] ? {discv5Ping: false as const} : {}),
        ...(this.flags['discv5-protocol'] ? {discv5Protocol: this.flags['discv5-protocol'] as 'd5waku' | 'discv5'} : {}),
        ...(resolver ? {resolver} : {}),
        ...(this.flags.reachability ? {reachability: {gateway: this.flags.gateway, relay: this.flags.relay}} : {}),
      })
      this.out(renderDoctor(report))
      this.resultExitCode = report.exitCode
      // --json: each step also says in words what the human view says.
      return describeDoctor(report)
    } finally {
      await resolver?.close()
    }
  }
}
