/**
 * The browser end in the NAT lab: Chromium runs inside namespace `a` behind NAT A, the CLI's
 * `webrtc listen --page` inside `b` behind NAT B (its page reached through a TCP port forward on
 * B's WAN address, as an operator would publish it; UDP stays NATed). Both NATs symmetric: the
 * direct path fails and the report says so; with coturn in `pub` the link goes through TURN and
 * the report says that. Chromium keeps its default mDNS host-candidate hiding here (its multicast
 * stays inside the lab's namespaces). Needs root; under CI=true it must run.
 */
import type {Browser} from 'puppeteer-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {chromiumMissingReason, launchChromium} from '../../helpers/chromium.js'
import {createLab, labUnavailableReason, PUB_IP, PUB_IP2, TURN_PASSWORD, TURN_USER, type Lab} from '../../helpers/natlab.js'
import {startPageListener} from '../../helpers/page-listener.js'

const reason = labUnavailableReason() ?? chromiumMissingReason()
if (reason && process.env.CI === 'true') throw new Error(`CI=true but the browser NAT lab cannot run: ${reason}`)

const PAGE_PORT = 8081
const NAT_B_WAN = '198.18.2.2'
const STUN = ['--stun', `stun:${PUB_IP}:3478`, '--stun', `stun:${PUB_IP2}:3478`]

describe.skipIf(reason !== undefined)(`browser behind a NAT${reason ? ` (skipped: ${reason})` : ''}`, {timeout: 150_000}, () => {
  let lab: Lab
  let browser: Browser

  beforeAll(async () => {
    lab = await createLab()
    browser = await launchChromium({netns: lab.ns.a, allowHosts: [NAT_B_WAN, PUB_IP, PUB_IP2]})
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    await lab?.destroy()
  })

  async function session(nat: 'sym' | 'eim', extra: string[]) {
    await lab.setNat('A', nat)
    await lab.setNat('B', nat)
    // setNat flushes the tables: publish the page's TCP port on B's WAN address again.
    await lab.sh(lab.ns.natB, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-i', 'wan', '-p', 'tcp', '--dport', String(PAGE_PORT), '-j', 'DNAT', '--to-destination', `10.10.2.2:${PAGE_PORT}`)
    const l = await startPageListener(['--once', '--json', '--page-host', '10.10.2.2', '--page-port', String(PAGE_PORT), '--bytes', '200000', '--pings', '3', '--connect-timeout', '8000', ...STUN, ...extra], {
      netns: lab.ns.b,
      env: {WAKU_DISC_TURN_PASSWORD: TURN_PASSWORD, CI: 'true'},
    })
    const page = await browser.newPage()
    await page.goto(l.url.replace('10.10.2.2', NAT_B_WAN))
    await page.waitForFunction('document.body.dataset.done', {timeout: 90_000})
    const status = await page.$eval('#status', (e: any) => e.textContent)
    await page.close()
    return {...(await l.done), status}
  }

  it('both NATs symmetric, STUN only: the direct path fails, the browser is told TURN is needed', async () => {
    const r = await session('sym', [])
    expect(r.code, r.stderr).toBe(3)
    const j = r.json
    expect(j.ok).toBe(false)
    expect(r.status).toContain('no connection')
    expect(j.browser.userAgent).toContain('Chrome/')
    // The browser's address as the page server saw it: NAT A's WAN side.
    expect(j.browser.address).toBe('198.18.1.2')
    const srflx = j.browser.candidates.filter((c: any) => c.type === 'srflx')
    expect(srflx.length).toBeGreaterThanOrEqual(2)
    for (const c of srflx) expect(c.address).toBe('198.18.1.2')
    expect(j.browser.mapping.endpointIndependent).toBe(false)
    expect(j.browser.verdict).toBe('TURN needed')
    // Chromium hid its host address (10.10.1.2) behind an mDNS name; nothing in the report shows it.
    expect(j.browser.mdnsHostCandidates).toBeGreaterThan(0)
    expect(JSON.stringify(j.browser.candidates)).not.toContain('10.10.1.2')
    // Each STUN server saw the browser's public address and, because the CLI used it too, both peers.
    const stun = j.privacy.filter((p: any) => p.role === 'stun')
    expect(stun).toHaveLength(2)
    for (const s of stun) {
      expect(s.sawAddresses.some((a: string) => a.startsWith('198.18.1.2:'))).toBe(true)
      expect(s.carriedData).toBe(false)
    }
  })

  it('both NATs symmetric, with TURN: connected through the relay, and the report says so', async () => {
    const r = await session('sym', ['--turn', `turn:${PUB_IP}:3478`, '--turn-user', TURN_USER])
    expect(r.code, r.stderr).toBe(0)
    const j = r.json
    expect(j.ok).toBe(true)
    expect(j.path).toBe('relayed')
    expect(r.status).toContain('relayed')
    expect([j.selectedPair.local.type, j.selectedPair.remote.type]).toContain('relay')
    expect(j.browser.candidates.some((c: any) => c.type === 'relay' && c.address === PUB_IP)).toBe(true)
    expect(j.rttMs).toHaveLength(3)
    const turn = j.privacy.find((p: any) => p.role === 'turn')
    expect(turn.carriedData).toBe(true)
    expect(turn.sawBothPeers).toBe(true)
    expect(r.stdout + r.stderr).not.toContain(TURN_PASSWORD)
  })

  it('both NATs endpoint-independent: a direct link between srflx candidates', async () => {
    const r = await session('eim', [])
    expect(r.code, r.stderr).toBe(0)
    const j = r.json
    expect(j.path).toBe('direct')
    expect(j.browser.mapping.endpointIndependent).toBe(true)
    expect(j.browser.verdict).toBe('direct links likely')
  })
})
