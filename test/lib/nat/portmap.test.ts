/**
 * `portmap()` against gateways on loopback that answer wrongly on purpose (garbage, wrong
 * nonces, SOAP faults, DOCTYPEs, huge bodies), plus the pure parts: SSDP answers, the route
 * table, the ENR check. The real gateway (miniupnpd) is in test/commands/nat/portmap.test.ts.
 */
import dgram from 'node:dgram'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import fc from 'fast-check'
import {afterEach, describe, expect, it} from 'vitest'

import {encodeEnr} from '../../../src/lib/enr/index.js'
import {ProtocolError} from '../../../src/lib/errors.js'
import {checkEnrAgainst, defaultGatewayFromRouteTable, parseSsdpAnswer, portmap, type PortMapReport} from '../../../src/lib/nat/index.js'
import {generatePrivateKey} from '../../../src/lib/keys/index.js'

const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

/** A UDP server on 127.0.0.1 that answers each datagram with `reply(request)` (undefined = silence). */
async function udpGateway(reply: (req: Buffer) => Uint8Array | undefined): Promise<{port: number; requests: Buffer[]}> {
  const socket = dgram.createSocket('udp4')
  const requests: Buffer[] = []
  socket.on('message', (msg, rinfo) => {
    requests.push(msg)
    const out = reply(msg)
    if (out) socket.send(out, rinfo.port, rinfo.address)
  })
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()))
  closers.push(() => new Promise<void>((r) => socket.close(() => r())))
  return {port: (socket.address() as AddressInfo).port, requests}
}

async function httpGateway(handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => handler(req, body, res))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  closers.push(() => new Promise<void>((r) => server.close(() => r())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const description = (controlURL = '/ctl/IPConn', serviceType = 'urn:schemas-upnp-org:service:WANIPConnection:1') => `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><device><friendlyName>lab gw</friendlyName><deviceList><device><deviceList><device>
<serviceList><service><serviceType>${serviceType}</serviceType><controlURL>${controlURL}</controlURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>`

const soap = (inner: string) => `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${inner}</s:Body></s:Envelope>`
const fault = (code: number, text: string) => soap(`<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${text}</errorDescription></UPnPError></detail></s:Fault>`)

const fast = {gateway: '127.0.0.1', timeoutMs: 400}

describe('nat portmap against hostile gateways on loopback', () => {
  it('NAT-PMP garbage, a NAT-PMP refusal and a PCP answer with the wrong nonce each give a typed error, and the run still reports every protocol', async () => {
    const gw = await udpGateway((req) => {
      if (req[0] === 0 && req[1] === 0) return Uint8Array.from([0, 128, 0, 0, 0, 0, 0, 7, 100, 128, 9, 1]) // external address: fine
      if (req[0] === 0) return Uint8Array.from([0, 129, 0, 2, 0, 0, 0, 7]) // mapping: NOT_AUTHORIZED, short form
      const bad = Buffer.alloc(60)
      bad[0] = 2
      bad[1] = 0x81
      bad.fill(0xee, 24, 36) // a nonce that is not ours: a stray, ignored
      return bad
    })
    const r = await portmap({...fast, natPmpPort: gw.port, protocols: ['natpmp', 'pcp']})
    expect(r.protocols.upnp).toEqual({protocol: 'upnp', tried: false, supported: null, ms: 0})
    expect(r.protocols.natpmp).toMatchObject({supported: true, externalAddress: '100.128.9.1', epoch: 7, error: {code: 'NATPMP_RESULT', resultCode: 2, resultName: 'NOT_AUTHORIZED'}})
    expect(r.protocols.pcp).toMatchObject({supported: false, error: {code: 'GATEWAY_TIMEOUT'}})
    expect(r.exitCode).toBe(3)
    expect(r.verdict).toMatch(/answered but mapped nothing.*NOT_AUTHORIZED/)
    // The PCP client retransmitted (RFC 6886 schedule) and never took the stray as its answer.
    expect(gw.requests.filter((q) => q[0] === 2).length).toBeGreaterThan(1)
  })

  it('a NAT-PMP answer of random bytes is a NATPMP_MALFORMED error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({minLength: 1, maxLength: 40}), async (junk) => {
        junk[0] = 0 // keep it NAT-PMP-shaped so the decoder, not the version check, sees it
        const gw = await udpGateway(() => junk)
        const r = await portmap({...fast, natPmpPort: gw.port, protocols: ['natpmp']})
        const e = r.protocols.natpmp.error
        if (e) expect(['NATPMP_MALFORMED', 'NATPMP_RESULT']).toContain(e.code)
        expect([0, 3, 4]).toContain(r.exitCode)
      }),
      {numRuns: 25},
    )
  })

  it('nothing listening on the NAT-PMP port (ICMP port unreachable) is "no gateway answered": exit 4', async () => {
    const gw = await udpGateway(() => undefined)
    const port = gw.port
    await closers.pop()!() // closed: the kernel answers ICMP port unreachable
    const r = await portmap({...fast, natPmpPort: port, protocols: ['natpmp', 'pcp']})
    expect(r.protocols.natpmp.error?.code).toBe('GATEWAY_PORT_CLOSED')
    expect(r.protocols.pcp.error?.code).toBe('GATEWAY_PORT_CLOSED')
    expect(r.exitCode).toBe(4)
    expect(r.verdict).toMatch(/^no port mapping: NAT-PMP port closed, PCP port closed at 127\.0\.0\.1/)
  })

  it('UPnP: a SOAP fault 718 is named ConflictInMappingEntry; the device still counts as UPnP', async () => {
    const calls: string[] = []
    const base = await httpGateway((req, body, res) => {
      if (req.method === 'GET') return void res.writeHead(200, {'content-type': 'text/xml'}).end(description())
      const action = /#(\w+)"/.exec(String(req.headers['soapaction']))?.[1] ?? '?'
      calls.push(action)
      expect(body).toContain(`<u:${action} xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">`)
      if (action === 'GetExternalIPAddress') return void res.writeHead(200, {'content-type': 'text/xml'}).end(soap('<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>100.128.9.1</NewExternalIPAddress></u:GetExternalIPAddressResponse>'))
      res.writeHead(500, {'content-type': 'text/xml'}).end(fault(718, 'ConflictInMappingEntry'))
    })
    const r = await portmap({...fast, protocols: ['upnp'], upnpLocation: `${base}/rootDesc.xml`})
    expect(calls).toEqual(['GetExternalIPAddress', 'AddPortMapping'])
    expect(r.protocols.upnp).toMatchObject({supported: true, externalAddress: '100.128.9.1', device: {friendlyName: 'lab gw', serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1', controlUrl: `${base}/ctl/IPConn`}})
    expect(r.protocols.upnp.error).toMatchObject({code: 'UPNP_SOAP_FAULT', resultCode: 718, resultName: 'ConflictInMappingEntry'})
    expect(r.exitCode).toBe(3)
  })

  it('UPnP: a permanent-leases-only gateway (725) gets a lease-0 mapping, read back and deleted', async () => {
    const calls: string[] = []
    const base = await httpGateway((req, body, res) => {
      if (req.method === 'GET') return void res.writeHead(200, {'content-type': 'text/xml'}).end(description())
      const action = /#(\w+)"/.exec(String(req.headers['soapaction']))?.[1] ?? '?'
      calls.push(action)
      const ok = (inner: string) => res.writeHead(200, {'content-type': 'text/xml'}).end(soap(`<u:${action}Response xmlns:u="x">${inner}</u:${action}Response>`))
      if (action === 'GetExternalIPAddress') return void ok('<NewExternalIPAddress>100.128.9.1</NewExternalIPAddress>')
      if (action === 'AddPortMapping' && !body.includes('<NewLeaseDuration>0<')) return void res.writeHead(500, {'content-type': 'text/xml'}).end(fault(725, 'OnlyPermanentLeasesSupported'))
      if (action === 'GetSpecificPortMappingEntry') return void ok('<NewInternalPort>9000</NewInternalPort><NewInternalClient>127.0.0.1</NewInternalClient><NewEnabled>1</NewEnabled><NewLeaseDuration>0</NewLeaseDuration>')
      ok('')
    })
    const r = await portmap({...fast, protocols: ['upnp'], upnpLocation: `${base}/rootDesc.xml`})
    expect(calls).toEqual(['GetExternalIPAddress', 'AddPortMapping', 'AddPortMapping', 'GetSpecificPortMappingEntry', 'DeletePortMapping'])
    expect(r.protocols.upnp.mapping).toMatchObject({lifetime: 0, requestedLifetime: 120, externalPort: 9000, internalAddress: '127.0.0.1', readBack: {ok: true}, removed: true})
    expect(r.protocols.upnp.versionNote).toMatch(/permanent leases/)
    expect(r.exitCode).toBe(0)
  })

  it('UPnP: a DOCTYPE, a body over 256 KiB, a controlURL on another host and a description without a WAN service are each refused by name', async () => {
    const cases: Array<[string, string]> = [
      ['<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><root>&a;</root>', 'UPNP_BAD_XML'],
      [`<root>${'x'.repeat(300 * 1024)}</root>`, 'UPNP_TOO_LARGE'],
      [description('http://192.0.2.1/ctl'), 'UPNP_BAD_DESCRIPTION'],
      [description('/ctl', 'urn:schemas-upnp-org:service:Layer3Forwarding:1'), 'UPNP_NO_WAN_SERVICE'],
      ['<root><device>', 'UPNP_BAD_XML'],
    ]
    for (const [doc, code] of cases) {
      const base = await httpGateway((_req, _body, res) => res.writeHead(200, {'content-type': 'text/xml'}).end(doc))
      const r = await portmap({...fast, protocols: ['upnp'], upnpLocation: `${base}/d.xml`})
      expect(r.protocols.upnp.error?.code, doc.slice(0, 40)).toBe(code)
      expect(r.exitCode).toBe(3)
    }
  })
})

describe('SSDP answers, the route table and the ENR check', () => {
  const answer = (location: string) => new TextEncoder().encode(`HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location}\r\nSERVER: lab\r\n\r\n`)

  it('an M-SEARCH answer is parsed; a LOCATION on another host than the sender is refused', () => {
    expect(parseSsdpAnswer(answer('http://10.20.0.1:5000/rootDesc.xml'), '10.20.0.1')).toMatchObject({location: 'http://10.20.0.1:5000/rootDesc.xml', server: 'lab', searchTarget: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'})
    expect(() => parseSsdpAnswer(answer('http://192.0.2.7/x.xml'), '10.20.0.1')).toThrow(expect.objectContaining({code: 'SSDP_LOCATION_MISMATCH'}))
    expect(() => parseSsdpAnswer(answer('file:///etc/passwd'), '10.20.0.1')).toThrow(/not http/)
    expect(() => parseSsdpAnswer(new TextEncoder().encode('NOTIFY * HTTP/1.1\r\n\r\n'), '10.20.0.1')).toThrow(/status line/)
  })

  it('random datagrams never throw anything but a typed ProtocolError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({maxLength: 2000}), fc.string({maxLength: 600}).map((s) => new TextEncoder().encode(`HTTP/1.1 200 OK\r\n${s}`))), (bytes) => {
        try {
          parseSsdpAnswer(bytes, '10.20.0.1')
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      {numRuns: 300},
    )
  })

  it('the default gateway comes from /proc/net/route (little-endian hex, RTF_GATEWAY)', () => {
    const table = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t0000140A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\neth0\t00000000\t0100140A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'
    expect(defaultGatewayFromRouteTable(table)).toBe('10.20.0.1')
    expect(defaultGatewayFromRouteTable(table.split('\n').slice(0, 2).join('\n'))).toBeUndefined()
    expect(defaultGatewayFromRouteTable('garbage\n\x00\x01')).toBeUndefined()
  })

  it('the ENR check says which address and port peers will dial and whether the mapping serves them', async () => {
    const privateKey = generatePrivateKey()
    const enr = encodeEnr({privateKey, seq: 1n, ip: '10.20.0.2', udp: 9001, tcp: 60000}).toString()
    const report = {
      request: {protocol: 'udp' as const, port: 9000, lifetime: 120, keep: false},
      protocols: {
        upnp: {protocol: 'upnp' as const, tried: true, supported: true, externalAddress: '100.128.9.1', mapping: {protocol: 'udp' as const, internalAddress: '10.20.0.2', internalPort: 9000, externalPort: 9000, requestedExternalPort: 9000, lifetime: 120, requestedLifetime: 120, removed: true}, ms: 1},
        natpmp: {protocol: 'natpmp' as const, tried: false, supported: null, ms: 0},
        pcp: {protocol: 'pcp' as const, tried: false, supported: null, ms: 0},
      },
    } satisfies Pick<PortMapReport, 'protocols' | 'request'>
    const check = checkEnrAgainst(enr, report)
    expect(check.peersWillUse).toEqual({discv5: '10.20.0.2:9001/udp', libp2p: '10.20.0.2:60000/tcp'})
    expect(check.findings.map((f) => f.level)).toEqual(['error', 'error'])
    expect(check.findings[0]!.message).toMatch(/10\.20\.0\.2 \(private\).*not the gateway's external address 100\.128\.9\.1/)
    expect(check.findings[1]!.message).toMatch(/udp 9001 is not the mapped external port 9000/)
    const good = encodeEnr({privateKey, seq: 2n, ip: '100.128.9.1', udp: 9000}).toString()
    expect(checkEnrAgainst(good, report).findings.map((f) => f.level)).toEqual(['ok', 'ok'])
  })

  it('bad options fail before any datagram: unknown protocol, IPv6 gateway, bad ENR', async () => {
    await expect(portmap({gateway: '127.0.0.1', protocols: ['upnp', 'smtp' as never]})).rejects.toMatchObject({code: 'BAD_PROTOCOLS', exitCode: 2})
    await expect(portmap({gateway: '::1'})).rejects.toMatchObject({code: 'BAD_GATEWAY'})
    await expect(portmap({gateway: '127.0.0.1', checkEnr: 'enr:-garbage'})).rejects.toMatchObject({exitCode: 2})
  })
})
