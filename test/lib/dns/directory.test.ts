// Tree directories move between geth and waku-disc: a directory as geth's `devp2p dns sign` writes
// it is read, verified and turned into the same TXT records; ours are written in geth's layout.
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, formatTreeInfo, formatTxtJson, formatZoneFile, loadSignedTree, signTreeDirectory, splitTxt} from '../../../src/lib/dns/directory.js'
import {parseZoneBlock} from '../../../src/lib/dns/publish/zonefile.js'
import {parseRoot} from '../../../src/lib/dns/tree.js'
import {verifyTree} from '../../../src/lib/dns/verify.js'
import {parseEnr} from '../../../src/lib/enr/index.js'
import {writeHexKeyFile} from '../../../src/lib/keys/index.js'
import {base64urlnopad} from '@scure/base'
import {loadVector} from '../../helpers/vectors.js'

const v = loadVector('dnsdisc-example-tree.json')
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-dir-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** The example tree as geth writes a signed definition directory. */
async function gethDirectory(path: string): Promise<void> {
  await mkdir(path, {recursive: true})
  const sig = base64urlnopad.encode(parseRoot(v.txt_records.n).signature)
  const info = {url: v.tree_url, seq: 1, signature: sig, links: v.want_links, lastModified: '2025-05-01T12:00:33.404767089Z'}
  await writeFile(join(path, 'enrtree-info.json'), JSON.stringify(info, null, 4))
  const nodes: Record<string, unknown> = {}
  for (const text of v.want_nodes) {
    const r = parseEnr(text)
    nodes[r.nodeId] = {seq: Number(r.seq), record: text, firstResponse: '0001-01-01T00:00:00Z', lastResponse: '0001-01-01T00:00:00Z', lastCheck: '0001-01-01T00:00:00Z'}
  }
  await writeFile(join(path, 'nodes.json'), JSON.stringify(nodes, null, 4))
}

describe('geth tree directories', () => {
  it('a geth-signed directory verifies and gives the example zone', async () => {
    const path = join(dir, 'geth')
    await gethDirectory(path)
    const report = await verifyTree(path)
    expect(report).toMatchObject({ok: true, signature: 'valid', nodes: 3, seq: '1', url: v.tree_url, links: v.want_links})
    const signed = await loadSignedTree(path)
    expect(signed.txt).toEqual(v.txt_records)
    // geth's to-txt: sorted keys, 4-space indent.
    expect(formatTxtJson(signed.txt)).toBe(JSON.stringify(Object.fromEntries(Object.keys(v.txt_records).sort().map((k) => [k, v.txt_records[k]])), null, 4))
  })

  it('re-signing bumps seq and rewrites enrtree-info.json in geth\'s field order (MarshalIndent layout)', async () => {
    const path = join(dir, 'resign')
    await gethDirectory(path)
    await writeHexKeyFile(join(dir, 'k.hex'), Uint8Array.from(Buffer.from(v.signing_key_hex, 'hex')))
    const report = await signTreeDirectory(path, {keyFile: join(dir, 'k.hex')})
    expect(report).toMatchObject({seq: '2', previousSeq: '1', url: v.tree_url})
    const text = await readFile(join(path, 'enrtree-info.json'), 'utf8')
    const parsed = JSON.parse(text)
    expect(Object.keys(parsed)).toEqual(['url', 'seq', 'signature', 'links', 'lastModified'])
    expect(text).toBe(JSON.stringify(parsed, null, 4))
    expect(formatTreeInfo({seq: '0', links: [], lastModified: 'x'})).toBe(JSON.stringify({seq: 0, links: [], lastModified: 'x'}, null, 4))
  })

  it('zone-file text round-trips, long values split into 255-byte strings of one record', () => {
    const long = 'enr:' + 'A'.repeat(600)
    expect(splitTxt(long).map((s) => s.length)).toEqual([255, 255, 94])
    const txt = {...v.txt_records, 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ.n': long}
    const zone = formatZoneFile(txt, {domain: 'n'})
    expect(zone.split('\n')[0]).toMatch(/^n\. 1800 IN TXT "enrtree-root:v1 /)
    const back = parseZoneBlock(zone)
    expect(Object.fromEntries(back.map((r) => [r.name, r.value]))).toEqual(Object.fromEntries(Object.entries(txt).map(([k, val]) => [k.toLowerCase(), val])))
  })
})

describe('buildTreeDirectory filters', () => {
  it('reports what each filter dropped and says why a tree came out empty', async () => {
    const input = join(dir, 'example-enrs.txt')
    await writeFile(input, v.want_nodes.join('\n') + '\n')
    // An ENR list carries no scores: every node has score 0, so --min-score 1 drops all three.
    const empty = await buildTreeDirectory(input, {domain: 'n', out: join(dir, 'filtered-empty'), filter: {minScore: 1}})
    expect(empty.nodes).toBe(0)
    expect(empty.filtered).toEqual({minScore: 3, minAge: 0, record: 0, limit: 0})
    expect(empty.warnings).toEqual([expect.stringMatching(/^the tree has no nodes: the filters dropped all 3 input nodes \(one crawl scores each node 1/)])
    const limited = await buildTreeDirectory(input, {domain: 'n', out: join(dir, 'filtered-limit'), filter: {limit: 2, wakuOnly: false}})
    expect(limited).toMatchObject({nodes: 2, filtered: {limit: 1}, warnings: []})
    const unfiltered = await buildTreeDirectory(input, {domain: 'n', out: join(dir, 'unfiltered'), filter: {wakuOnly: false}})
    expect(unfiltered.filtered).toBeUndefined()
  })
})

describe('signTreeDirectory key file permissions', () => {
  it('refuses a key file others can read (exit 6, hint names the flag) unless insecurePermissions, as dns-tree sign --insecure-key-permissions', async () => {
    const input = join(dir, 'perm-enrs.txt')
    await writeFile(input, v.want_nodes.join('\n') + '\n')
    const tree = join(dir, 'perm-tree')
    await buildTreeDirectory(input, {domain: 'n', out: tree})
    const keyFile = join(dir, 'open.key')
    await writeFile(keyFile, v.signing_key_hex, {mode: 0o644})
    await chmod(keyFile, 0o644)
    await expect(signTreeDirectory(tree, {keyFile})).rejects.toMatchObject({exitCode: 6, hint: expect.stringContaining('--insecure-key-permissions')})
    const report = await signTreeDirectory(tree, {keyFile, insecurePermissions: true})
    expect(report.url).toBe(v.tree_url)
  })
})
