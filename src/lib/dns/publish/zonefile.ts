/**
 * Publishing to a BIND zone file: the tree lives in a marked block (`; BEGIN enrtree <domain>` …
 * `; END enrtree <domain>`) that is replaced as a whole, so the rest of the file (SOA, NS, other
 * records, other trees) is never touched. With `bumpSerial`, a SOA serial in the file is
 * incremented so the server picks the change up on reload. The file is replaced atomically.
 */
import {readFile, rename, writeFile} from 'node:fs/promises'

import {BadInputError} from '../../errors.js'
import {formatZoneFile} from '../directory.js'
import type {ExistingRecord, PhaseName, PublishChange, PublishTarget} from './types.js'

export interface ZoneFileTargetOptions {
  path: string
  bumpSerial?: boolean
}

const begin = (domain: string): string => `; BEGIN enrtree ${domain}`
const end = (domain: string): string => `; END enrtree ${domain}`

/** Parses the TXT lines of a zone block written by formatZoneFile (absolute names, quoted strings). */
export function parseZoneBlock(text: string): ExistingRecord[] {
  const out: ExistingRecord[] = []
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+TXT\s+(.*)$/.exec(line.trim())
    if (!m) continue
    const strings = [...m[3]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1]!.replace(/\\(.)/g, '$1'))
    out.push({name: m[1]!.toLowerCase().replace(/\.$/, ''), ttl: Number(m[2]), value: strings.join('')})
  }
  return out
}

export class ZoneFileTarget implements PublishTarget {
  readonly description: string
  private text = ''
  private records: ExistingRecord[] = []
  private domain = ''
  private bumped = false

  constructor(private readonly options: ZoneFileTargetOptions) {
    this.description = `zone file ${options.path}`
  }

  async list(domain: string): Promise<ExistingRecord[]> {
    this.domain = domain
    try {
      this.text = await readFile(this.options.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new BadInputError('DNS_ZONE_FILE', `${this.options.path}: cannot read (${(error as NodeJS.ErrnoException).code})`)
      }
      this.text = ''
    }
    const [, block] = this.split()
    this.records = parseZoneBlock(block)
    return this.records
  }

  private split(): [string, string, string] {
    const b = this.text.indexOf(begin(this.domain))
    const e = this.text.indexOf(end(this.domain))
    if (b === -1 || e === -1 || e < b) return [this.text, '', '']
    const afterEnd = this.text.indexOf('\n', e)
    return [this.text.slice(0, b), this.text.slice(b, e), afterEnd === -1 ? '' : this.text.slice(afterEnd + 1)]
  }

  async apply(_phase: PhaseName, changes: PublishChange[]): Promise<void> {
    // Fold the phase into the record list, then write the whole block (one atomic rename per phase).
    for (const c of changes) {
      if (c.action === 'delete') this.records = this.records.filter((r) => !(r.name === c.name && r.value === c.value))
      else {
        this.records = this.records.filter((r) => r.name !== c.name || (c.action === 'create' && r.value !== c.value))
        this.records.push({name: c.name, value: c.value, ttl: c.ttl})
      }
    }
    const [before, , after] = this.split()
    const lines = formatZoneFile(Object.fromEntries(this.records.map((r) => [r.name, r.value])), {domain: this.domain})
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const name = line.slice(0, line.indexOf(' ')).replace(/\.$/, '')
        const ttl = this.records.find((r) => r.name === name)?.ttl
        return ttl === undefined ? line : line.replace(/^(\S+) \d+ /, `$1 ${ttl} `)
      })
    const block = `${begin(this.domain)} (written by waku-disc dns-tree publish; edit outside this block only)\n${lines.join('\n')}\n${end(this.domain)}\n`
    let head = before
    // One serial increment per publish run, on its first write.
    if (this.options.bumpSerial && !this.bumped) {
      head = bumpSoaSerial(head)
      this.bumped = true
    }
    this.text = `${head}${head === '' || head.endsWith('\n') ? '' : '\n'}${block}${after}`
    const tmp = `${this.options.path}.tmp-${process.pid}`
    try {
      await writeFile(tmp, this.text, {mode: 0o644})
      await rename(tmp, this.options.path)
    } catch (error) {
      throw new BadInputError('DNS_ZONE_FILE', `${this.options.path}: cannot write (${(error as NodeJS.ErrnoException).code})`, {cause: error})
    }
  }
}

/** Increments the serial of a `… SOA mname rname serial …` record written on one line. */
export function bumpSoaSerial(text: string): string {
  return text.replace(/(\sSOA\s+\S+\s+\S+\s+\(?\s*)(\d+)/, (_, pre: string, serial: string) => `${pre}${(BigInt(serial) + 1n) % 4294967296n}`)
}
