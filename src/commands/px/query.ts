import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {parseEnr} from '../../lib/enr/index.js'
import {nodeSetFromRecords, writeNodeSetFile} from '../../lib/nodeset/index.js'
import {DEFAULT_PX_PEERS, MAX_PX_PEERS, queryPeerExchange, type PxQueryResult} from '../../lib/px/index.js'
import {pxPeerLines, renderPxQuery} from '../../ui/px.js'

export default class PxQuery extends BaseCommand<typeof PxQuery> {
  static override summary = 'Ask a Waku node for peers over 34/WAKU2-PEER-EXCHANGE'
  static override description =
    'Dials the target (a multiaddr with /p2p/<peer id>, or an ENR), sends one PeerExchangeRPC query on /vac/waku/peer-exchange/2.0.0-alpha1 and reads one answer. Every returned ENR is decoded and linted on its own: an invalid record is reported and the rest kept. Records pointing at private, loopback, reserved or metadata addresses (unless the responder sits in that range) are flagged. nwaku\'s status code and description (fields 10 and 11) are shown when present.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAm… --num 10',
    '<%= config.bin %> <%= command.id %> enr:-QE… --json',
    '<%= config.bin %> <%= command.id %> /dns4/node-01.example.org/tcp/30303/p2p/16Uiu2HAm… --out nodes.json',
  ]
  static override args = {target: Args.string({required: true, description: 'multiaddr with /p2p/<peer id>, or an ENR'})}
  static override flags = {
    num: Flags.integer({char: 'n', description: 'number of peers to ask for (nwaku answers at most 60)', default: DEFAULT_PX_PEERS, min: 1, max: MAX_PX_PEERS}),
    ndjson: Flags.boolean({description: 'print one JSON object per returned record, then a summary line', exclusive: ['json']}),
    out: Flags.string({char: 'o', description: 'write the valid records as a geth nodes.json node set (- for stdout)'}),
  }

  async run(): Promise<PxQueryResult> {
    const result = await queryPeerExchange(this.args.target, {numPeers: this.flags.num, signal: this.signal})
    if (this.flags.ndjson) {
      for (const line of pxPeerLines(result)) this.ndjsonEvent(line)
      const {peers: _peers, ...summary} = result
      this.ndjson('summary', {...summary})
    } else if (this.flags.out !== '-') {
      this.out(renderPxQuery(result))
    }
    if (this.flags.out) {
      const records = result.peers.filter((p) => p.ok && p.enr).map((p) => parseEnr(p.enr!))
      await writeNodeSetFile(this.flags.out, nodeSetFromRecords(records), {stdout: process.stdout})
      if (this.flags.out !== '-') this.progress(`wrote ${records.length} records to ${this.flags.out}`)
    }
    return result
  }
}
