// RFC 2136 publishing against servers that answer garbage: every malformed answer is a typed
// protocol error (exit 5), never an exception from the packet decoder. (The happy path runs against
// a real knotd in knot.test.ts.)
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {buildTreeDirectory, signTreeDirectory} from '../../../src/lib/dns/directory.js'
import {Rfc2136Target, parseTsigKey, publishTree, verifyTsigResponse} from '../../../src/lib/dns/publish/index.js'
import {loadVector} from '../../helpers/vectors.js'

const v = loadVector('dnsdisc-example-tree.json')
const key = parseTsigKey('hmac-sha256:update.:' + Buffer.alloc(32, 7).toString('base64'))
let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waku-disc-rfc2136-'))
  await writeFile(join(dir, 'enrs.txt'), v.want_nodes.join('\n') + '\n')
  await writeFile(join(dir, 'key.hex'), v.signing_key_hex, {mode: 0o600})
  await buildTreeDirectory(join(dir, 'enrs.txt'), {domain: 'nodes.example.org', out: join(dir, 'tree')})
  await signTreeDirectory(join(dir, 'tree'), {keyFile: join(dir, 'key.hex')})
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** A TCP "DNS server" that answers every framed query with `reply` (framed). */
async function garbageServer(reply: Buffer): Promise<{address: string; close: () => Promise<void>}> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy())
    socket.once('data', () => socket.end(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply])))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('rfc2136 against a server answering garbage', () => {
  it.each([
    ['three bytes', Buffer.from([1, 2, 3])],
    ['a header claiming answers that are not there', Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 5, 0, 0, 0, 0])],
    ['random bytes', Buffer.from(Array.from({length: 40}, (_, i) => (i * 37 + 11) & 0xff))],
  ])('%s: DNS_BAD_RESPONSE, exit 5', async (_what, reply) => {
    const server = await garbageServer(reply)
    try {
      await expect(publishTree(join(dir, 'tree'), new Rfc2136Target({server: server.address, key, timeoutMs: 2000}))).rejects.toMatchObject({exitCode: 5})
    } finally {
      await server.close()
    }
  })

  it('verifyTsigResponse on a malformed answer says "not verified" instead of throwing', () => {
    expect(verifyTsigResponse(Buffer.from([1, 2, 3]), key, Buffer.alloc(32))).toEqual({ok: false, error: -1})
    expect(verifyTsigResponse(Buffer.alloc(12), key, Buffer.alloc(32))).toEqual({ok: false, error: -1})
  })
})
