import {privateKeyFromRaw} from '@libp2p/crypto/keys'
import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {untilStopped} from '../../cli/until-stopped.js'
import {ExitCode} from '../../lib/errors.js'
import {loadPrivateKey} from '../../lib/keys/index.js'
import {MAX_RENDEZVOUS_TTL_SECONDS, startRendezvousServer, type RendezvousServeEvent, type RendezvousServeStats} from '../../lib/rendezvous/index.js'
import {renderRendezvousServeEvent, renderRendezvousServeSummary} from '../../ui/rendezvous.js'

export interface RendezvousServeResult extends RendezvousServeStats {
  peerId: string
  addresses: string[]
}

export default class RendezvousServe extends BaseCommand<typeof RendezvousServe> {
  static override summary = 'Run a Waku rendezvous point for testing'
  static override description =
    "A rendezvous point on /vac/waku/rendezvous/1.0.0 and /rendezvous/1.0.0: REGISTER (the WakuPeerRecord's signature and peer id are checked against the connection, TTL bounds and a per-peer cap enforced, with the libp2p spec's status codes), UNREGISTER and DISCOVER with cookies. Runs until Ctrl-C (or --timeout), then prints what it handled."
  static override examples = [
    '<%= config.bin %> <%= command.id %> --listen /ip4/127.0.0.1/tcp/60010',
    '<%= config.bin %> <%= command.id %> --listen /ip4/0.0.0.0/tcp/60010 --key point.key --ndjson',
  ]
  static override flags = {
    listen: Flags.string({char: 'l', description: 'multiaddr to listen on (repeatable)', multiple: true, default: ['/ip4/127.0.0.1/tcp/0']}),
    key: Flags.string({description: 'secp256k1 node key file (hex or geth keystore) for a stable peer id; fresh key if absent'}),
    'default-ttl': Flags.integer({description: 'seconds granted to a REGISTER without a ttl (the Waku spec: 60)', default: 60, min: 1}),
    'max-ttl': Flags.integer({description: 'largest ttl accepted, in seconds', default: MAX_RENDEZVOUS_TTL_SECONDS, min: 1}),
    'max-registrations': Flags.integer({description: 'live registrations one peer may hold', default: 1000, min: 1}),
    ndjson: Flags.boolean({description: 'print a JSON line when listening and one per request', exclusive: ['json']}),
  }

  async run(): Promise<RendezvousServeResult> {
    const f = this.flags
    const privateKey = f.key ? privateKeyFromRaw(await loadPrivateKey(f.key)) : undefined
    const onEvent = (e: RendezvousServeEvent) => {
      if (f.ndjson) this.ndjsonEvent(e)
      else this.progress(renderRendezvousServeEvent(e))
    }
    const server = await startRendezvousServer({
      listen: f.listen,
      privateKey,
      defaultTtlSeconds: f['default-ttl'],
      minTtlSeconds: Math.min(60, f['default-ttl']),
      maxTtlSeconds: f['max-ttl'],
      maxRegistrationsPerPeer: f['max-registrations'],
      onEvent,
    })
    if (f.ndjson) this.ndjson('listening', {peerId: server.peerId, addresses: server.addresses, protocols: server.protocols})
    else if (!this.jsonEnabled()) {
      this.progress(`rendezvous point ${server.peerId} (${server.protocols.join(', ')}); Ctrl-C to stop`)
      this.out(server.addresses.join('\n'))
    }
    const interrupted = await untilStopped(this.signal)
    const result: RendezvousServeResult = {peerId: server.peerId, addresses: server.addresses, ...server.stats()}
    await server.stop()
    if (f.ndjson) this.ndjson('summary', {...result})
    else this.out(renderRendezvousServeSummary(result))
    if (interrupted) this.resultExitCode = ExitCode.interrupted
    return result
  }
}
