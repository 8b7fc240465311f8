import {Flags} from '@oclif/core'

import {WAKU2_BITS, type NodeFilter, type WakuCapability} from '../lib/enr/index.js'
import {BadInputError} from '../lib/errors.js'

/**
 * Flags shared by commands that select Waku nodes by their record (`dns-tree build`, `crawl`, …).
 * `verb` words the help text: "keep records …" for a builder, "report only nodes …" for a crawler.
 */
export function nodeFilterFlags(verb: string) {
  return {
    'waku-only': Flags.boolean({description: `${verb} with a waku2 field`}),
    caps: Flags.string({description: `${verb} with all these Waku capabilities (comma-separated: ${WAKU2_BITS.join(',')})`}),
    cluster: Flags.integer({description: `${verb} in this relay-shard cluster`, min: 0, max: 65_535}),
    shard: Flags.integer({description: `${verb} serving this shard`, min: 0, max: 1023}),
  }
}

/** Splits a comma-separated capability list (`relay,store`), lower-cased; refuses unknown names. */
export function parseCapabilities(text: string | undefined, flag = '--caps'): WakuCapability[] | undefined {
  if (text === undefined) return undefined
  const known: readonly string[] = WAKU2_BITS
  const caps = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  for (const c of caps) {
    if (!known.includes(c)) throw new BadInputError('BAD_CAPABILITY', `${flag}: unknown capability ${JSON.stringify(c)} (known: ${known.join(', ')})`)
  }
  return caps as WakuCapability[]
}

/** The {@link NodeFilter} that the {@link nodeFilterFlags} given on the command line ask for (unset flags omitted). */
export function nodeFilterFrom(f: {'waku-only'?: boolean; caps?: string; cluster?: number; shard?: number}): NodeFilter {
  const filter: NodeFilter = {}
  if (f['waku-only']) filter.wakuOnly = true
  const caps = parseCapabilities(f.caps)
  if (caps?.length) filter.capabilities = caps
  if (f.cluster !== undefined) filter.cluster = f.cluster
  if (f.shard !== undefined) filter.shard = f.shard
  return filter
}

/** Flags of every command that reads a private key file (`key show`, `enr encode`, `dns-tree sign`). */
export const keyFileFlags = {
  'password-file': Flags.string({description: 'File whose first line is the keystore password (else WAKU_DISC_KEY_PASSWORD); like a key file, it must not be readable by group or others.'}),
  'insecure-key-permissions': Flags.boolean({description: 'Accept a key or password file that group or others can read (refused by default).'}),
}

/**
 * ENR text without its `enr:` prefix usually starts with "-" (base64url of the RLP list header), so
 * the flag parser would take `-IS4Q…` for an unknown flag. Such arguments (a dash and 40+ base64url
 * characters: no flag looks like that) get the `enr:` prefix back, which names the same record.
 */
export function protectRecordArguments(argv: string[]): string[] {
  return argv.map((arg) => (/^-[A-Za-z0-9_][A-Za-z0-9_-]{39,}$/.test(arg) ? `enr:${arg}` : arg))
}
