/**
 * The Waku Network's published bootstrap (cluster 1, "TWN"), embedded so that `crawl` works with
 * no flags. Source: nwaku/logos-delivery `waku/factory/networks_config.nim` (TheWakuNetworkConf
 * discv5BootstrapNodes, see presets.ts) and the sandbox DNS tree used by nwaku and js-waku
 * (`packages/discovery/src/dns/constants.ts`). Fleets change: pass --bootnode/--enrtree to override.
 */
import type {Readable} from 'node:stream'

import {BadInputError} from '../errors.js'
import {cleanLine, isFile} from '../input/lines.js'
import {latestRecords, readRecords, type RecordProblem} from '../input/records.js'
import {NETWORK_PRESETS} from './presets.js'

/** The three waku.sandbox fleet nodes (waku2 = relay,store,filter,lightpush; rs 1:[0–7]): the twn preset's bootstrap. */
export const WAKU_NETWORK_BOOTNODES: readonly string[] = NETWORK_PRESETS.twn!.bootnodes

/** The Waku Network's (sandbox fleet) EIP-1459 tree. */
export const WAKU_NETWORK_ENRTREE = 'enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im'

/** Waku's test fleet tree (not used by default). */
export const WAKU_TEST_ENRTREE = 'enrtree://AOGYWMBYOUIMOENHXCHILPKY3ZRFEULMFI4DOM442QSZ73TT2A7VI@test.waku.nodes.status.im'

export interface LoadBootnodesOptions {
  /** Stream read for `-` (default process.stdin). */
  stdin?: Readable
  /** Told about each entry of a file or stdin that is skipped (a literal value is checked by the crawl). */
  onProblem?: (problem: RecordProblem) => void
}

/**
 * --bootnode values: ENR text, or a file or `-` (stdin) holding an ENR list, geth nodes.json or
 * crawl NDJSON (stdin is read like a file: a nodes.json piped in is one JSON document). A file's
 * bad entries are skipped and a node it lists twice is bootstrapped from once (highest seq); a
 * literal value is passed on as given (its first token), for the crawl to check and name.
 */
export async function loadBootnodes(values: string[], signal: AbortSignal, options: LoadBootnodesOptions = {}): Promise<string[]> {
  const out: string[] = []
  for (const value of values) {
    if (value === '-' || (await isFile(value))) {
      const {entries} = await readRecords([value], {
        signal,
        lenient: true,
        ...(options.stdin ? {stdin: options.stdin} : {}),
        ...(options.onProblem ? {onProblem: options.onProblem} : {}),
      })
      out.push(...latestRecords(entries).map((e) => e.entry!.record))
      continue
    }
    const token = cleanLine(value)
    if (token !== undefined) out.push(token)
  }
  if (out.length === 0) throw new BadInputError('NO_BOOTNODES', '--bootnode gave no records')
  return out
}
