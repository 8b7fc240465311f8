import {describe, expect, it} from 'vitest'

import {LIBP2P_ROLE_EXPECTATION} from '../../../src/lib/testnet/index.js'
import {firstJson, ndjsonOf, runCli, startCli} from '../../helpers/cli.js'

/**
 * The "done means", end to end with two processes: `testnet --libp2p --px --rendezvous
 * --dns` in one, the census with every source in the other. Each node's sources, stale records,
 * planted lies and dial failures must come back as the testnet was told.
 */
describe('crawl with every discovery source against testnet --libp2p --px --rendezvous --dns', () => {
  it('reports per peer which sources know it and with which seq, and per source what it found', async () => {
    const lab = startCli(['testnet', '--nodes', '60', '--libp2p', '--libp2p-lies', '0.3', '--px', '--rendezvous', '--dns', '--json', '--seed', '4'], firstJson)
    try {
      const description = await lab.ready
      const s = description.sources
      expect(s.dns.records).toBeGreaterThan(10)
      expect(s.px.records).toBeGreaterThan(5)
      expect(s.rendezvous.registrations).toBeGreaterThan(5)
      const args = ['--bootnode', description.bootnode, '--strategy', 'census', '--enrtree', s.dns.url, '--dns-server', s.dns.server, '--px', s.px.multiaddr, '--rendezvous', s.rendezvous.multiaddr]
      const r = await runCli(['crawl', ...args, '--ndjson'], {timeoutMs: 180_000})
      expect(r.code, r.stderr).toBe(0)
      const lines = new Map(ndjsonOf(r.stdout, 'node').map((n) => [n.nodeId, n]))
      let hidden = 0
      for (const node of description.nodes as any[]) {
        if (!node.live) continue
        const line = lines.get(node.nodeId)
        expect(line, `node ${node.index}`).toBeDefined()
        const others = (line.sources ?? []).filter((x: string) => x !== 'discv5')
        expect(others, `node ${node.index}`).toEqual(Object.keys(node.inSources ?? {}).sort())
        // In no routing table: the DHT never lists it; the tree does.
        if (node.hidden) {
          hidden++
          expect(line.sources).not.toContain('discv5')
        } else if (node.index !== 0) expect(line.sources).toContain('discv5')
        for (const [source, state] of Object.entries(node.inSources ?? {})) {
          if (source === 'rendezvous') continue
          const stale = BigInt(line.sourceSeqs[source]) < BigInt(line.seq)
          // A hidden node known only from a stale record has nothing newer to compare with.
          if (!node.hidden) expect(stale, `node ${node.index} ${source}`).toBe(state === 'stale')
        }
        if (node.libp2p && line.status === 'responsive') {
          const expected = LIBP2P_ROLE_EXPECTATION[node.libp2p.role as keyof typeof LIBP2P_ROLE_EXPECTATION]
          if (expected.errorClass) expect(line.visit.error?.class, node.libp2p.role).toBe(expected.errorClass)
          if (expected.finding) expect(line.visit.findings.map((f: {code: string}) => f.code)).toContain(expected.finding)
        }
      }
      expect(hidden).toBeGreaterThan(0)
      expect(r.stderr).toMatch(/source dns\s+│ \d+ peers \(\d+ also elsewhere, [1-9]\d* only here\)/)
      expect(r.stderr).toMatch(/source rendezvous\s+│/)

      const j = await runCli(['crawl', ...args, '--json'], {timeoutMs: 180_000})
      expect(j.code, j.stderr).toBe(0)
      const by = j.json.sources.bySource
      const staleIn = (source: string) => (description.nodes as any[]).filter((n) => n.inSources?.[source] === 'stale' && !n.hidden).length
      expect(by.dns.stale).toBeGreaterThanOrEqual(staleIn('dns'))
      expect(by.px.stale).toBe(staleIn('px'))
      expect(by.dns.found).toBe(s.dns.records)
      expect(by.px.found).toBe(s.px.records)
      expect(by.rendezvous.found).toBe((description.nodes as any[]).filter((n) => n.inSources?.rendezvous).length)
      expect(by.rendezvous.stale).toBeNull()
      expect(by.dns.only).toBe((description.nodes as any[]).filter((n) => n.hidden && Object.keys(n.inSources ?? {}).join() === 'dns').length)
      for (const source of ['dns', 'px', 'rendezvous']) expect(by[source].errors).toEqual([])
    } finally {
      await lab.stop()
    }
  }, 300_000)
})
