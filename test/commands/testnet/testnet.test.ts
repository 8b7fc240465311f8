import {describe, expect, it} from 'vitest'

import {runCrawl} from '../../../src/lib/discv5/index.js'
import {runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

describe('waku-disc testnet', () => {
  it('--json prints the description once ready, serves crawls, and stops on SIGINT', async () => {
    let crawled: Awaited<ReturnType<typeof runCrawl>> | undefined
    let description: any
    const r = await runCli(['testnet', '--nodes', '40', '--dead', '0.1', '--json', '--seed', '9'], {
      timeoutMs: 90_000,
      onSpawn: (child) => {
        let buffer = ''
        child.stdout!.on('data', (d: Buffer) => {
          buffer += d.toString()
          if (description) return
          try {
            description = JSON.parse(buffer)
          } catch {
            return
          }
          void runCrawl({bootnodes: [description.bootnode], strategy: 'census'}).then(
            (result) => {
              crawled = result
              child.kill('SIGINT')
            },
            () => child.kill('SIGINT'),
          )
        })
      },
    })
    expect(r.code, r.stderr).toBe(130)
    expect(description.counts).toMatchObject({nodes: 40, dead: 4, live: 36})
    expect(description.nodes).toHaveLength(40)
    expect(description.bootnode).toMatch(/^enr:/)
    // The description is printed once, not again at exit.
    expect(r.stdout.trim()).toBe(JSON.stringify(description, null, 2))
    expect(crawled?.counts.responsive).toBe(36)
  }, 120_000)

  it('prints the bootnode for humans and rejects bad options', async () => {
    const human = await runCli(['testnet', '--nodes', '5'], {
      timeoutMs: 30_000,
      onSpawn: (child) => child.stdout!.once('data', () => setTimeout(() => child.kill('SIGINT'), 200)),
    })
    expect(human.code).toBe(130)
    expect(human.stdout).toMatch(/bootnode enr:/)
    const bad = await runInProcess(['testnet', '--nodes', '5', '--dead', 'lots'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--dead must be a number/)
    const remote = await runInProcess(['testnet', '--nodes', '5', '--host', '10.0.0.1'])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toMatch(/not a loopback address/)
  }, 60_000)
})
