import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {testnetErrorInFlagTerms, type TestnetFlagNames} from '../../cli/testnet-option-error.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {BadInputError, ExitCode} from '../../lib/errors.js'
import {startTestnet, type TestnetDescription, type TestnetOptions} from '../../lib/testnet/index.js'
import {renderTestnet} from '../../ui/testnet.js'

/** This command's flag for each library option whose value the library checks. */
const FLAG_OF: TestnetFlagNames = {
  nodes: '--nodes',
  wakuShare: '--waku-share',
  dead: '--dead',
  liars: '--liars',
  libp2p: '--libp2p-share',
  libp2pLies: '--libp2p-lies',
  ipv6: '--ipv6',
  dualStack: '--dual-stack',
  cluster: '--cluster',
  shards: '--shards',
}

const inFlagTerms = (error: unknown) => testnetErrorInFlagTerms(error, FLAG_OF)

function fraction(name: string, text: string): number {
  const v = Number(text)
  if (text.trim() === '' || !Number.isFinite(v)) throw new BadInputError('BAD_TESTNET_OPTION', `${name} must be a number between 0 and 1, got ${JSON.stringify(text)}`)
  return v
}

export default class Testnet extends BaseCommand<typeof Testnet> {
  static override description = `Run a local discv5 network on loopback: N nodes (Waku ENRs with capabilities, cluster, shards and multiaddrs for a chosen share, plain records for the rest), routing tables filled directly so startup takes seconds, optionally with dead nodes and misbehaving ones (silent, garbage replies, wrong distances, NODES floods, records pointing at forbidden addresses). Prints the bootnode ENR and runs until interrupted; --json prints the description once ready.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --nodes 200',
    '<%= config.bin %> <%= command.id %> --nodes 1000 --dead 0.2 --liars 0.1 --json',
    '<%= config.bin %> <%= command.id %> --nodes 100 --protocol-id discv5 --waku-share 0.1',
    '<%= config.bin %> <%= command.id %> --nodes 200 --libp2p --libp2p-lies 0.3',
    '<%= config.bin %> <%= command.id %> --nodes 200 --libp2p --px --rendezvous --dns',
    '<%= config.bin %> <%= command.id %> --nodes 100 --ipv6 0.3 --dual-stack 0.3',
  ]
  static override flags = {
    nodes: Flags.integer({char: 'n', description: 'number of nodes', required: true, min: 1, max: 5000}),
    'waku-share': Flags.string({description: 'share of nodes with Waku ENRs (0–1)', default: '0.8'}),
    cluster: Flags.integer({description: 'Waku cluster id of the Waku nodes', default: 1, min: 0, max: 65_535}),
    shards: Flags.integer({description: 'Waku nodes draw their shards from 0…S-1', default: 8, min: 1, max: 64}),
    'protocol-id': Flags.string({description: 'packet protocol id: d5waku (Waku) or discv5 (Ethereum)', default: 'd5waku'}),
    dead: Flags.string({description: 'share of dead nodes (in routing tables, never listening)', default: '0'}),
    liars: Flags.string({description: 'share of misbehaving nodes', default: '0'}),
    libp2p: Flags.boolean({description: 'honest Waku nodes also run a libp2p listener (tcp) for crawl --visit; some lie (see --libp2p-lies)'}),
    'libp2p-share': Flags.string({description: 'with --libp2p: share of honest Waku nodes with a listener (0–1)', default: '1'}),
    'libp2p-lies': Flags.string({description: 'with --libp2p: share of listeners that plant one lie or dial failure each (0–1)', default: '0.25'}),
    ipv6: Flags.string({description: 'share of nodes on IPv6 only (::1; records with ip6/udp6 and no ip)', default: '0'}),
    'dual-stack': Flags.string({description: 'share of nodes with both an IPv4 and an IPv6 socket (the bootnode is dual stack whenever either share is set)', default: '0'}),
    dns: Flags.boolean({description: 'also serve an EIP-1459 tree of some Waku nodes on a loopback DNS server (a quarter of its records one seq old)'}),
    px: Flags.boolean({description: 'also run a peer-exchange responder handing out some Waku nodes (a quarter stale)'}),
    rendezvous: Flags.boolean({description: 'also run a Waku rendezvous point where some libp2p listeners are registered (needs --libp2p)'}),
    host: Flags.string({description: 'loopback address to bind', default: '127.0.0.1'}),
    workers: Flags.integer({description: 'worker threads hosting the nodes (default: 1 from 200 nodes on)', min: 0, max: 16}),
    seed: Flags.integer({description: 'seed for roles and Waku profiles (repeatable layouts)'}),
  }

  async run(): Promise<Omit<TestnetDescription, 'nodes'> & {nodes: TestnetDescription['nodes']}> {
    const f = this.flags
    if (f.rendezvous && !f.libp2p) throw new BadInputError('RENDEZVOUS_NEEDS_LIBP2P', '--rendezvous registers libp2p listeners: add --libp2p')
    if (!/^(127\.|::1$)/.test(f.host)) throw new BadInputError('TESTNET_NOT_LOOPBACK', `--host ${f.host} is not a loopback address`, {hint: 'testnets bind to 127.0.0.0/8 or ::1 only'})
    this.progress(`starting ${f.nodes} nodes…`)
    const testnet = await startTestnet({
      nodes: f.nodes,
      wakuShare: fraction('--waku-share', f['waku-share']),
      cluster: f.cluster,
      shards: f.shards,
      protocolId: f['protocol-id'],
      dead: fraction('--dead', f.dead),
      liars: fraction('--liars', f.liars),
      ...(f.libp2p ? {libp2p: fraction('--libp2p-share', f['libp2p-share']), libp2pLies: fraction('--libp2p-lies', f['libp2p-lies'])} : {}),
      ipv6: fraction('--ipv6', f.ipv6),
      dualStack: fraction('--dual-stack', f['dual-stack']),
      dns: f.dns,
      px: f.px,
      rendezvous: f.rendezvous,
      host: f.host,
      workers: f.workers,
      seed: f.seed,
      signal: this.signal,
    }).catch((error: unknown) => {
      throw inFlagTerms(error)
    })
    try {
      const {stop: _stop, localHosts: _hosts, ...description} = testnet
      if (this.jsonEnabled()) {
        // Printed now (not at exit) so that scripts can read it while the network runs.
        this.logJson(description)
      } else {
        this.out(renderTestnet(description))
      }
      // Ctrl-C / SIGTERM: exit 130 like every other interrupted command; --timeout: a normal end.
      if (await untilStopped(this.signal)) this.resultExitCode = ExitCode.interrupted
      this.progress('stopping…')
      return description
    } finally {
      await testnet.stop()
    }
  }

  // The description was printed once when ready; do not print it again at exit.
  protected override logJson(json: unknown): void {
    if (this.printedJson) return
    this.printedJson = true
    super.logJson(json)
  }

  private printedJson = false
}
