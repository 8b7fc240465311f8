import {createSocket} from 'node:dgram'

import dnsPacket from 'dns-packet'
import {describe, expect, it} from 'vitest'

import {startDnsServer, zoneFromTxt} from '../../../src/lib/dns/server.js'

describe('DNS server with delayed answers', () => {
  it('closing with answers still pending drops them instead of throwing from the timer', async () => {
    const server = await startDnsServer([zoneFromTxt('nodes.example.org', {'nodes.example.org': 'enrtree-root:v1 e=A l=B seq=1 sig=x'})], {listen: '127.0.0.1:0', delayMs: 150})
    const client = createSocket('udp4')
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()))
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => uncaught.push(err)
    process.on('uncaughtException', onUncaught)
    try {
      const query = dnsPacket.encode({type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{type: 'TXT', name: 'nodes.example.org'}]})
      const answered = new Promise<boolean>((resolve) => {
        client.once('message', () => resolve(true))
        setTimeout(() => resolve(false), 400)
      })
      await new Promise<void>((resolve) => client.send(query, server.port, '127.0.0.1', () => resolve()))
      // The query is in; its answer waits 150 ms. Close before it is sent.
      await new Promise((resolve) => setTimeout(resolve, 30))
      expect(server.stats.udp).toBe(1)
      await server.close()
      expect(await answered).toBe(false)
      expect(uncaught).toEqual([])
    } finally {
      process.off('uncaughtException', onUncaught)
      client.close()
    }
  })
})
