import {generateKeyPair} from '@libp2p/crypto/keys'
import {describe, expect, it} from 'vitest'

import {registerRendezvous} from '../../../src/lib/rendezvous/index.js'
import {firstLine, parseNdjson, runCli, startCli, type CliResult} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

describe('waku-disc rendezvous serve | discover', () => {
  it('a point started from the CLI takes registrations; discover lists them; the point reports what it handled', async () => {
    let done!: CliResult
    const point = startCli(['rendezvous', 'serve', '--ndjson'], firstLine)
    try {
      const listening = await point.ready
      expect(listening.type).toBe('listening')
      const target = listening.addresses[0] as string
      for (let i = 0; i < 2; i++) {
        const key = await generateKeyPair('secp256k1')
        const r = await registerRendezvous(target, {namespace: 'rs/1/mix', privateKey: key, addresses: [`/ip4/127.0.0.1/tcp/${61000 + i}`], ttlSeconds: 120})
        expect(r.statusName).toBe('OK')
      }
      const found = await runCli(['rendezvous', 'discover', target, '--namespace', 'rs/1/mix', '--namespace', 'rs/1/0', '--limit', '1', '--json'], {timeoutMs: 60_000})
      expect(found.code, found.stderr).toBe(0)
      expect(found.json.peers).toBe(2)
      const mix = found.json.namespaces.find((n: any) => n.namespace === 'rs/1/mix')
      expect(mix.registrations).toHaveLength(2)
      expect(mix.pages).toBeGreaterThanOrEqual(2)
      expect(mix.registrations[0].addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/6100[01]$/)
      const lines = await runInProcess(['rendezvous', 'discover', target, '--namespace', 'rs/1/mix', '--ndjson'], {timeoutMs: 60_000})
      const parsed = parseNdjson(lines.stdout)
      expect(parsed.filter((l) => l.type === 'registration' && l.ok)).toHaveLength(2)
      expect(parsed.at(-1).type).toBe('summary')
      const human = await runInProcess(['rendezvous', 'discover', target, '--namespace', 'rs/1/mix'], {timeoutMs: 60_000})
      expect(human.stdout).toMatch(/rs\/1\/mix\s+0 OK\s+2 valid, 0 invalid/)
      const empty = await runInProcess(['rendezvous', 'discover', target, '--namespace', 'rs/7/mix', '--json'], {timeoutMs: 60_000})
      expect(empty.code).toBe(3)
      const bad = await runInProcess(['rendezvous', 'discover', target, '--namespace', ''])
      expect(bad.code).toBe(2)
    } finally {
      done = await point.stop()
    }
    expect(done.code).toBe(130)
    const summary = parseNdjson(done.stdout).at(-1)
    expect(summary).toMatchObject({type: 'summary', registered: 2})
    expect(summary.requests).toBeGreaterThanOrEqual(6)
  }, 180_000)

  it('exits 4 when nothing listens at the target', async () => {
    const r = await runInProcess(['rendezvous', 'discover', '/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmQ9X2xDfPG3uL77V9piYDhjq14JhKCtcmNYsTMKNqrKCj', '--timeout', '10'], {timeoutMs: 60_000})
    expect(r.code, r.stderr).toBe(4)
  }, 60_000)
})
