import {execFile} from 'node:child_process'
import dgram from 'node:dgram'
import {promisify} from 'node:util'
import {afterEach, describe, expect, it} from 'vitest'

import {ProtocolError} from '../../../src/lib/errors.js'
import {discoverNatBehavior} from '../../../src/lib/stun/behavior.js'
import {StunClient} from '../../../src/lib/stun/client.js'
import {
  CHANGE_IP,
  CHANGE_PORT,
  decodeStunMessage,
  encodeAddress,
  encodeStunMessage,
  StunAttr,
  xorKey,
  type TransportAddress,
} from '../../../src/lib/stun/message.js'
import {startStunServer, type StunServer} from '../../../src/lib/stun/server.js'
import {commandAvailable} from '../../helpers/natlab.js'

const exec = promisify(execFile)
const servers: StunServer[] = []
const clients: StunClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers.splice(0)) await s.close()
})

const parse = (s: string): TransportAddress => {
  const i = s.lastIndexOf(':')
  return {family: 4, address: s.slice(0, i), port: Number(s.slice(i + 1))}
}
const fast = {retransmitMs: [200], lastWaitMs: 500}

async function rfc5780Server(): Promise<StunServer> {
  const s = await startStunServer({listen: {host: '127.0.0.1', port: 0}, alt: {host: '127.0.0.2', port: 0}})
  servers.push(s)
  return s
}

function client(): StunClient {
  const c = new StunClient({family: 4})
  clients.push(c)
  return c
}

describe('stun server + client on loopback', () => {
  it('binds the RFC 5780 square and answers with XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS', async () => {
    const s = await rfc5780Server()
    expect(s.info.sockets).toHaveLength(4)
    const c = client()
    const local = await c.bind()
    const r = await c.binding(parse(s.info.primary), fast)
    expect(r).not.toBeNull()
    expect(r!.mappedAddress).toEqual({family: 4, address: '127.0.0.1', port: local.port})
    expect(r!.responseOrigin).toEqual(parse(s.info.primary))
    expect(r!.otherAddress).toEqual(parse(s.info.alternate!))
    expect(s.stats.responses).toBe(1)
  })

  it('answers CHANGE-REQUEST from the other IP and/or port', async () => {
    const s = await rfc5780Server()
    const [p1, p2] = [parse(s.info.primary).port, parse(s.info.alternate!).port]
    const c = client()
    const both = await c.binding(parse(s.info.primary), {...fast, change: CHANGE_IP | CHANGE_PORT})
    expect(both!.from).toEqual({family: 4, address: '127.0.0.2', port: p2})
    expect(both!.responseOrigin).toEqual(both!.from)
    const port = await c.binding(parse(s.info.primary), {...fast, change: CHANGE_PORT})
    expect(port!.from).toEqual({family: 4, address: '127.0.0.1', port: p2})
    const ip = await c.binding(parse(s.info.primary), {...fast, change: CHANGE_IP})
    expect(ip!.from).toEqual({family: 4, address: '127.0.0.2', port: p1})
  })

  it('RFC 5780 discovery against it on loopback: no NAT, endpoint-independent filtering', async () => {
    const s = await rfc5780Server()
    const report = await discoverNatBehavior(parse(s.info.primary), {...fast, filterRetransmitMs: [200], filterLastWaitMs: 500})
    expect(report.rfc5780).toBe(true)
    expect(report.mapping).toBe('no-nat')
    expect(report.filtering).toBe('endpoint-independent')
  })

  it('without --alt, CHANGE-REQUEST gets error 420 (a typed error for the client) and no RFC 5780 attributes', async () => {
    const s = await startStunServer({listen: {host: '127.0.0.1', port: 0}})
    servers.push(s)
    const c = client()
    const plain = await c.binding(parse(s.info.primary), fast)
    expect(plain!.otherAddress).toBeUndefined()
    await expect(c.binding(parse(s.info.primary), {...fast, change: CHANGE_IP})).rejects.toThrow(/error 420/)
    expect(s.stats.errorResponses).toBe(1)
  })

  it('serves IPv6 (::1) too', async () => {
    const s = await startStunServer({listen: {host: '::1', port: 0}})
    servers.push(s)
    const c = new StunClient({family: 6})
    clients.push(c)
    const port = Number(s.info.primary.split(']:')[1])
    const r = await c.binding({family: 6, address: '::1', port}, fast)
    expect(r!.mappedAddress!.address).toBe('::1')
    expect(s.info.primary).toMatch(/^\[::1\]:\d+$/)
  })

  it('drops garbage and non-requests without answering, and keeps serving', async () => {
    const s = await rfc5780Server()
    const sock = dgram.createSocket('udp4')
    const got: Buffer[] = []
    sock.on('message', (m) => got.push(m))
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    const p = parse(s.info.primary)
    const send = (b: Uint8Array) => new Promise<void>((r) => sock.send(b, p.port, p.address, () => r()))
    await send(Buffer.from('hello, not stun'))
    await send(new Uint8Array(20))
    await send(encodeStunMessage({method: 1, cls: 'success', transactionId: new Uint8Array(12), rfc5389: true, attributes: []}))
    await send(Uint8Array.from([0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42, ...new Uint8Array(12), 0, 3, 0, 2, 0, 0, 0, 0]))
    await new Promise((r) => setTimeout(r, 200))
    sock.close()
    expect(got).toHaveLength(0)
    expect(s.stats.dropped).toBe(4)
    const r = await client().binding(p, fast)
    expect(r).not.toBeNull()
  })

  it('answers RFC 3489 (no magic cookie) requests with MAPPED-, SOURCE- and CHANGED-ADDRESS', async () => {
    const s = await rfc5780Server()
    const sock = dgram.createSocket('udp4')
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    const id = Uint8Array.from({length: 16}, (_, i) => 100 + i)
    const p = parse(s.info.primary)
    const answer = new Promise<Buffer>((r) => sock.once('message', (m) => r(m)))
    sock.send(encodeStunMessage({method: 1, cls: 'request', transactionId: id, rfc5389: false, attributes: []}), p.port, p.address)
    const msg = decodeStunMessage(await answer)
    sock.close()
    expect(msg.rfc5389).toBe(false)
    expect(msg.attributes.map((a) => a.type)).toEqual([StunAttr.MAPPED_ADDRESS, StunAttr.SOURCE_ADDRESS, StunAttr.CHANGED_ADDRESS])
  })

  it.skipIf(!commandAvailable('stun'))('Debian `stun` (RFC 3489 client) classifies it as open internet', async () => {
    const s = await rfc5780Server()
    const {stdout} = await exec('sh', ['-c', `stun ${s.info.primary} 2>&1; true`], {timeout: 20_000})
    expect(stdout).toMatch(/Primary: Open/)
  })

  it.skipIf(!commandAvailable('turnutils_stunclient'))('coturn turnutils_stunclient reads RESPONSE-ORIGIN, OTHER-ADDRESS and the reflexive address', async () => {
    const s = await rfc5780Server()
    const p = parse(s.info.primary)
    const {stdout} = await exec('sh', ['-c', `turnutils_stunclient -p ${p.port} ${p.address} 2>&1; echo "exit=$?"`], {timeout: 10_000})
    expect(stdout, stdout).toContain(`Response origin: : ${s.info.primary}`)
    expect(stdout).toContain(`Other addr: : ${s.info.alternate}`)
    expect(stdout).toMatch(/UDP reflexive addr: 127\.0\.0\.1:\d+/)
    expect(stdout, stdout).toContain('RFC 5780 response 2')
  })
})

describe('stun client against a hostile server', () => {
  /** A UDP "server" that answers every request with whatever `answer` builds. */
  async function hostile(answer: (req: ReturnType<typeof decodeStunMessage>) => Uint8Array): Promise<{addr: TransportAddress; close: () => void}> {
    const sock = dgram.createSocket('udp4')
    sock.on('message', (m, rinfo) => {
      try {
        sock.send(answer(decodeStunMessage(m)), rinfo.port, rinfo.address)
      } catch {
        /* ignore */
      }
    })
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    return {addr: {family: 4, address: '127.0.0.1', port: sock.address().port}, close: () => sock.close()}
  }
  const response = (req: ReturnType<typeof decodeStunMessage>, attributes: {type: number; value: Uint8Array}[], cls: 'success' | 'error' = 'success') =>
    encodeStunMessage({method: 1, cls, transactionId: req.transactionId, rfc5389: true, attributes})

  const cases: [string, (req: ReturnType<typeof decodeStunMessage>) => Uint8Array, RegExp][] = [
    ['bad address family', (q) => response(q, [{type: StunAttr.XOR_MAPPED_ADDRESS, value: Uint8Array.from([0, 9, 0, 1, 1, 2, 3, 4])}]), /unknown address family 0x09/],
    ['short XOR-MAPPED-ADDRESS', (q) => response(q, [{type: StunAttr.XOR_MAPPED_ADDRESS, value: Uint8Array.from([0, 1, 0, 1, 1, 2])}]), /6 bytes, expected 8 for IPv4/],
    ['IPv6 family with IPv4 length', (q) => response(q, [{type: StunAttr.OTHER_ADDRESS, value: Uint8Array.from([0, 2, 0, 1, 1, 2, 3, 4])}]), /OTHER-ADDRESS is 8 bytes, expected 20/],
    ['no mapping at all', (q) => response(q, []), /without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS/],
    ['error response', (q) => response(q, [{type: StunAttr.ERROR_CODE, value: Uint8Array.from([0, 0, 5, 0, 0x6f, 0x6f, 0x70, 0x73])}], 'error'), /error 500 oops/],
    [
      'length field lying',
      (q) => {
        const b = response(q, [{type: StunAttr.XOR_MAPPED_ADDRESS, value: encodeAddress({family: 4, address: '1.2.3.4', port: 5}, xorKey(q.transactionId))}])
        b[3] = 200
        return b
      },
      /header says 200 body bytes/,
    ],
  ]
  for (const [name, build, pattern] of cases) {
    it(`${name} → ProtocolError, no crash`, async () => {
      const h = await hostile(build)
      try {
        const err = await client()
          .binding(h.addr, fast)
          .catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ProtocolError)
        expect((err as Error).message).toMatch(pattern)
      } finally {
        h.close()
      }
    })
  }

  it('a silent server gives null (timeout), not an error', async () => {
    const sock = dgram.createSocket('udp4')
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
    try {
      expect(await client().binding({family: 4, address: '127.0.0.1', port: sock.address().port}, {retransmitMs: [100], lastWaitMs: 200})).toBeNull()
    } finally {
      sock.close()
    }
  })
})
