import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyFileFlags, protectRecordArguments} from '../../cli/flags.js'
import {decodeEnr, encodeEnr, parseEnr, WAKU2_BITS, type DecodedEnr, type WakuCapability} from '../../lib/enr/index.js'
import {BadInputError} from '../../lib/errors.js'
import {collectInputLines} from '../../lib/input/lines.js'
import {loadPrivateKey} from '../../lib/keys/index.js'
import {splitCommaList} from '../../lib/libp2p/protocols.js'
import {renderEnrCard} from '../../ui/enr.js'

/** A repeatable, comma-separated flag's values (trimmed, blanks dropped); undefined when the flag is absent. */
function list(values: string[] | undefined): string[] | undefined {
  return values === undefined ? undefined : splitCommaList(values)
}

function ints(name: string, values: string[] | undefined): number[] | undefined {
  return list(values)?.map((v) => {
    if (!/^\d+$/.test(v)) throw new BadInputError(`${name.toUpperCase()}_MALFORMED`, `--${name} takes integers, got ${JSON.stringify(v)}`)
    return Number(v)
  })
}

export default class EnrEncode extends BaseCommand<typeof EnrEncode> {
  static override description = `Build and sign a record from a key and flags, or update an existing one (--from, seq bumped, other keys kept).

Keys are sorted bytewise, integers are canonical, shards go in rs below 64 shards and rsv (nwaku's bit order) from 64. Records over 300 bytes are refused with the field to drop.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --key-file node.key --ip 203.0.113.7 --tcp 30303 --udp 9000 --waku2 relay,store --cluster 1 --shards 0,1',
    '<%= config.bin %> <%= command.id %> --key-file node.key --multiaddr /dns4/node.example.org/tcp/8000/wss --waku2 relay',
    '<%= config.bin %> <%= command.id %> --key-file node.key --from enr:-… --udp 9001',
  ]

  static override flags = {
    'key-file': Flags.string({description: 'Signing key: hex key file (geth format) or keystore JSON.', required: true, env: 'WAKU_DISC_KEY_FILE'}),
    ...keyFileFlags,
    from: Flags.string({description: 'Start from this record (text, or a file holding it): its keys are kept, seq is bumped.'}),
    seq: Flags.string({description: 'Sequence number (default: 1, or the --from record\'s seq + 1).'}),
    ip: Flags.string({description: 'IPv4 address.'}),
    tcp: Flags.integer({description: 'TCP port (libp2p).', min: 1, max: 65535}),
    udp: Flags.integer({description: 'UDP port (discv5).', min: 1, max: 65535}),
    ip6: Flags.string({description: 'IPv6 address.'}),
    tcp6: Flags.integer({description: 'IPv6 TCP port (if different from --tcp).', min: 1, max: 65535}),
    udp6: Flags.integer({description: 'IPv6 UDP port (if different from --udp).', min: 1, max: 65535}),
    waku2: Flags.string({description: `Waku capabilities, comma-separated: ${WAKU2_BITS.join(', ')}.`, multiple: true}),
    multiaddr: Flags.string({description: 'Multiaddr for the multiaddrs key (repeatable), e.g. /dns4/host/tcp/443/wss.', multiple: true}),
    cluster: Flags.integer({description: 'Relay shard cluster id.', min: 0, max: 65535}),
    shards: Flags.string({description: 'Relay shards, comma-separated (needs --cluster).', multiple: true}),
  }

  public override async init(): Promise<void> {
    this.argv = protectRecordArguments(this.argv)
    await super.init()
  }

  async run(): Promise<DecodedEnr> {
    const f = this.flags
    const privateKey = await loadPrivateKey(f['key-file'], {passwordFile: f['password-file'], insecurePermissions: f['insecure-key-permissions']})
    let from
    if (f.from !== undefined) {
      const lines = await collectInputLines([f.from])
      if (lines.length === 0) throw new BadInputError('ENR_NO_INPUT', `--from ${f.from} holds no record`)
      from = parseEnr(lines[0]!.text)
    }
    let seq: bigint | undefined
    if (f.seq !== undefined) {
      if (!/^\d+$/.test(f.seq)) throw new BadInputError('SEQ_MALFORMED', `--seq takes a decimal integer, got ${JSON.stringify(f.seq)}`)
      seq = BigInt(f.seq)
    }
    // encodeEnr checks the names (WAKU2_UNKNOWN_CAPABILITY, listing the known ones) and refuses an empty list.
    const waku2 = list(f.waku2) as WakuCapability[] | undefined
    let record
    try {
      record = encodeEnr({
      privateKey,
      from,
      seq,
      ip: f.ip,
      tcp: f.tcp,
      udp: f.udp,
      ip6: f.ip6,
      tcp6: f.tcp6,
      udp6: f.udp6,
      waku2,
      multiaddrs: list(f.multiaddr),
      cluster: f.cluster,
      shards: ints('shards', f.shards),
      })
    } finally {
      privateKey.fill(0)
    }
    const decoded = decodeEnr(record)
    this.out(record.text)
    this.progress(renderEnrCard(decoded))
    return decoded
  }
}
