/**
 * The HTML history report in a real browser: Debian's Chromium, headless, driven by
 * puppeteer-core over a pipe (no DevTools port), opening the page from a file:// URL. It checks
 * what a reader sees — every chart has its marks with real geometry, untrusted strings render as
 * text, and the page fetches nothing and logs no errors — and leaves the page and a screenshot in
 * test-artifacts/ to look at.
 */
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {Browser, Page} from 'puppeteer-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {launchChromium} from '../../helpers/chromium.js'
import {renderHistoryHtml} from '../../../src/lib/history/html.js'
import type {HistoryCrawl, HistoryReport} from '../../../src/lib/history/report.js'

const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts')
const XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'

let browser: Browser
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-html-'))
  // Pages open from file:// URLs: no host needs to resolve, not even loopback.
  browser = await launchChromium({allowHosts: []})
}, 120_000)

afterAll(async () => {
  await browser?.close()
  if (dir) rmSync(dir, {recursive: true, force: true})
})

const HOUR = 3_600_000
const T0 = Date.parse('2026-12-01T00:00:00Z')

function fullReport(): HistoryReport {
  const sizes = [
    [812, 540, 61],
    [845, 566, 70],
    [790, 512, 58],
    [901, 604, 77],
    [420, 260, 30], // interrupted
    [933, 631, 84],
  ] as const
  const crawls: HistoryCrawl[] = sizes.map(([discovered, responsive, waku], i) => ({
    id: i + 1,
    startedAt: new Date(T0 + i * 6 * HOUR).toISOString(),
    endedAt: i === 4 ? null : new Date(T0 + i * 6 * HOUR + 95_000 + i * 1000).toISOString(),
    network: 'waku',
    protocolId: 'd5waku',
    strategy: i % 2 ? 'census' : 'random-walk',
    state: i === 4 ? 'interrupted' : 'finished',
    discovered,
    responsive,
    waku,
    interrupted: i === 4,
    durationMs: i === 4 ? null : 95_000 + i * 1000,
    wakuShare: waku / responsive,
  }))
  const finished = crawls.filter((c) => !c.interrupted)
  const churn = finished.slice(1).map((c, i) => ({crawlId: c.id, previousCrawlId: finished[i]!.id, startedAt: c.startedAt, joined: 20 + i * 7, left: i === 2 ? 0 : 15 + i * 3}))
  const per = (counts: Record<string, number>) => crawls.map((c) => ({crawlId: c.id, startedAt: c.startedAt, counts}))
  const curve = Array.from({length: 40}, (_, i) => ({ms: i * 2500, requests: (i + 1) * 25, discovered: Math.round(933 * (1 - Math.exp(-i / 8))), responsive: Math.round(631 * (1 - Math.exp(-i / 9)))}))
  return {
    database: {url: 'postgres://crawler:***@127.0.0.1:5432/history', backend: 'postgres', schemaVersion: 3},
    filters: {since: '2026-12-01T00:00:00.000Z', network: 'waku'},
    crawls,
    churn,
    uptime: {
      peers: 702,
      mean: 0.71,
      median: 0.8,
      histogram: [12, 30, 25, 41, 38, 60, 55, 90, 121, 230].map((peers, i) => ({from: i / 10, to: (i + 1) / 10, peers})),
      sessions: {open: 610, closed: 402, medianMs: 7.5 * HOUR},
    },
    agents: per({'nwaku/v0.36.0-rc.0-1-gd5a8e6': 52, 'go-waku/0.9.1-5b2c': 21, [XSS]: 3}),
    capabilities: per({relay: 80, store: 31, filter: 44, lightpush: 40, peer_exchange: 62}),
    shards: per({'1/0': 50, '1/1': 41, '1/2': 38, '1/3': 35, '1/4': 33, '1/5': 29, '1/6': 27, '1/7': 30}),
    lastCrawl: {id: 6, startedAt: crawls[5]!.startedAt, curve},
    peer: {
      nodeId: 'a3f1'.repeat(16),
      peerId: '16Uiu2HAm7Yx5Ri3fFZ6TjhXzc9eDzsbbQoUN5ZaVyq5uC1gJpq6b',
      firstSeen: crawls[0]!.startedAt,
      lastSeen: crawls[5]!.startedAt,
      latestSeq: '12',
      latestEnr: 'enr:-KG4QOtcP9X1FbIMOe17QNMKqDxCpm14jcX5tiOE4_TyMrFqbmhPZHK_ZPG2Gxb1GE2xdtodOfx9-cgvNtxnRyHEmC0ghGV0aDKQ9aX9QgAAAAD__________4JpZIJ2NIJpcIQDE8KdiXNlY3AyNTZrMaEDhpehBDbZjM_L9ek699Y7vhUJ-eAdMyQW_Fil522Y0fODdGNwgiMog3VkcIIjKA',
      observations: crawls.map((c, i) => ({crawlId: c.id, startedAt: c.startedAt, status: i === 3 ? 'timeout' : 'ok', responsive: i !== 3, seq: String(10 + Math.floor(i / 2)), recordChanged: i % 2 === 0 && i > 0, rttMs: i === 3 ? null : 40 + i, sources: ['walk', 'px'], agent: XSS, dialClass: 'public'})),
      sessions: [{network: 'waku', startedAt: crawls[0]!.startedAt, lastSeenAt: crawls[5]!.startedAt, endedAt: null, crawls: 5}],
      uptime: 0.8,
    },
  }
}

/** What buildHistoryReport returns for a database without crawls. */
function emptyReport(): HistoryReport {
  return {
    database: {url: 'sqlite:/tmp/none.db', backend: 'sqlite', schemaVersion: 3},
    filters: {},
    crawls: [],
    churn: [],
    uptime: {peers: 0, mean: null, median: null, histogram: Array.from({length: 10}, (_, i) => ({from: i / 10, to: (i + 1) / 10, peers: 0})), sessions: {open: 0, closed: 0, medianMs: null}},
    agents: [],
    capabilities: [],
    shards: [],
  }
}

/** Degenerate but non-empty: one crawl, all zeros, a one-point curve, a zero count. */
function zeroReport(): HistoryReport {
  const r = emptyReport()
  const startedAt = new Date(T0).toISOString()
  r.crawls = [{id: 1, startedAt, endedAt: startedAt, network: 'waku', protocolId: 'd5waku', strategy: 'census', state: 'finished', discovered: 0, responsive: 0, waku: 0, interrupted: false, durationMs: 0, wakuShare: 0}]
  r.churn = [{crawlId: 1, previousCrawlId: 0, startedAt, joined: 0, left: 0}]
  r.uptime.histogram[9]!.peers = 1
  r.capabilities = [{crawlId: 1, startedAt, counts: {relay: 0}}]
  r.lastCrawl = {id: 1, startedAt, curve: [{ms: 0, requests: 0, discovered: 0, responsive: 0}]}
  return r
}

interface Opened {
  page: Page
  url: string
  requests: string[]
  errors: string[]
}

async function open(name: string, html: string): Promise<Opened> {
  const file = join(dir, `${name}.html`)
  writeFileSync(file, html)
  const url = pathToFileURL(file).href
  const page = await browser.newPage()
  await page.setViewport({width: 1200, height: 900})
  const requests: string[] = []
  const errors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') errors.push(`console.${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`))
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`))
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`)
    void d.dismiss()
  })
  await page.goto(url, {waitUntil: 'load'})
  return {page, url, requests, errors}
}

interface Mark {
  tag: string
  value: number | null
  attrs: number[]
  box: {width: number; height: number; x: number; y: number}
}

async function charts(page: Page): Promise<Record<string, {declared: number; marks: Mark[]; text: string}>> {
  return page.$$eval('svg[data-chart]', (svgs) =>
    Object.fromEntries(
      svgs.map((svg) => [
        svg.getAttribute('data-chart')!,
        {
          declared: Number(svg.getAttribute('data-points')),
          text: svg.textContent ?? '',
          marks: [...svg.querySelectorAll('.point')].map((m) => {
            const names = m.tagName === 'circle' ? ['cx', 'cy', 'r'] : ['x', 'y', 'width', 'height']
            const b = m.getBoundingClientRect()
            const v = m.getAttribute('data-value')
            return {tag: m.tagName, value: v === null ? null : Number(v), attrs: names.map((a) => Number.parseFloat(m.getAttribute(a) ?? 'NaN')), box: {width: b.width, height: b.height, x: b.x, y: b.y}}
          }),
        },
      ]),
    ),
  )
}

function expectSound(name: string, chart: {declared: number; marks: Mark[]}, expected: number): void {
  expect(chart.declared, `${name}: data-points`).toBe(expected)
  expect(chart.marks, `${name}: .point marks`).toHaveLength(expected)
  for (const m of chart.marks) {
    for (const a of [...m.attrs, m.box.x, m.box.y, m.box.width, m.box.height]) expect(Number.isFinite(a), `${name}: finite geometry ${JSON.stringify(m)}`).toBe(true)
    if (m.tag === 'circle' || (m.value ?? 0) > 0) {
      expect(m.box.width, `${name}: visible width ${JSON.stringify(m)}`).toBeGreaterThan(0)
      expect(m.box.height, `${name}: visible height ${JSON.stringify(m)}`).toBeGreaterThan(0)
    }
  }
}

const CHARTS = ['size', 'waku-share', 'churn', 'uptime', 'capabilities', 'shards', 'agents', 'curve']

describe('renderHistoryHtml in Chromium', () => {
  it('renders every chart with its marks, escapes untrusted strings and fetches nothing', async () => {
    const report = fullReport()
    const html = renderHistoryHtml(report, {title: 'Waku history <test>', generatedAt: '2026-12-02T09:00:00.000Z'})
    expect(html).not.toMatch(/NaN|Infinity|https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
    const {page, url, requests, errors} = await open('full', html)
    try {
      const found = await charts(page)
      expect(Object.keys(found).sort()).toEqual([...CHARTS].sort())
      const expected: Record<string, number> = {size: 12, 'waku-share': 6, churn: 8, uptime: 10, capabilities: 5, shards: 8, agents: 3, curve: 40}
      for (const name of CHARTS) expectSound(name, found[name]!, expected[name]!)
      // Bars scale with their counts: the biggest histogram bucket is the tallest bar.
      const heights = found.uptime!.marks.map((m) => m.box.height)
      expect(heights.indexOf(Math.max(...heights))).toBe(9)

      // The payload is text on the page, not markup: no script ran, no element was injected.
      expect(await page.evaluate(() => (globalThis as {__xss?: number}).__xss)).toBeUndefined()
      expect(await page.$$eval('script, img', (els) => els.length)).toBe(0)
      expect(found.agents!.text).toContain(XSS)
      expect(await page.$eval('body', (b) => b.innerText)).toContain('<script>window.__xss=1</script>')
      expect(await page.title()).toBe('Waku history <test>')

      // Summary table: one row per crawl; the peer timeline: one row per observation.
      const rows = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length))
      expect(rows).toEqual([6, 1, 6, 1])
      const header = await page.$eval('header', (h) => h.innerText)
      for (const s of ['postgres://crawler:***@127.0.0.1:5432/history', 'schema v3', 'network=waku', '2026-12-02T09:00:00.000Z']) expect(header).toContain(s)

      mkdirSync(ARTIFACTS, {recursive: true})
      writeFileSync(join(ARTIFACTS, 'history-report.html'), html)
      await page.screenshot({path: join(ARTIFACTS, 'history-report.png'), fullPage: true})
      expect(errors).toEqual([])
      expect(requests).toEqual([url])
    } finally {
      await page.close()
    }
  })

  it('renders an empty report: every chart present with no points and a "no data" note', async () => {
    const html = renderHistoryHtml(emptyReport())
    expect(html).not.toMatch(/NaN|Infinity/)
    const {page, url, requests, errors} = await open('empty', html)
    try {
      const found = await charts(page)
      expect(Object.keys(found).sort()).toEqual([...CHARTS].sort())
      for (const name of CHARTS) {
        expectSound(name, found[name]!, 0)
        expect(found[name]!.text, name).toContain('no data')
      }
      expect(errors).toEqual([])
      expect(requests).toEqual([url])
    } finally {
      await page.close()
    }
  })

  it('keeps single-point and all-zero series finite', async () => {
    const html = renderHistoryHtml(zeroReport())
    expect(html).not.toMatch(/NaN|Infinity/)
    const {page, errors} = await open('zero', html)
    try {
      const found = await charts(page)
      const expected: Record<string, number> = {size: 2, 'waku-share': 1, churn: 2, uptime: 10, capabilities: 1, shards: 0, agents: 0, curve: 1}
      for (const name of CHARTS) expectSound(name, found[name]!, expected[name]!)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})
