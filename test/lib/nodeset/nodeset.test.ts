import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  GO_ZERO_TIME,
  filterNodeSet,
  filterNodeSetDetailed,
  formatNodeSet,
  nodeSetFromRecords,
  nodeSetRecords,
  parseNodeSetText,
  readNodeSetDetailed,
  readNodeSetFile,
  writeNodeSetFile,
} from '../../../src/lib/nodeset/index.js'
import {testRecord, testRecords} from '../dns/fixtures.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeset-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('geth nodes.json', () => {
  it('writes like geth: 4-space indent, ids sorted, zero times, score omitted when 0, no trailing newline', () => {
    const records = testRecords(3)
    const set = nodeSetFromRecords(records)
    const id = records[1]!.nodeId
    set[id]!.score = 7
    set[id]!.firstResponse = '2025-03-14T17:04:04Z'
    const text = formatNodeSet(set)
    expect(text.endsWith('}')).toBe(true)
    const ids = [...text.matchAll(/^ {4}"([0-9a-f]{64})": \{$/gm)].map((m) => m[1])
    expect(ids).toEqual([...ids].sort())
    expect(ids).toHaveLength(3)
    expect(text).toContain(`"lastCheck": "${GO_ZERO_TIME}"`)
    expect(text.match(/"score"/g)).toHaveLength(1)
    // Field order of geth's nodeJSON struct.
    const block = text.slice(text.indexOf(`"${id}"`))
    expect(block.indexOf('"seq"')).toBeLessThan(block.indexOf('"record"'))
    expect(block.indexOf('"record"')).toBeLessThan(block.indexOf('"score"'))
    expect(block.indexOf('"score"')).toBeLessThan(block.indexOf('"firstResponse"'))
    // Same as Go's json.MarshalIndent for this shape.
    expect(JSON.stringify(JSON.parse(text), null, 4)).toBe(text)
  })

  it('round-trips through a file, keeping scores, times and uint64 seq exactly', async () => {
    const record = testRecord(5, {seq: 1741960372902n})
    const set = nodeSetFromRecords([record])
    set[record.nodeId]!.lastResponse = '2025-05-01T11:59:52Z'
    const path = join(dir, 'rt.json')
    await writeNodeSetFile(path, set)
    const back = await readNodeSetDetailed(path)
    expect(back.format).toBe('nodes.json')
    expect(back.set).toEqual(set)
    expect(await readFile(path, 'utf8')).toBe(formatNodeSet(set))
  })

  it('writes - to the stream the caller passes (the library never touches process.stdout) and refuses - without one', async () => {
    const set = nodeSetFromRecords([testRecord(6)])
    const chunks: string[] = []
    const stdout = new PassThrough()
    stdout.on('data', (c: Buffer) => chunks.push(c.toString('utf8')))
    await writeNodeSetFile('-', set, {stdout})
    expect(chunks.join('')).toBe(formatNodeSet(set) + '\n')
    await expect(writeNodeSetFile('-', set)).rejects.toMatchObject({code: 'NODESET_NO_STDOUT', exitCode: 2})
  })

  it('reads geth\'s own file shape (zero times become absent) and rejects a key that is not the record id', () => {
    const r = testRecord(1)
    const text = JSON.stringify({[r.nodeId]: {seq: 1, record: r.text, score: 3, firstResponse: GO_ZERO_TIME, lastResponse: GO_ZERO_TIME, lastCheck: GO_ZERO_TIME}}, null, 4)
    const {set} = parseNodeSetText(text, 'x.json')
    expect(set[r.nodeId]).toEqual({seq: '1', record: r.text, score: 3})
    const other = testRecord(2)
    const bad = JSON.stringify({[other.nodeId]: {seq: 1, record: r.text}})
    expect(() => parseNodeSetText(bad, 'x.json')).toThrow(/x\.json: node .*does not match the record's node id/)
    const badSeq = JSON.stringify({[r.nodeId]: {seq: 9, record: r.text}})
    expect(() => parseNodeSetText(badSeq, 'x.json')).toThrow(/"seq" 9 does not match the record's seq 1/)
  })

  it('reports a JSON syntax error with its line', () => {
    const r = testRecord(1)
    const text = `{\n    "${r.nodeId}": {\n        "seq": 1,\n        "record": "${r.text}",,\n    }\n}`
    expect(() => parseNodeSetText(text, 'broken.json')).toThrow(/broken\.json: invalid JSON at line 4/)
  })
})

describe('NDJSON and ENR lists', () => {
  it('reads crawler NDJSON lines with enr or record fields, and reports bad lines as file:line', () => {
    const [a, b] = testRecords(2)
    const text = [JSON.stringify({enr: a!.text, nodeId: a!.nodeId, firstSeen: '2026-01-01T00:00:00Z'}), '', JSON.stringify({record: b!.text, score: 4})].join('\n')
    const {set, format} = parseNodeSetText(text, 'crawl.ndjson')
    expect(format).toBe('ndjson')
    expect(set[a!.nodeId]!.firstResponse).toBe('2026-01-01T00:00:00Z')
    expect(set[b!.nodeId]!.score).toBe(4)
    const bad = [JSON.stringify({enr: a!.text}), JSON.stringify({enr: 'enr:-----'})].join('\n')
    expect(() => parseNodeSetText(bad, 'crawl.ndjson')).toThrow(/^crawl\.ndjson:2: /)
    const lenient = parseNodeSetText(bad, 'crawl.ndjson', {lenient: true})
    expect(Object.keys(lenient.set)).toEqual([a!.nodeId])
    expect(lenient.problems).toEqual([{where: 'crawl.ndjson:2', message: expect.any(String)}])
    const mismatch = JSON.stringify({enr: a!.text, nodeId: b!.nodeId})
    expect(() => parseNodeSetText(mismatch, 'c')).toThrow(/"nodeId" .* does not match/)
  })

  it('reads a plain ENR list with comments; an enode URL gets a precise message', async () => {
    const records = testRecords(3)
    const path = join(dir, 'list.txt')
    await writeFile(path, ['# fleet', records[0]!.text, '', records[1]!.text + '  # annotated', records[2]!.text.slice(4)].join('\n'))
    const set = await readNodeSetFile(path)
    expect(Object.keys(set).sort()).toEqual(records.map((r) => r.nodeId).sort())
    expect(() => parseNodeSetText('enode://' + 'a'.repeat(128) + '@1.2.3.4:30303', 'l.txt')).toThrow(/l\.txt:1: enode:\/\/ URLs carry no signed record/)
  })

  it('keeps the highest seq when a node appears twice', () => {
    const old = testRecord(7, {seq: 1n})
    const newer = testRecord(7, {seq: 5n})
    const {set} = parseNodeSetText([newer.text, old.text].join('\n'), 'l')
    expect(set[old.nodeId]!.seq).toBe('5')
  })

  it('a missing file is a bad-input error naming the path', async () => {
    await expect(readNodeSetFile(join(dir, 'nope.json'))).rejects.toMatchObject({exitCode: 2, message: expect.stringContaining('nope.json: cannot read node set (ENOENT)')})
  })
})

describe('filterNodeSet', () => {
  const records = testRecords(12, (i) => (i % 3 === 0 ? {} : {waku2: i % 3 === 1 ? ['relay'] : ['relay', 'store'], cluster: i % 2 === 0 ? 1 : 2, shards: [i % 4]}))
  const set = nodeSetFromRecords(records)
  records.forEach((r, i) => {
    set[r.nodeId]!.score = i
    set[r.nodeId]!.firstResponse = '2026-01-01T00:00:00Z'
    set[r.nodeId]!.lastResponse = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 3600_000).toISOString().replace('.000Z', 'Z')
  })

  it('filters by Waku fields', () => {
    expect(Object.keys(filterNodeSet(set, {wakuOnly: true}))).toHaveLength(8)
    const store = filterNodeSet(set, {capabilities: ['store']})
    expect(Object.keys(store)).toHaveLength(4)
    for (const r of nodeSetRecords(store)) expect(records.indexOf(records.find((x) => x.nodeId === r.nodeId)!) % 3).toBe(2)
    expect(Object.keys(filterNodeSet(set, {cluster: 1}))).toHaveLength(4)
  })

  it('applies min score, min age, then limit by score with a stable tie-break', () => {
    expect(Object.keys(filterNodeSet(set, {minScore: 10}))).toHaveLength(2)
    expect(Object.keys(filterNodeSet(set, {minAge: 5 * 3600}))).toHaveLength(7)
    const top = filterNodeSet(set, {limit: 3})
    expect(Object.values(top).map((e) => e.score).sort((a, b) => a! - b!)).toEqual([9, 10, 11])
    const tied = nodeSetFromRecords(records)
    expect(filterNodeSet(tied, {limit: 4})).toEqual(filterNodeSet(tied, {limit: 4}))
    expect(Object.keys(filterNodeSet(tied, {limit: 4}))).toEqual(Object.keys(tied).sort().slice(0, 4))
  })

  it('counts what each criterion dropped, each node once, by the first criterion it fails', () => {
    // scores 0..11: minScore 2 drops 0,1; of the rest, waku-only drops 3,6,9; the limit then drops 7 - 4 = 3.
    const {set: kept, dropped} = filterNodeSetDetailed(set, {minScore: 2, wakuOnly: true, limit: 4})
    expect(dropped).toEqual({minScore: 2, minAge: 0, record: 3, limit: 3})
    expect(kept).toEqual(filterNodeSet(set, {minScore: 2, wakuOnly: true, limit: 4}))
    expect(Object.values(kept).map((e) => e.score).sort((a, b) => a! - b!)).toEqual([7, 8, 10, 11])
    expect(filterNodeSetDetailed(set, {minAge: 5 * 3600}).dropped).toEqual({minScore: 0, minAge: 5, record: 0, limit: 0})
  })
})
