/**
 * The Waku Network's published bootstrap (cluster 1, "TWN"), embedded so that `crawl` works with
 * no flags. Source: nwaku `waku/factory/networks_config.nim` (TheWakuNetworkConf
 * discv5BootstrapNodes) and the sandbox DNS tree used by nwaku and js-waku
 * (`packages/discovery/src/dns/constants.ts`). Fleets change: pass --bootnode/--enrtree to override.
 */
import {BadInputError} from '../errors.js'
import {collectInputLines, isFile} from '../input/lines.js'
import {readNodeSetFile} from '../nodeset/index.js'

/** The three waku.sandbox fleet nodes (waku2 = relay,store,filter,lightpush; rs 1:[0–7]). */
export const WAKU_NETWORK_BOOTNODES: readonly string[] = [
  'enr:-QESuEB4Dchgjn7gfAvwB00CxTA-nGiyk-aALI-H4dYSZD3rUk7bZHmP8d2U6xDiQ2vZffpo45Jp7zKNdnwDUx6g4o6XAYJpZIJ2NIJpcIRA4VDAim11bHRpYWRkcnO4XAArNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwAtNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOvD3S3jUNICsrOILlmhENiWAMmMVlAl6-Q8wRB7hidY4N0Y3CCdl-DdWRwgiMohXdha3UyDw',
  'enr:-QEkuEBIkb8q8_mrorHndoXH9t5N6ZfD-jehQCrYeoJDPHqT0l0wyaONa2-piRQsi3oVKAzDShDVeoQhy0uwN1xbZfPZAYJpZIJ2NIJpcIQiQlleim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQKnGt-GSgqPSf3IAPM7bFgTlpczpMZZLF3geeoNNsxzSoN0Y3CCdl-DdWRwgiMohXdha3UyDw',
  'enr:-QEkuEB3WHNS-xA3RDpfu9A2Qycr3bN3u7VoArMEiDIFZJ66F1EB3d4wxZN1hcdcOX-RfuXB-MQauhJGQbpz3qUofOtLAYJpZIJ2NIJpcIQI2SVcim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQPK35Nnz0cWUtSAhBp7zvHEhyU_AqeQUlqzLiLxfP2L4oN0Y3CCdl-DdWRwgiMohXdha3UyDw',
]

/** The Waku Network's (sandbox fleet) EIP-1459 tree. */
export const WAKU_NETWORK_ENRTREE = 'enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im'

/** Waku's test fleet tree (not used by default). */
export const WAKU_TEST_ENRTREE = 'enrtree://AOGYWMBYOUIMOENHXCHILPKY3ZRFEULMFI4DOM442QSZ73TT2A7VI@test.waku.nodes.status.im'

/** --bootnode values: ENR text, or a file or `-` (stdin) holding an ENR list, geth nodes.json or crawl NDJSON. */
export async function loadBootnodes(values: string[], signal: AbortSignal): Promise<string[]> {
  const out: string[] = []
  for (const value of values) {
    // stdin is read like a file: a nodes.json piped in is one JSON document, not one record per line.
    if (value === '-' || (await isFile(value))) {
      const set = await readNodeSetFile(value, {signal, lenient: true})
      out.push(...Object.values(set).map((e) => e.record))
      continue
    }
    const lines = await collectInputLines([value])
    out.push(...lines.map((l) => l.text))
  }
  if (out.length === 0) throw new BadInputError('NO_BOOTNODES', '--bootnode gave no records')
  return out
}
