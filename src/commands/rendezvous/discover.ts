import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {DEFAULT_RENDEZVOUS_LIMIT, MAX_RENDEZVOUS_LIMIT, discoverRendezvous, mixNamespace, shardNamespace, type RendezvousDiscoverResult} from '../../lib/rendezvous/index.js'
import {renderRendezvousDiscover} from '../../ui/rendezvous.js'

export default class RendezvousDiscover extends BaseCommand<typeof RendezvousDiscover> {
  static override summary = 'Ask a Waku rendezvous point which peers are registered'
  static override description =
    "Dials the target (a multiaddr with /p2p/<peer id>, or an ENR) and sends DISCOVER on /vac/waku/rendezvous/1.0.0 (or the plain libp2p /rendezvous/1.0.0 with --protocol libp2p) for each namespace, following the cookie page by page. Namespaces default to the current Waku spec's rs/<cluster>/mix and the older rs/<cluster>/<shard> for shards 0-7. Every WakuPeerRecord is opened and its signature checked on its own: a bad one is reported with its code and the rest kept. Exit 0 when at least one valid registration came back, 3 when none did, 4 when the point could not be reached."
  static override examples = [
    '<%= config.bin %> <%= command.id %> /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAm…',
    '<%= config.bin %> <%= command.id %> enr:-QE… --cluster 2 --json',
    '<%= config.bin %> <%= command.id %> /dns4/node-01.example.org/tcp/30303/p2p/16Uiu2HAm… --namespace rs/1/mix --limit 50 --ndjson',
  ]
  static override args = {target: Args.string({required: true, description: 'multiaddr with /p2p/<peer id>, or an ENR'})}
  static override flags = {
    namespace: Flags.string({description: 'namespace to ask (repeatable; default rs/<cluster>/mix and rs/<cluster>/0…7)', multiple: true}),
    cluster: Flags.integer({description: 'cluster of the default namespaces', default: 1, min: 0, max: 65_535}),
    limit: Flags.integer({description: 'registrations asked for per page (nwaku asks 12)', default: DEFAULT_RENDEZVOUS_LIMIT, min: 1, max: MAX_RENDEZVOUS_LIMIT}),
    'max-pages': Flags.integer({description: 'pages followed per namespace', default: 10, min: 1}),
    protocol: Flags.string({description: "protocol id: waku (/vac/waku/rendezvous/1.0.0), libp2p (/rendezvous/1.0.0) or a full id", default: 'waku'}),
    ndjson: Flags.boolean({description: 'print one JSON object per registration, then a summary line', exclusive: ['json']}),
  }

  async run(): Promise<RendezvousDiscoverResult> {
    const f = this.flags
    const namespaces = f.namespace ?? [mixNamespace(f.cluster), ...Array.from({length: 8}, (_, s) => shardNamespace(f.cluster, s))]
    const result = await discoverRendezvous(this.args.target, {namespaces, limit: f.limit, maxPages: f['max-pages'], protocol: f.protocol, signal: this.signal})
    if (f.ndjson) {
      for (const ns of result.namespaces) for (const r of ns.registrations) this.ndjson('registration', {namespace: ns.namespace, ...r})
      const {namespaces: nss, ...summary} = result
      this.ndjson('summary', {...summary, namespaces: nss.map(({registrations: _r, ...n}) => n)})
    } else {
      this.out(renderRendezvousDiscover(result))
    }
    this.resultExitCode = result.exitCode
    return result
  }
}
