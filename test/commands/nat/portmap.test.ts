/**
 * `nat portmap` against Debian's miniupnpd in a namespace lab (test/helpers/portmap-lab.ts): each
 * protocol found and used, a mapping proved by a connection from outside, each protocol alone, a
 * gateway with everything off, and an independent client (miniupnpc's upnpc) reading what we made.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'
import {commandAvailable} from '../../helpers/natlab.js'
import {createPortMapLab, GW_LAN, GW_WAN, IN_IP, portmapLabUnavailableReason, type PortMapLab} from '../../helpers/portmap-lab.js'

const reason = portmapLabUnavailableReason()
if (reason && process.env.CI === 'true') throw new Error(`CI must run the port-mapping lab: ${reason}`)

describe.skipIf(reason !== undefined)('nat portmap against miniupnpd (UPnP IGD, NAT-PMP, PCP)', () => {
  let lab: PortMapLab
  beforeAll(async () => {
    lab = await createPortMapLab({upnp: true, natpmp: true, pcp: true})
  }, 60_000)
  afterAll(() => lab?.destroySync())

  it('all three on: each maps, reads back and removes its test mapping; the external address is the WAN address', async () => {
    const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--port', '9000', '--protocol', 'udp', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.gateway).toBe(GW_LAN)
    for (const p of ['upnp', 'natpmp', 'pcp']) {
      const pr = report.protocols[p]
      expect(pr, p).toMatchObject({tried: true, supported: true, externalAddress: GW_WAN})
      expect(pr.error, p).toBeUndefined()
      expect(pr.mapping, p).toMatchObject({protocol: 'udp', internalAddress: IN_IP, internalPort: 9000, externalPort: 9000, readBack: {ok: true}, removed: true})
      expect(pr.mapping.lifetime, p).toBeGreaterThan(0)
    }
    expect(report.protocols.upnp.device.serviceType).toMatch(/WANIPConnection:[12]/)
    expect(report.protocols.upnp.device.server).toMatch(/MiniUPnPd\/2\./)
    expect(report.protocols.natpmp.epoch).toBeGreaterThanOrEqual(0)
    expect(report.verdict).toMatch(/^port mapping works: UPnP mapped udp\/9000 → 100\.128\.9\.1:9000/)
    expect(report.exitCode).toBe(0)
    // Removed means removed: the gateway holds no redirect any more.
    expect(await lab.redirects()).not.toMatch(/dport 9000/)
  }, 60_000)

  for (const protocol of ['upnp', 'natpmp', 'pcp'] as const) {
    it(`a --keep ${protocol} mapping lets a host outside reach a TCP service inside; without it the same connection fails`, async () => {
      const port = {upnp: 7101, natpmp: 7102, pcp: 7103}[protocol]
      expect(await lab.tcpReach(lab.ns.in, port, lab.ns.out, GW_WAN)).toMatch(/^ERR/)
      const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--protocols', protocol, '--port', String(port), '--protocol', 'tcp', '--lifetime', '60', '--keep', '--json'])
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout)
      expect(report.protocols[protocol].mapping).toMatchObject({externalPort: port, removed: 'kept'})
      expect(await lab.redirects()).toMatch(new RegExp(`dport ${port} dnat ip to ${IN_IP.replace(/\./g, '\\.')}:${port}`))
      expect(await lab.tcpReach(lab.ns.in, port, lab.ns.out, GW_WAN)).toBe('ok')
    }, 60_000)
  }

  it('--protocols natpmp sends nothing but NAT-PMP datagrams to the gateway: no SSDP, no PCP, no HTTP', async () => {
    const before = await lab.counters()
    const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--protocols', 'natpmp', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const after = await lab.counters()
    expect(after.natpmp - before.natpmp).toBeGreaterThanOrEqual(4) // external address, map, renewal, removal
    expect(after.ssdp - before.ssdp).toBe(0)
    expect(after.pcp - before.pcp).toBe(0)
    expect(after.http - before.http).toBe(0)
    // And the counters do count: a full run sends SSDP, PCP and HTTP too.
    await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--json'])
    const all = await lab.counters()
    expect(all.ssdp - after.ssdp).toBeGreaterThan(0)
    expect(all.pcp - after.pcp).toBeGreaterThan(0)
    expect(all.http - after.http).toBeGreaterThan(0)
  }, 60_000)

  it('the UPnP mapping we keep is what an independent client (miniupnpc upnpc -l) lists', async () => {
    if (!commandAvailable('upnpc')) throw new Error('miniupnpc (upnpc) is needed for this check: apt-get install miniupnpc')
    const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--protocols', 'upnp', '--port', '7201', '--protocol', 'udp', '--keep', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const {stdout} = await lab.sh(lab.ns.in, 'upnpc', '-l')
    expect(stdout).toMatch(/UDP\s+7201->10\.20\.0\.2:7201\s+'waku-disc nat portmap'/)
  }, 60_000)

  it('--check-enr: a record advertising the LAN address is wrong, one advertising the mapping is right', async () => {
    const privateKey = generatePrivateKey()
    const bad = encodeEnr({privateKey, seq: 1n, ip: IN_IP, udp: 9000}).text
    const good = encodeEnr({privateKey, seq: 2n, ip: GW_WAN, udp: 9000}).text
    const r1 = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--protocols', 'natpmp', '--check-enr', bad, '--json'])
    const c1 = JSON.parse(r1.stdout).enrCheck
    expect(c1.findings[0]).toMatchObject({level: 'error'})
    expect(c1.findings[0].message).toMatch(/10\.20\.0\.2.*not the gateway's external address 100\.128\.9\.1/)
    expect(c1.peersWillUse.discv5).toBe('10.20.0.2:9000/udp')
    const r2 = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--protocols', 'natpmp', '--check-enr', good])
    expect(r2.code, r2.stderr).toBe(0)
    expect(r2.stdout).toMatch(/the ENR matches the gateway/)
  }, 60_000)

  it('doctor --reachability: the record advertising the LAN address fails the step; the mapped address passes', async () => {
    const privateKey = generatePrivateKey()
    const step = async (ip: string) => {
      const enr = encodeEnr({privateKey, seq: BigInt(Date.now()), ip, udp: 9000}).text
      const r = await lab.runCliIn(lab.ns.in, ['doctor', enr, '--no-discv5', '--reachability', '--gateway', GW_LAN, '--json'])
      return {code: r.code, step: JSON.parse(r.stdout).steps.find((s: {step: string}) => s.step === 'reachability')}
    }
    const bad = await step(IN_IP)
    expect(bad.code).toBe(3)
    expect(bad.step.status).toBe('fail')
    expect(bad.step.summary).toMatch(/^port mapping available \(upnp, natpmp, pcp\) at 10\.20\.0\.1; the record's ip 10\.20\.0\.2/)
    const good = await step(GW_WAN)
    expect(good.step).toMatchObject({status: 'ok'})
    expect(good.step.summary).toMatch(/the record matches the gateway/)
    expect(good.code).toBe(0)
  }, 60_000)

  it('each protocol alone: the others are reported as absent with their reason', async () => {
    const only = async (config: {upnp: boolean; natpmp: boolean; pcp: boolean}) => {
      await lab.configure(config)
      const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--exchange-timeout', '800', '--json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout)
    }
    const u = await only({upnp: true, natpmp: false, pcp: false})
    expect(u.protocols.upnp.mapping.removed).toBe(true)
    expect(u.protocols.natpmp).toMatchObject({supported: false, error: {code: 'GATEWAY_PORT_CLOSED'}})
    expect(u.protocols.pcp).toMatchObject({supported: false, error: {code: 'GATEWAY_PORT_CLOSED'}})
    const n = await only({upnp: false, natpmp: true, pcp: false})
    expect(n.protocols.upnp).toMatchObject({supported: false, error: {code: 'UPNP_NOT_FOUND'}})
    expect(n.protocols.natpmp.mapping.removed).toBe(true)
    expect(n.protocols.pcp.error.code).toBe('GATEWAY_TIMEOUT')
    const p = await only({upnp: false, natpmp: false, pcp: true})
    expect(p.protocols.pcp.mapping.removed).toBe(true)
    expect(p.protocols.natpmp.error.code).toBe('GATEWAY_TIMEOUT')
  }, 90_000)

  it('all three off: a clear "no port mapping" verdict and exit 4', async () => {
    await lab.configure({upnp: false, natpmp: false, pcp: false})
    const r = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--gateway', GW_LAN, '--exchange-timeout', '800'])
    expect(r.code).toBe(4)
    expect(r.stdout).toMatch(/verdict no port mapping: UPnP no answer, NAT-PMP port closed, PCP port closed at 10\.20\.0\.1/)
    // Without --gateway the default route finds the same gateway.
    const r2 = await lab.runCliIn(lab.ns.in, ['nat', 'portmap', '--protocols', 'natpmp', '--json'])
    expect(r2.code).toBe(4)
    expect(JSON.parse(r2.stdout)).toMatchObject({gateway: GW_LAN, gatewaySource: 'default-route'})
  }, 60_000)
})
