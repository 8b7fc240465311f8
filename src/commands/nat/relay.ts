import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {startRelay} from '../../lib/nat/index.js'

export default class NatRelay extends BaseCommand<typeof NatRelay> {
  static override summary = 'Run a libp2p circuit relay v2 server for reachability and hole-punch tests'
  static override description =
    'Runs a circuit relay v2 (hop) server on --listen, with the default limits of @libp2p/circuit-relay-v2 (2 minutes, 128 KiB per relayed connection). Peers behind NATs take reservations on it (`nat listen --relay`), and `nat reach --relay` dials them through it and watches DCUtR. Prints its address, then runs until interrupted.'
  static override examples = ['<%= config.bin %> <%= command.id %> --listen /ip4/0.0.0.0/tcp/4001', '<%= config.bin %> <%= command.id %> --listen /ip4/203.0.113.10/tcp/4001 --max-reservations 512']
  static override flags = {
    listen: Flags.string({description: 'multiaddr to listen on (repeatable)', multiple: true, default: ['/ip4/127.0.0.1/tcp/0']}),
    announce: Flags.string({description: 'address to announce besides concrete --listen addresses (needed with 0.0.0.0: libp2p announces a public address only once verified)', multiple: true}),
    'max-reservations': Flags.integer({description: 'reservations held at once', default: 128, min: 1}),
  }

  async run(): Promise<{peerId: string; addresses: string[]; reservations: number}> {
    const relay = await startRelay({listen: this.flags.listen, announce: this.flags.announce, maxReservations: this.flags['max-reservations']})
    for (const a of relay.addresses) this.out(`relay: ${a.includes("/p2p/") ? a : `${a}/p2p/${relay.peerId}`}`)
    const interrupted = await untilStopped(this.signal)
    const reservations = relay.reservations()
    await relay.stop()
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return {peerId: relay.peerId, addresses: relay.addresses.map((a) => (a.includes("/p2p/") ? a : `${a}/p2p/${relay.peerId}`)), reservations}
  }
}
