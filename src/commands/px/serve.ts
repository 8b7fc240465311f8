import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {BadInputError, ExitCode} from '../../lib/errors.js'
import {loadPrivateKey} from '../../lib/keys/index.js'
import {parseShardList} from '../../lib/libp2p/protocols.js'
import {latestRecords, readRecords} from '../../lib/input/records.js'
import {NWAKU_MAX_PX_PEERS, parseRateLimit, startPxServer, type PxServeEvent, type PxServeStats} from '../../lib/px/index.js'
import {renderPxServeEvent, renderPxServeSummary} from '../../ui/px.js'

export interface PxServeResult extends PxServeStats {
  peerId: string
  addresses: string[]
  records: number
}

export default class PxServe extends BaseCommand<typeof PxServe> {
  static override summary = 'Serve ENRs from a node set over 34/WAKU2-PEER-EXCHANGE'
  static override description =
    'A peer-exchange responder for testing light clients offline (js-waku dials it over websockets, nwaku over tcp). Each answer holds min(num_peers, --max-peers) records picked at random from the node set, with nwaku\'s status codes: 200, 400 for an unreadable request, 429 when a peer exceeds --rate-limit, 503 when there is nothing to give. Runs until Ctrl-C (or --timeout), then prints what it served.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --nodes nodes.json --listen /ip4/127.0.0.1/tcp/60000 --listen /ip4/127.0.0.1/tcp/60001/ws',
    '<%= config.bin %> <%= command.id %> --nodes enrs.txt --listen /ip4/0.0.0.0/tcp/60000 --rate-limit 5/1m --key node.key --ndjson',
  ]
  static override flags = {
    nodes: Flags.string({description: 'node set to serve: geth nodes.json, crawl NDJSON, or a list of ENRs (- for stdin)', required: true}),
    listen: Flags.string({
      char: 'l',
      description: 'multiaddr to listen on (repeatable; give a /ws one for js-waku)',
      multiple: true,
      default: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
    }),
    key: Flags.string({description: 'secp256k1 node key file (hex or geth keystore) for a stable peer id; fresh key if absent'}),
    'max-peers': Flags.integer({description: 'most records in one answer', default: NWAKU_MAX_PX_PEERS, min: 1}),
    'rate-limit': Flags.string({description: "per-peer limit in nwaku's syntax, e.g. 5/1m or 10/30s; answers 429 beyond it (default: none, like nwaku)"}),
    cluster: Flags.integer({description: 'cluster id to announce on Waku metadata (default: echo the asking peer\'s cluster)', min: 0, max: 65535}),
    shard: Flags.string({description: 'shards to announce on Waku metadata (comma-separated, repeatable; with --cluster)', multiple: true}),
    ndjson: Flags.boolean({description: 'print a JSON line when listening and one per answer', exclusive: ['json']}),
  }

  async run(): Promise<PxServeResult> {
    const rateLimit = this.flags['rate-limit'] ? parseRateLimit(this.flags['rate-limit']) : undefined
    const {entries, problems} = await readRecords([this.flags.nodes], {lenient: true, literals: false, signal: this.signal})
    const records = latestRecords(entries).map((e) => e.record!.raw)
    // Nothing usable in a file that had content is a wrong file, not a wish to test 503 (an empty file is).
    if (records.length === 0 && problems.length > 0) {
      throw new BadInputError('NO_VALID_RECORDS', `${this.flags.nodes}: none of its ${problems.length} entries is a valid record (first: ${problems[0]!.where}: ${problems[0]!.message})`, {
        hint: 'give a geth nodes.json, crawl NDJSON or a list of enr: records; an empty file serves 503 on purpose',
      })
    }
    for (const p of problems) this.progress(`skipped ${p.where}: ${p.message}`)
    if (records.length === 0) this.progress('warning: the node set is empty; every answer will be 503 SERVICE_UNAVAILABLE')
    const privateKey = this.flags.key ? privateKeyFromRaw(await loadPrivateKey(this.flags.key)) : undefined
    const onEvent = (e: PxServeEvent) => {
      if (this.flags.ndjson) this.ndjsonEvent(e)
      else this.progress(renderPxServeEvent(e))
    }
    const shards = parseShardList(this.flags.shard)
    const metadata = this.flags.cluster === undefined ? {} : {clusterId: this.flags.cluster, shards}
    const server = await startPxServer({records, listen: this.flags.listen, privateKey, maxPeers: this.flags['max-peers'], rateLimit, onEvent, metadata})
    if (this.flags.ndjson) this.ndjson('listening', {peerId: server.peerId, addresses: server.addresses, records: records.length})
    else if (!this.jsonEnabled()) {
      this.progress(`serving ${records.length} records as ${server.peerId}; Ctrl-C to stop`)
      this.out(server.addresses.join('\n'))
    }
    const interrupted = await untilStopped(this.signal)
    await server.stop()
    const result: PxServeResult = {peerId: server.peerId, addresses: server.addresses, records: records.length, ...server.stats()}
    if (this.flags.ndjson) this.ndjson('summary', {...result})
    else this.out(renderPxServeSummary(result))
    // Stopped by a signal: report what was served, exit 130 like every long command; --timeout is a normal end.
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return result
  }
}
