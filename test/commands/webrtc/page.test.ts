/**
 * `webrtc listen --page` with a real browser: Debian's Chromium (headless, puppeteer-core over a
 * pipe) opens the page the CLI serves, gathers with its own ICE agent and opens a data channel to
 * the CLI's node-datachannel worker. Host-namespace runs use the machine's own addresses, like the
 * other loopback WebRTC tests; mDNS host-candidate hiding is switched off here so Chromium sends no
 * multicast outside a namespace (the NAT-lab test keeps it on, inside its namespaces).
 */
import type {Browser} from 'puppeteer-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import WebSocket from 'ws'

import {chromiumMissingReason, firefoxMissingReason, launchChromium, launchFirefox} from '../../helpers/chromium.js'
import {startPageListener} from '../../helpers/page-listener.js'

const missing = chromiumMissingReason()
if (missing && process.env.CI === 'true') throw new Error(`CI=true but ${missing}`)

describe.skipIf(missing !== undefined)(`webrtc listen --page with Chromium${missing ? ` (skipped: ${missing})` : ''}`, {timeout: 120_000}, () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium({args: ['--disable-features=WebRtcHideLocalIpsWithMdns']})
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  it('the browser connects; page and CLI show the same report; the page fetches nothing else', async () => {
    const l = await startPageListener(['--once', '--json', '--bytes', '500000', '--pings', '5'])
    expect(l.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#t=[A-Za-z0-9_-]{20,}$/)
    const page = await browser.newPage()
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const consoleErrors: string[] = []
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
    await page.goto(l.url)
    await page.waitForFunction('document.body.dataset.done', {timeout: 60_000})
    const pageJson = JSON.parse((await page.$eval('#json', (e: any) => e.textContent)) ?? '')
    const status = await page.$eval('#status', (e: any) => e.textContent)
    const userAgent = await page.evaluate('navigator.userAgent')
    await page.close()
    const r = await l.done
    expect(r.code, r.stderr).toBe(0)
    const j = r.json
    expect(j.ok).toBe(true)
    expect(status).toContain('connected: direct path')
    // The interface other tools rely on.
    expect(j.browser.userAgent).toBe(userAgent)
    expect(j.browser.userAgent).toContain('Chrome/')
    expect(j.browser.candidates.length).toBeGreaterThan(0)
    expect(j.browser.candidates.every((c: any) => c.type === 'host')).toBe(true)
    expect(j.selectedPair.local.type).toBe('host')
    expect(j.openMs).toBeGreaterThan(0)
    expect(j.rttMs).toHaveLength(5)
    expect(j.throughputMbps).toBeGreaterThan(0)
    expect(j.path).toBe('direct')
    // The CLI's end of the same link: its remote is the browser's local candidate (host, or prflx as learned).
    expect(j.cliSelectedPair.remote.port).toBe(j.selectedPair.local.port)
    expect(j.cliSelectedPair.local.port).toBe(j.selectedPair.remote.port)
    // Both sides end with the same report.
    expect(pageJson).toEqual(j)
    expect(j.privacy.map((p: any) => p.role)).toEqual(['page-server'])
    // Only our page and our script; no CDN, no favicon elsewhere.
    const origin = new URL(l.url).origin
    expect(requests.length).toBeGreaterThan(0)
    for (const u of requests) expect(new URL(u).origin).toBe(origin)
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([])
  })

  it('TURN credentials reach the page for this run only and are never printed', async () => {
    const password = `pw-${process.pid}-never-logged`
    // A TURN server nobody answers on: the page still gets the credential, the link goes direct.
    const l = await startPageListener(['--once', '--json', '--bytes', '0', '--pings', '1', '--turn', 'turn:127.0.0.1:9', '--turn-user', 'probe', '--gather-timeout', '1500'], {
      env: {WAKU_DISC_TURN_PASSWORD: password},
    })
    const page = await browser.newPage()
    let config: any
    const cdp = await page.createCDPSession()
    await cdp.send('Network.enable')
    cdp.on('Network.webSocketFrameReceived', (e: any) => {
      const m = JSON.parse(e.response.payloadData)
      if (m.type === 'config') config = m
    })
    await page.goto(l.url)
    await page.waitForFunction('document.body.dataset.done', {timeout: 60_000})
    const html = await page.content()
    await page.close()
    const r = await l.done
    expect(config.iceServers).toEqual([{urls: 'turn:127.0.0.1:9?transport=udp', username: 'probe', credential: password}])
    expect(r.stdout).not.toContain(password)
    expect(r.stderr).not.toContain(password)
    expect(html).not.toContain(password)
    expect(r.json.iceServers).toEqual(['turn:127.0.0.1:9'])
  })

  it('wrong token, junk messages and a second browser do not break the session', async () => {
    const l = await startPageListener(['--once', '--json', '--bytes', '0', '--pings', '2'])
    const u = new URL(l.url)
    const token = new URLSearchParams(u.hash.slice(1)).get('t')!
    const wsUrl = `ws://${u.host}/ws?t=`
    // A wrong token is refused at the upgrade.
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${wsUrl}wrong`)
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)))
      ws.on('open', () => resolve('open'))
      ws.on('error', () => {})
    })
    expect(refused).toBe('403')
    // A client with the token that sends junk is cut off; the server keeps waiting.
    const junkClose = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}${token}`)
      ws.on('open', () => ws.send('{"not": "a message"'))
      ws.on('close', (code) => resolve(code))
      ws.on('error', () => {})
    })
    expect(junkClose).toBe(4415)
    const bad = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}${token}`)
      ws.on('message', () => ws.send(JSON.stringify({type: 'offer', sdp: 'v=0\r\na=candidate:1 1 udp 1 999.1.1.1 9 typ host\r\n', userAgent: 'x'})))
      ws.on('close', (code) => resolve(code))
      ws.on('error', () => {})
    })
    expect(bad).toBe(4415)
    const page = await browser.newPage()
    await page.goto(l.url)
    await page.waitForFunction('document.body.dataset.done', {timeout: 60_000})
    await page.close()
    const r = await l.done
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.ok).toBe(true)
  })

  it('--timeout with no browser: exit 4 with a typed error', async () => {
    const l = await startPageListener(['--once', '--json', '--timeout', '2'])
    const r = await l.done
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('TIMEOUT')
  })
})

const noFirefox = firefoxMissingReason()
if (noFirefox && process.env.CI === 'true') throw new Error(`CI=true but ${noFirefox}`)

describe.skipIf(noFirefox !== undefined)(`webrtc listen --page with Firefox${noFirefox ? ` (skipped: ${noFirefox})` : ''}`, {timeout: 120_000}, () => {
  it('Firefox ESR connects too, with the same report shape', async () => {
    const l = await startPageListener(['--once', '--json', '--bytes', '300000', '--pings', '3'])
    const browser = await launchFirefox()
    try {
      const page = await browser.newPage()
      await page.goto(l.url)
      await page.waitForFunction('document.body.dataset.done', {timeout: 60_000})
      const pageJson = JSON.parse((await page.$eval('#json', (e: any) => e.textContent)) ?? '')
      const r = await l.done
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.ok).toBe(true)
      expect(r.json.browser.userAgent).toMatch(/Firefox\/\d+/)
      expect(r.json.path).toBe('direct')
      expect(r.json.selectedPair.local.type).toBe('host')
      expect(r.json.rttMs).toHaveLength(3)
      expect(r.json.throughputMbps).toBeGreaterThan(0)
      expect(pageJson).toEqual(r.json)
    } finally {
      await browser.close()
    }
  })
})
