import {render} from 'ink-testing-library'
import React from 'react'
import {describe, expect, it} from 'vitest'

import {initialCrawlView, reduceCrawl, type CrawledNode, type CrawlEvent} from '../../../src/lib/discv5/index.js'
import {CrawlDashboard, crawlStatusLine, renderCrawlSummary} from '../../../src/ui/crawl.js'

const node = (i: number, caps: string[] | undefined, status: CrawledNode['status'] = 'responsive'): CrawledNode => ({
  enr: `enr:x${i}`,
  nodeId: i.toString(16).padStart(64, '0'),
  seq: '1',
  ip: '127.0.0.1',
  udp: 30_000 + i,
  waku: caps ? {waku2: {raw: '0x01', capabilities: caps as never, unknownBits: []}, cluster: 1, shards: [i % 2]} : undefined,
  status,
  responsive: status === 'responsive' ? true : status === 'unresponsive' ? false : null,
  seenBy: 3,
  firstSeen: new Date(0).toISOString(),
  lastSeen: new Date(0).toISOString(),
  requests: 1,
  timeouts: 0,
  matches: true,
  ...(status === 'refused' ? {refusal: 'private' as const} : {}),
})

const events: CrawlEvent[] = [
  {type: 'start', protocolId: 'd5waku', strategy: 'census', bootnodes: 1, bindAddress: '127.0.0.1:1', nodeId: 'ab'},
  {type: 'node', node: node(1, ['relay', 'store'])},
  {type: 'node', node: node(2, ['relay'])},
  {type: 'node', node: node(3, undefined)},
  {type: 'node', node: node(4, undefined, 'refused')},
  {
    type: 'progress',
    stats: {...initialCrawlView().stats, elapsedMs: 1500, discovered: 4, responsive: 3, refused: 1, requests: 5, requestsPerSecond: 3, wakuResponsive: 2, timeouts: 1},
  },
]

describe('crawl views', () => {
  const view = events.reduce(reduceCrawl, initialCrawlView())

  it('the reducer folds capability and shard histograms and refusals', () => {
    expect(view.capabilities).toEqual({relay: 2, store: 1})
    expect(view.shards).toEqual({'1/1': 1, '1/0': 1})
    expect(view.refusals).toEqual({private: 1})
    expect(view.wakuResponsive).toBe(2)
  })

  it('renders the live dashboard', () => {
    const {lastFrame, unmount} = render(<CrawlDashboard view={view} />)
    const frame = lastFrame()!
    expect(frame).toContain('census · protocol d5waku · 1.5s')
    expect(frame).toMatch(/discovered\s+4/)
    expect(frame).toMatch(/Waku share\s+66\.7% \(2\)/)
    expect(frame).toMatch(/relay\s+█+\s+2/)
    expect(frame).toContain('1 timeouts')
    unmount()
  })

  it('prints a plain status line and a summary table', () => {
    expect(crawlStatusLine(view)).toBe('[1.5s] discovered 4, responsive 3, silent 0, refused 1, Waku 2 (66.7%), requests 5 (3/s), timeouts 1, queued 0')
  })
})

describe('summary table', () => {
  it('shows counts, refusals and the analysis', () => {
    const text = renderCrawlSummary({
      state: 'complete',
      network: 'waku',
      protocolId: 'd5waku',
      strategy: 'census',
      startedAt: new Date(0).toISOString(),
      durationMs: 2000,
      bootnodes: 1,
      counts: {discovered: 10, responsive: 8, unresponsive: 1, refused: 1, noAddress: 0, unvisited: 0, waku: 4, wakuDiscovered: 5, matching: 10, matchingResponsive: 8},
      refusals: {multicast: 1},
      requests: {sent: 12, succeeded: 10, timeouts: 2, failed: 0, perResponsiveNode: 1.5, timeoutsByPhase: {challenge: 2, handshake: 0, session: 0}},
      handshakes: 11,
      wire: {packetsOut: 20, bytesOut: 2048, packetsIn: 40, bytesIn: 8192, refusedSends: 0, decodeErrors: 0},
      capabilities: {relay: 4},
      clusters: {'1': 4},
      shards: {'1/0': 4},
      analysis: {
        networkSize: {enumerated: 8, kademliaEstimate: null, kademliaSamples: 0},
        wakuShare: 0.5,
        randomWalk: {p: 0.5, P: 0.9, k: 16, b: 1, n: 8, queries: 0.21, hopsPerQuery: 3, overlayHops: 0.62},
        observed: {requestsToFirstWaku: 1, msToFirstWaku: 30},
      },
      curve: [
        {ms: 0, requests: 0, discovered: 1, responsive: 0},
        {ms: 2000, requests: 12, discovered: 10, responsive: 8},
      ],
    })
    expect(text).toContain('complete (census, protocol id d5waku, 2.0s)')
    expect(text).toContain('4 of 5 discovered')
    expect(text).toContain('multicast 1')
    expect(text).toContain('q = 0.21 queries × 3.0 hops (log_2 n) = 0.6 overlay hops')
    expect(text).toContain('10 nodes @ 12 req / 2.0s')
  })
})

describe('crawl views with visits', () => {
  const visit = (error: {class: string; message: string} | null, findings: string[] = []) => ({
    peerId: '16Uiu2HAm',
    addresses: [],
    remoteAddr: null,
    agentVersion: error ? null : 'nwaku-v0.36.0',
    protocolVersion: null,
    protocols: [],
    listenAddrs: [],
    observedAddr: null,
    metadata: error ? null : {clusterId: 1, shards: [0]},
    pingMs: error ? null : 3,
    dialMs: error ? null : 9,
    ms: 10,
    error,
    findings: findings.map((code) => ({code, severity: 'warning', message: code})),
  })
  const visited: CrawlEvent[] = [
    {type: 'start', protocolId: 'd5waku', strategy: 'census', bootnodes: 1, bindAddress: '127.0.0.1:1', nodeId: 'ab'},
    {type: 'node', node: {...node(1, ['relay']), visit: visit(null, ['CLUSTER_MISMATCH']) as never}},
    {type: 'node', node: {...node(2, ['relay']), visit: visit(null) as never}},
    {type: 'node', node: {...node(3, ['relay']), visit: visit({class: 'timeout', message: 'dial timed out'}) as never}},
    {type: 'progress', stats: {...initialCrawlView().stats, elapsedMs: 900, responsive: 3, visits: {done: 3, failed: 1, pending: 2}}},
  ]
  const view = visited.reduce(reduceCrawl, initialCrawlView())

  it('folds visits by outcome, class, agent and finding code', () => {
    expect(view.visited).toEqual({ok: 2, failed: {timeout: 1}, agents: {'nwaku-v0.36.0': 2}, findings: {CLUSTER_MISMATCH: 1}})
  })

  it('the dashboard and the status line show them', () => {
    const {lastFrame, unmount} = render(<CrawlDashboard view={view} />)
    const frame = lastFrame()!
    expect(frame).toMatch(/identified\s+2 of 3 \(2 in flight\)/)
    expect(frame).toMatch(/timeout\s+1/)
    expect(frame).toMatch(/nwaku-v0\.36\.0\s+2/)
    expect(frame).toMatch(/CLUSTER_MISMATCH\s+1/)
    unmount()
    expect(crawlStatusLine(view)).toMatch(/, visits 3 \(1 failed, 2 pending\)$/)
  })
})
