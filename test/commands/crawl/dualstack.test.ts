import {describe, expect, it} from 'vitest'

import {startTestnet} from '../../../src/lib/testnet/index.js'
import {ndjsonOf, runCli} from '../../helpers/cli.js'
import {ipv6LoopbackAvailable} from '../../helpers/ipv6.js'

const hasIpv6 = await ipv6LoopbackAvailable()

describe.skipIf(!hasIpv6)('crawl --bind on a mixed-family testnet (skipped only without IPv6 loopback)', () => {
  it('crawls both families by default from a dual-stack bootnode; --bind 127.0.0.1 keeps to IPv4; bad --bind exits 2', async () => {
    const testnet = await startTestnet({nodes: 40, ipv6: 0.3, dualStack: 0.3, workers: 0, seed: 3})
    try {
      const live = testnet.nodes.filter((n) => n.live)
      const both = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--no-visit', '--ndjson'], {timeoutMs: 90_000})
      expect(both.code, both.stderr).toBe(0)
      const lines = new Map(ndjsonOf(both.stdout, 'node').map((n) => [n.nodeId, n]))
      for (const n of live) expect(lines.get(n.nodeId)?.status, `node ${n.index} (${n.family})`).toBe('responsive')
      expect(both.stderr).toMatch(/responsive\s+│ \d+ \(\d+ over IPv4, \d+ over IPv6\)/)
      const v4 = await runCli(['crawl', '--bootnode', testnet.bootnode, '--strategy', 'census', '--no-visit', '--bind', '127.0.0.1', '--json'], {timeoutMs: 90_000})
      expect(v4.code, v4.stderr).toBe(0)
      expect(v4.json.counts.responsive).toBe(live.filter((n) => n.family !== 6).length)
      expect(v4.json.families).toBeUndefined()
      const bad = await runCli(['crawl', '--bootnode', testnet.bootnode, '--bind', 'localhost'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/not an IP address/)
    } finally {
      await testnet.stop()
    }
  }, 240_000)
})
