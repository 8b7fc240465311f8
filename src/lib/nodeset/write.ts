/** The writer: geth's byte-exact nodes.json text, to a file or to a stream the caller passes for `-`. */
import {writeFile} from 'node:fs/promises'

import {BadInputError} from '../errors.js'
import {GO_ZERO_TIME, type NodeSet} from './types.js'

/** Serialises a node set byte-for-byte like geth: 4-space indent, keys sorted, no trailing newline. */
export function formatNodeSet(set: NodeSet): string {
  const ids = Object.keys(set).sort()
  if (ids.length === 0) return '{}'
  const parts = ids.map((id) => {
    const n = set[id]!
    const fields = [`        "seq": ${decimal(n.seq)}`, `        "record": ${JSON.stringify(n.record)}`]
    if (n.score !== undefined && n.score !== 0) fields.push(`        "score": ${Math.trunc(n.score)}`)
    fields.push(`        "firstResponse": ${JSON.stringify(n.firstResponse ?? GO_ZERO_TIME)}`)
    fields.push(`        "lastResponse": ${JSON.stringify(n.lastResponse ?? GO_ZERO_TIME)}`)
    fields.push(`        "lastCheck": ${JSON.stringify(n.lastCheck ?? GO_ZERO_TIME)}`)
    return `    ${JSON.stringify(id)}: {\n${fields.join(',\n')}\n    }`
  })
  return `{\n${parts.join(',\n')}\n}`
}

export interface WriteNodeSetOptions {
  /** Where the path `-` writes (the CLI passes process.stdout); without it `-` is refused. */
  stdout?: NodeJS.WritableStream
}

/** Writes a node set in geth's format to a file (mode 0644), or for `-` to `options.stdout` with a final newline. */
export async function writeNodeSetFile(path: string, set: NodeSet, options: WriteNodeSetOptions = {}): Promise<void> {
  const text = formatNodeSet(set)
  if (path === '-') {
    const out = options.stdout
    if (!out) throw new BadInputError('NODESET_NO_STDOUT', 'writing a node set to - needs options.stdout (the library never writes to process.stdout itself)')
    await new Promise<void>((resolve, reject) => out.write(text + '\n', (error) => (error ? reject(error) : resolve())))
    return
  }
  try {
    await writeFile(path, text, {mode: 0o644})
  } catch (error) {
    throw new BadInputError('NODESET_UNWRITABLE', `${path}: cannot write node set (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {cause: error})
  }
}

function decimal(seq: string): string {
  if (!/^\d+$/.test(seq)) throw new BadInputError('NODESET_BAD_SEQ', `seq ${JSON.stringify(seq)} is not a decimal uint64`)
  return BigInt(seq).toString()
}
