// The full sync's scheduling (tree-sync.ts on the shared Limiter), against an in-memory resolver:
// the concurrency bound, the stop on the first fatal error, the entry cap and an abort mid-sync.
import {describe, expect, it} from 'vitest'

import {resolveTree} from '../../../src/lib/dns/client.js'
import {makeTree, subdomainOf} from '../../../src/lib/dns/tree.js'
import {testKey, testRecords} from './fixtures.js'
import {MemoryResolver} from './memory-resolver.js'

const KEY = testKey(9101)
const records = testRecords(40)
const domain = 'mem.example'

function tree(n = 40): {url: string; txt: Record<string, string>} {
  const t = makeTree(3n, records.slice(0, n), [])
  const url = t.sign(KEY, domain)
  return {url, txt: t.toTxt(domain)}
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('full sync scheduling', () => {
  it('keeps at most `concurrency` lookups in flight and still fetches every entry', async () => {
    const {url, txt} = tree()
    const resolver = new MemoryResolver(txt)
    const progress: number[] = []
    const result = await resolveTree(url, {resolver, concurrency: 3, onProgress: (p) => progress.push(p.pending)})
    expect(result.nodes).toHaveLength(40)
    expect(result.complete).toBe(true)
    expect(result.stats.entries).toBe(Object.keys(txt).length - 1)
    expect(resolver.maxInFlight).toBe(3)
    expect(progress.at(-1)).toBe(0)
    expect(progress.length).toBe(result.stats.entries)
  })

  it('stops at the first fatal error: it rejects at once and starts no lookup after it', async () => {
    const {url, txt} = tree()
    delete txt[`${subdomainOf(records[0]!.text)}.${domain}`]
    const resolver = new MemoryResolver(txt, 5)
    await expect(resolveTree(url, {resolver, concurrency: 2})).rejects.toMatchObject({code: 'DNS_NO_ENTRY', exitCode: 3})
    const started = resolver.counters.queries
    await settle(50)
    expect(resolver.counters.queries).toBe(started)
    expect(started).toBeLessThan(Object.keys(txt).length)
  })

  it('refuses a tree over maxEntries, whatever lenient says', async () => {
    const {url, txt} = tree()
    await expect(resolveTree(url, {resolver: new MemoryResolver(txt), maxEntries: 10, lenient: true})).rejects.toMatchObject({code: 'DNS_TOO_MANY_ENTRIES'})
  })

  it('an abort mid-sync returns the part gathered, marked INTERRUPTED, and starts no lookup after it', async () => {
    const {url, txt} = tree()
    const resolver = new MemoryResolver(txt, 5)
    const controller = new AbortController()
    let nodes = 0
    const result = await resolveTree(url, {
      resolver,
      concurrency: 2,
      signal: controller.signal,
      onNode: () => {
        if (++nodes === 3) controller.abort()
      },
    })
    const started = resolver.counters.queries
    expect(result.complete).toBe(false)
    expect(result.problems.map((p) => p.code)).toEqual(['INTERRUPTED'])
    expect(result.nodes).toHaveLength(3)
    await settle(50)
    expect(resolver.counters.queries).toBe(started)
    expect(resolver.inFlight).toBe(0)
  })

  it('a signal aborted right after the root answered: interrupted before any entry is fetched', async () => {
    const {url, txt} = tree(5)
    const resolver = new MemoryResolver(txt)
    const controller = new AbortController()
    // The root lookup needs the signal alive; abort right after it answered.
    const result = await resolveTree(url, {
      resolver: {
        ...resolver,
        counters: resolver.counters,
        description: resolver.description,
        close: () => resolver.close(),
        resolveTxt: async (name, options) => {
          const answer = await resolver.resolveTxt(name, options)
          if (name === domain) controller.abort()
          return answer
        },
      },
      signal: controller.signal,
    })
    expect(result.problems.map((p) => p.code)).toEqual(['INTERRUPTED'])
    expect(result.stats.entries).toBe(0)
    expect(result.nodes).toEqual([])
  })
})
