import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {startPunchListener} from '../../lib/nat/index.js'

export default class NatListen extends BaseCommand<typeof NatListen> {
  static override summary = 'Run a libp2p peer that holds a relay reservation and accepts hole punches'
  static override description =
    'The other end of `nat reach`: listens on --listen, takes a reservation on the circuit relay --relay, and lets DCUtR upgrade every relayed connection it receives. Prints its /p2p-circuit address, then runs until interrupted; at the end it reports how many relayed connections became direct.'
  static override examples = ['<%= config.bin %> <%= command.id %> --relay /ip4/203.0.113.10/tcp/4001/p2p/16Uiu2HAm…', '<%= config.bin %> <%= command.id %> --relay /ip4/203.0.113.10/tcp/4001/p2p/16Uiu2HAm… --webrtc --stun stun:203.0.113.10:3478']
  static override flags = {
    relay: Flags.string({description: 'circuit relay v2 multiaddr with /p2p/<relay peer id>', required: true}),
    listen: Flags.string({description: 'direct multiaddr to listen on (repeatable)', multiple: true, default: ['/ip4/0.0.0.0/tcp/0']}),
    webrtc: Flags.boolean({description: 'also accept WebRTC connections signalled through the relay (ICE over UDP: the hole punch js-libp2p can do between NATs)'}),
    stun: Flags.string({description: 'STUN server for the WebRTC path, stun:HOST:PORT (repeatable)', multiple: true, dependsOn: ['webrtc']}),
    announce: Flags.string({description: 'direct address others can dial (a port mapping, a public IP); libp2p announces none by itself until AutoNAT verifies it', multiple: true}),
  }

  async run(): Promise<{peerId: string; circuitAddress: string; addresses: string[]; upgrades: number}> {
    const peer = await startPunchListener({relay: this.flags.relay, listen: this.flags.listen, announce: this.flags.announce, ...(this.flags.webrtc ? {webrtc: {stun: this.flags.stun ?? []}} : {}), signal: this.signal})
    this.out(`listening: ${peer.circuitAddress}`)
    for (const a of peer.addresses) this.progress(`direct: ${a}`)
    const interrupted = await untilStopped(this.signal)
    const upgrades = peer.upgrades()
    await peer.stop()
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    // node-datachannel's native threads can outlive the node: once the summary is out, leave.
    if (this.flags.webrtc) setTimeout(() => process.exit(), 1000).unref()
    return {peerId: peer.peerId, circuitAddress: peer.circuitAddress, addresses: peer.addresses, upgrades}
  }
}
