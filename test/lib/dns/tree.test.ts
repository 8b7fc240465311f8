import {hexToBytes} from '@noble/hashes/utils.js'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {parseEnr} from '../../../src/lib/enr/index.js'
import {
  MAX_CHILDREN,
  entryText,
  formatLink,
  hashMatches,
  isValidHash,
  makeTree,
  parseEntry,
  parseRoot,
  parseTreeUrl,
  subdomainOf,
  verifyRootSignature,
} from '../../../src/lib/dns/tree.js'
import {publicKeyOf} from '../../../src/lib/keys/index.js'
import {testKey, testRecords} from './fixtures.js'
import {loadVector} from '../../helpers/vectors.js'


describe('geth byte compatibility (dnsdisc-example-tree.json)', () => {
  const v = loadVector('dnsdisc-example-tree.json')

  it('builds and signs the EIP-1459 example zone identically, signature included', () => {
    const records = v.want_nodes.map((t: string) => parseEnr(t))
    // Input order must not matter: geth sorts by node id.
    const tree = makeTree(BigInt(v.want_seq), [...records].reverse(), v.want_links)
    const url = tree.sign(hexToBytes(v.signing_key_hex), v.domain)
    expect(url).toBe(v.tree_url)
    expect(tree.toTxt(v.domain)).toEqual(v.txt_records)
    expect(Buffer.from(tree.root.signature).toString('hex')).toBe(v.derived_verified_by_independent_reimplementation.root_sig_65_bytes_hex_r_s_v)
  })

  it('the empty branch hash and the link key form match', () => {
    expect(subdomainOf('enrtree-branch:')).toBe('FDXN3SN67NA5DKA4J2GOK7BVQI')
    expect(formatLink(publicKeyOf(hexToBytes(v.signing_key_hex)), 'n')).toBe(v.tree_url)
    const link = parseTreeUrl(v.want_links[0])
    expect(Buffer.from(link.publicKey).toString('hex')).toBe(v.derived_verified_by_independent_reimplementation.link_pubkey_AM5FCQ_compressed_hex)
  })

  it('the published root verifies against the URL key and not against another key', () => {
    const root = parseRoot(v.txt_records.n)
    expect(verifyRootSignature(root, parseTreeUrl(v.tree_url).publicKey)).toBe(true)
    expect(verifyRootSignature(root, parseTreeUrl(v.want_links[0]).publicKey)).toBe(false)
  })
})

describe('parse errors with geth meanings', () => {
  it.each(loadVector('dnsdisc-parse-root.json').cases as any[])('root: $input', (c) => {
    if (c.message) {
      expect(() => parseRoot(c.input)).toThrow(c.message)
      return
    }
    const root = parseRoot(c.input)
    expect(root.eroot).toBe(c.want.eroot)
    expect(root.lroot).toBe(c.want.lroot)
    expect(root.seq).toBe(BigInt(c.want.seq))
    expect(Buffer.from(root.signature).toString('hex')).toBe(c.want.sig_hex)
  })

  it.each(loadVector('dnsdisc-parse-entry.json').cases as any[])('entry: $input', (c) => {
    if (c.message) {
      let error: any
      try {
        parseEntry(c.input)
      } catch (e) {
        error = e
      }
      expect(error?.message).toBe(c.message)
      expect(error?.exitCode).toBe(3)
      return
    }
    const entry = parseEntry(c.input)
    expect(entry.type).toBe(c.want.type)
    if (c.want.children) expect(entry).toMatchObject({children: c.want.children})
    if (c.want.domain) expect(entry).toMatchObject({domain: c.want.domain, str: c.want.str})
    expect(entryText(entry)).toBe(c.input)
  })

  it('hash validity follows geth (12..32 decoded bytes)', () => {
    expect(isValidHash('AAAAAAAAAAAAAAAAAAAA')).toBe(true)
    expect(isValidHash('AAAAAAAAAAAAAAAAAAA')).toBe(false)
    expect(isValidHash('FDXN3SN67NA5DKA4J2GOK7BVQI')).toBe(true)
    expect(isValidHash('FDXN3SN67NA5DKA4J2GOK7BVQ1')).toBe(false)
    expect(hashMatches('FDXN3SN67NA5DKA4J2GOK7BVQI', 'enrtree-branch:')).toBe(true)
    expect(hashMatches('FDXN3SN67NA5DKA4J2GO', 'enrtree-branch:')).toBe(true)
    expect(hashMatches('FDXN3SN67NA5DKA4J2GOK7BVQA', 'enrtree-branch:')).toBe(false)
  })
})

describe('tree layout properties', () => {
  const pool = testRecords(60)

  it('every entry is stored under its own hash, branches hold at most 13 children, every record and link is reachable once', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 60}), fc.integer({min: 0, max: 3}), (n, nLinks) => {
        const records = pool.slice(0, n)
        const links = Array.from({length: nLinks}, (_, i) => formatLink(publicKeyOf(testKey(1000 + i)), `l${i}.example.org`))
        const tree = makeTree(3n, records, links)
        const reached = new Map<string, number>()
        const walk = (hash: string): void => {
          const entry = tree.entries.get(hash)
          expect(entry).toBeDefined()
          expect(subdomainOf(entryText(entry!))).toBe(hash)
          if (entry!.type === 'branch') {
            expect(entry!.children.length).toBeLessThanOrEqual(MAX_CHILDREN)
            entry!.children.forEach(walk)
          } else reached.set(entryText(entry!), (reached.get(entryText(entry!)) ?? 0) + 1)
        }
        walk(tree.root.eroot)
        walk(tree.root.lroot)
        const want = [...records.map((r) => r.text), ...links]
        expect([...reached.keys()].sort()).toEqual(want.sort())
        expect([...reached.values()].every((c) => c === 1)).toBe(true)
        expect(tree.links()).toEqual(links)
      }),
      {numRuns: 40},
    )
  })

  it('one record puts the leaf itself at e=, none gives the empty branch', () => {
    const one = makeTree(1n, pool.slice(0, 1), [])
    expect(one.root.eroot).toBe(subdomainOf(pool[0]!.text))
    const none = makeTree(1n, [], [])
    expect(none.root.eroot).toBe('FDXN3SN67NA5DKA4J2GOK7BVQI')
    expect(none.root.lroot).toBe('FDXN3SN67NA5DKA4J2GOK7BVQI')
    expect(Object.keys(none.toTxt('x'))).toHaveLength(2)
  })

  it('14 records: a chunk of 13 plus a lone leaf under one top branch (geth chunking)', () => {
    const tree = makeTree(1n, pool.slice(0, 14), [])
    const top = tree.entries.get(tree.root.eroot)!
    expect(top.type).toBe('branch')
    const children = (top as any).children as string[]
    expect(children).toHaveLength(2)
    expect(tree.entries.get(children[1]!)!.type).toBe('enr')
  })

  it('rejects a malformed link with the link in the message', () => {
    expect(() => makeTree(1n, [], ['enrtree://nodes.example.org'])).toThrow(/invalid link "enrtree:\/\/nodes.example.org": invalid link entry: missing public key/)
  })
})

describe('untrusted input never crashes the parsers', () => {
  const prefixes = ['', 'enr:', 'enrtree-branch:', 'enrtree://', 'enrtree-root:v1 e=', 'enrtree-root:v1 ']
  const isTyped = (e: unknown): boolean => typeof (e as {exitCode?: unknown}).exitCode === 'number' && typeof (e as {code?: unknown}).code === 'string'

  it('parseEntry / parseRoot / parseTreeUrl: a value or a typed error for any text', () => {
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.string({maxLength: 400}), (prefix, rest) => {
        for (const parse of [parseEntry, parseRoot, parseTreeUrl] as Array<(t: string) => unknown>) {
          try {
            parse(prefix + rest)
          } catch (error) {
            expect(isTyped(error), String(error)).toBe(true)
          }
        }
      }),
      {numRuns: 500},
    )
  })

  it('mutated valid entries: every mutation parses or fails typed', () => {
    const v = loadVector('dnsdisc-example-tree.json')
    const texts = Object.values(v.txt_records) as string[]
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.nat(), fc.integer({min: 0, max: 0x7f}), (text, at, code) => {
        const i = at % text.length
        const mutated = text.slice(0, i) + String.fromCharCode(code) + text.slice(i + 1)
        const parse = mutated.startsWith('enrtree-root:') ? parseRoot : parseEntry
        try {
          parse(mutated)
        } catch (error) {
          expect(isTyped(error), String(error)).toBe(true)
        }
      }),
      {numRuns: 300},
    )
  })
})
