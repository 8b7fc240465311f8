import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'

import {encodeEnr, type EnrRecord} from '../../../src/lib/enr/index.js'
import {BadInputError, CheckFailedError} from '../../../src/lib/errors.js'
import {latestRecords, nodeSetOf, readRecords, type RecordProblem} from '../../../src/lib/input/records.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {formatNodeSet, nodeSetFromRecords} from '../../../src/lib/nodeset/index.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-records-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()]
const recs: EnrRecord[] = keys.map((privateKey, i) => encodeEnr({privateKey, ip: '127.0.0.1', tcp: 60_000 + i, udp: 9000 + i, waku2: ['relay']}))
const newer = encodeEnr({privateKey: keys[0]!, seq: 5n, ip: '127.0.0.2', udp: 9100})
/** The same record with one signature byte changed: well-formed, but the signature does not verify. */
function badlySigned(record: EnrRecord): string {
  const raw = Uint8Array.from(record.raw)
  raw[5] = raw[5]! ^ 0xff
  return 'enr:' + Buffer.from(raw).toString('base64url')
}
const stdinOf = (text: string) => Readable.from([text])
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('readRecords: formats', () => {
  it('literal arguments: enr: text, bare base64url and hex name the same record', async () => {
    const text = recs[0]!.text
    const r = await readRecords([text, text.slice(4), Buffer.from(recs[1]!.raw).toString('hex'), `0x${Buffer.from(recs[2]!.raw).toString('hex')}`])
    expect(r.entries.map((e) => [e.kind, e.where, e.format, e.record!.nodeId])).toEqual([
      ['enr', 'argument 1', 'argument', recs[0]!.nodeId],
      ['enr', 'argument 2', 'argument', recs[0]!.nodeId],
      ['enr', 'argument 3', 'argument', recs[1]!.nodeId],
      ['enr', 'argument 4', 'argument', recs[2]!.nodeId],
    ])
    expect(r.sources.map((s) => s.format)).toEqual(['argument', 'argument', 'argument', 'argument'])
    expect(r.problems).toEqual([])
  })

  it('one entry per line: comments, blank lines and annotations skipped, source:line kept', async () => {
    const path = file('list.txt', `# fleet\n\n${recs[0]!.text} node-01\r\n  // retired: ${recs[1]!.text}\n${recs[2]!.text}\n`)
    const r = await readRecords([path])
    expect(r.entries.map((e) => [e.where, e.line, e.format, e.text])).toEqual([
      [`${path}:3`, 3, 'lines', recs[0]!.text],
      [`${path}:5`, 5, 'lines', recs[2]!.text],
    ])
    expect(r.sources).toEqual([{input: path, source: path, format: 'lines', entries: 2, problems: 0}])
  })

  it('geth nodes.json: entries keep score and times, and say which line holds their record', async () => {
    const set = nodeSetFromRecords(recs)
    set[recs[1]!.nodeId] = {...set[recs[1]!.nodeId]!, score: 3, firstResponse: '2025-01-01T00:00:00Z', lastResponse: '2025-01-02T00:00:00Z'}
    const text = formatNodeSet(set)
    const path = file('nodes.json', text)
    const r = await readRecords([path])
    expect(r.sources[0]!.format).toBe('nodes.json')
    expect(r.entries).toHaveLength(3)
    const lines = text.split('\n')
    for (const e of r.entries) {
      expect(e.format).toBe('nodes.json')
      expect(lines[e.line - 1]).toContain(e.entry!.record)
      expect(e.where).toBe(`${path}:${e.line}`)
    }
    expect(r.entries.find((e) => e.record!.nodeId === recs[1]!.nodeId)!.entry).toMatchObject({score: 3, firstResponse: '2025-01-01T00:00:00Z'})
    expect(nodeSetOf(r.entries)).toEqual(set)
  })

  it('crawl NDJSON, from stdin passed in the options', async () => {
    const text = recs.map((r) => JSON.stringify({type: 'node', nodeId: r.nodeId, enr: r.text, score: 1})).join('\n') + '\n'
    const r = await readRecords(['-'], {stdin: stdinOf(text)})
    expect(r.sources[0]).toMatchObject({source: 'stdin', format: 'ndjson', entries: 3})
    expect(r.entries.map((e) => e.where)).toEqual(['stdin:1', 'stdin:2', 'stdin:3'])
    expect(r.entries[0]!.entry!.score).toBe(1)
  })

  it('stdin may hold a nodes.json or an ENR list just like a file', async () => {
    const json = await readRecords(['-'], {stdin: stdinOf(formatNodeSet(nodeSetFromRecords(recs)))})
    expect(json.sources[0]!.format).toBe('nodes.json')
    expect(json.entries).toHaveLength(3)
    const list = await readRecords(['-'], {stdin: stdinOf(`# boot\n${recs[0]!.text}\n`)})
    expect(list.entries.map((e) => e.where)).toEqual(['stdin:2'])
  })

  it('enode:// URLs and multiaddrs only where accepted; multiaddrs are left to the caller to parse', async () => {
    const enode = `enode://${'0'.repeat(128)}@1.2.3.4:30303`
    await expect(readRecords([enode])).rejects.toMatchObject({name: 'BadInputError', code: 'RECORD_UNSIGNED', message: expect.stringMatching(/^argument 1: enode:\/\/ URLs carry no signed record/)})
    const r = await readRecords(['/ip4/127.0.0.1/tcp/1/p2p/16Uiu2', recs[0]!.text], {accept: ['enr', 'multiaddr']})
    expect(r.entries.map((e) => e.kind)).toEqual(['multiaddr', 'enr'])
    await expect(readRecords(['/ip4/127.0.0.1/tcp/1'])).rejects.toMatchObject({code: 'RECORD_KIND_UNEXPECTED', message: 'argument 1: a multiaddr, not an ENR (enr:…): /ip4/127.0.0.1/tcp/1'})
    await expect(readRecords(['hello'], {accept: ['enr', 'multiaddr']})).rejects.toMatchObject({code: 'RECORD_UNRECOGNISED', message: 'argument 1: not an ENR (enr:…) or a multiaddr: hello'})
    // Accepted: the URL is parsed and kept.
    const pub = Buffer.from(recs[0]!.publicKeyUncompressed.subarray(1)).toString('hex')
    const ok = await readRecords([`enode://${pub}@127.0.0.1:30303`], {accept: ['enode']})
    expect(ok.entries[0]).toMatchObject({kind: 'enode', enode: {ip: '127.0.0.1', tcp: 30303, nodeId: recs[0]!.nodeId}})
  })

  it('latestRecords keeps one entry per node, the highest seq, at its first position', async () => {
    const r = await readRecords([recs[0]!.text, recs[1]!.text, newer.text])
    expect(latestRecords(r.entries).map((e) => [e.where, e.record!.seq])).toEqual([
      ['argument 3', 5n],
      ['argument 2', recs[1]!.seq],
    ])
  })
})

describe('readRecords: bad entries', () => {
  const path = file('mixed.txt', `${recs[0]!.text}\nenr:not-a-record\n${badlySigned(recs[1]!)}\n${recs[2]!.text}\n`)

  it('strict (the default): the first bad entry throws, naming source:line', async () => {
    const error = await readRecords([path]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadInputError)
    expect(error).toMatchObject({exitCode: 2, details: {where: `${path}:2`}, message: expect.stringMatching(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `))})
  })

  it('strict: a well-formed record that fails its signature check is a failed check (exit 3)', async () => {
    const error = await readRecords([badlySigned(recs[1]!)]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CheckFailedError)
    // The parser's own code is kept (whatever its spelling: signature.invalid or SIGNATURE_INVALID).
    expect(error).toMatchObject({code: expect.stringMatching(/^signature[._]invalid$/i), message: expect.stringMatching(/^argument 1: signature does not verify/)})
  })

  it('lenient: bad entries are skipped and reported through the callback and `problems`', async () => {
    const seen: RecordProblem[] = []
    const r = await readRecords([path], {lenient: true, onProblem: (p) => seen.push(p)})
    expect(r.entries.map((e) => e.line)).toEqual([1, 4])
    expect(r.problems).toEqual(seen)
    expect(r.problems.map((p) => [p.where, p.code])).toEqual([
      [`${path}:2`, expect.stringMatching(/^(enr|rlp)[._]/i)],
      [`${path}:3`, expect.stringMatching(/^signature[._]invalid$/i)],
    ])
    expect(r.sources[0]).toMatchObject({entries: 2, problems: 2})
  })

  it('JSON entries: strict names the line or node, lenient skips them', async () => {
    const lines = [JSON.stringify({enr: recs[0]!.text}), '{"enr": "enr:broken"}', JSON.stringify({record: recs[1]!.text})]
    const nd = file('c.ndjson', lines.join('\n') + '\n')
    await expect(readRecords([nd])).rejects.toMatchObject({name: 'BadInputError', message: expect.stringContaining('c.ndjson:2: ')})
    const lenient = await readRecords([nd], {lenient: true})
    expect(lenient.entries.map((e) => e.where)).toEqual([`${nd}:1`, `${nd}:3`])
    expect(lenient.problems).toEqual([{where: `${nd}:2`, message: expect.any(String), code: 'NODESET_BAD_ENTRY'}])
    const set = nodeSetFromRecords(recs.slice(0, 1))
    const wrongKey = file('wrong.json', formatNodeSet({[recs[1]!.nodeId]: set[recs[0]!.nodeId]!}))
    await expect(readRecords([wrongKey])).rejects.toMatchObject({name: 'CheckFailedError', message: expect.stringContaining("does not match the record's node id")})
    await expect(readRecords([file('broken.json', '{\n  "a": \n')])).rejects.toMatchObject({name: 'BadInputError', code: 'NODESET_BAD_JSON'})
  })

  it('an oversize line is a bad entry (strict: thrown; lenient: skipped), never buffered as a record', async () => {
    const long = file('long.txt', `${recs[0]!.text}\n${'A'.repeat(2000)}\n${recs[1]!.text}\n`)
    await expect(readRecords([long], {maxLineLength: 1000})).rejects.toMatchObject({name: 'BadInputError', code: 'INPUT_LINE_TOO_LONG', message: `${long}:2: line is 2000 characters, the limit is 1000`})
    const r = await readRecords([long], {maxLineLength: 1000, lenient: true})
    expect(r.entries.map((e) => e.line)).toEqual([1, 3])
    expect(r.problems.map((p) => p.code)).toEqual(['INPUT_LINE_TOO_LONG'])
    await expect(readRecords(['A'.repeat(2000)], {maxLineLength: 1000})).rejects.toMatchObject({code: 'INPUT_LINE_TOO_LONG', message: expect.stringMatching(/^argument 1: /)})
  })

  it('bounded: an input over maxBytes is refused; with literals off a missing path is unreadable', async () => {
    await expect(readRecords(['-'], {stdin: stdinOf('x'.repeat(5000)), maxBytes: 4096})).rejects.toMatchObject({code: 'INPUT_TOO_LARGE'})
    await expect(readRecords([join(dir, 'missing.json')], {literals: false})).rejects.toMatchObject({name: 'BadInputError', code: 'INPUT_UNREADABLE', message: `${join(dir, 'missing.json')}: cannot read (ENOENT)`})
    await expect(readRecords([dir], {literals: false})).rejects.toMatchObject({code: 'INPUT_UNREADABLE', message: expect.stringContaining('EISDIR')})
  })

  it('abortable: an aborted signal stops before reading, and while waiting for stdin', async () => {
    await expect(readRecords([recs[0]!.text], {signal: AbortSignal.abort()})).rejects.toMatchObject({name: 'InterruptedError'})
    const controller = new AbortController()
    const waiting = readRecords(['-'], {stdin: new Readable({read() {}}), signal: controller.signal})
    controller.abort()
    await expect(waiting).rejects.toMatchObject({name: 'InterruptedError'})
    await expect(readRecords(['-'], {stdin: new Readable({read() {}}), signal: AbortSignal.timeout(50)})).rejects.toMatchObject({name: 'UnreachableError', code: 'TIMEOUT'})
  })
})

describe('readRecords: arbitrary junk', () => {
  const junk = fc.oneof(
    fc.string({maxLength: 300}),
    fc.string({unit: 'grapheme', maxLength: 200}),
    fc.stringMatching(/^[0-9a-f]{0,400}$/),
    fc.stringMatching(/^(enr:)?[A-Za-z0-9_-]{0,400}$/),
    fc.json({maxDepth: 3}),
    fc.array(fc.oneof(fc.string({maxLength: 80}), fc.constant(recs[0]!.text), fc.constant('# c'), fc.json({maxDepth: 2})), {maxLength: 8}).map((l) => l.join('\n')),
    fc.uint8Array({maxLength: 300}).map((b) => Buffer.from(b).toString('latin1')),
  )
  const onlyBadInput = async (run: () => Promise<unknown>) => {
    try {
      await run()
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error
    }
  }

  it('never throws anything but a BadInputError, strict or lenient, from stdin or as an argument', async () => {
    await fc.assert(
      fc.asyncProperty(junk, fc.boolean(), async (text, lenient) => {
        await onlyBadInput(() => readRecords(['-'], {stdin: stdinOf(text), lenient, accept: ['enr', 'enode', 'multiaddr']}))
        await onlyBadInput(() => readRecords(['-'], {stdin: stdinOf(text), lenient, verifySignatures: false}))
        // As an argument (never a path: no separators or dots; `-` reads the stream passed in, never the real stdin).
        if (!/[/.\\]/.test(text)) await onlyBadInput(() => readRecords([text], {lenient, stdin: stdinOf(text)}))
      }),
      {numRuns: 300},
    )
  })
})
