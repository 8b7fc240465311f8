import {describe, expect, it} from 'vitest'

import {runCli} from './cli.js'
import {runInProcess} from './in-process.js'

const ENR = 'enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8'
// The spawned CLI names itself by its script path in usage hints; in process it is the bin name.
const normalise = (s: string) => s.replace(/bin\/dev\.js|waku-disc/g, 'BIN')

describe('runInProcess gives what a spawned CLI gives', () => {
  const cases: string[][] = [
    ['enr', 'decode', '--json', ENR],
    ['enr', 'decode', ENR],
    ['enr', 'decode', '--json', 'enr:zzz'],
    ['enr', 'decode', 'enr:zzz'],
    ['enr', 'decode', '--ndjson', '-'],
    ['enr', 'lint', '--json', ENR],
    ['enr', 'decode', '--bogus'],
    ['crawl', '--network', 'ethereum'],
  ]
  for (const args of cases) {
    it(args.join(' ').slice(0, 60), async () => {
      const inProcess = await runInProcess(args, {stdin: ENR + '\n'})
      const spawned = await runCli(args, {stdin: ENR + '\n'})
      expect(inProcess.code).toBe(spawned.code)
      expect(inProcess.stdout).toBe(spawned.stdout)
      expect(normalise(inProcess.stderr)).toBe(normalise(spawned.stderr))
    }, 30_000)
  }

  it('restores the environment, exit code and stdout, and runs overlapping calls one after the other', async () => {
    const before = {exitCode: process.exitCode, write: process.stdout.write, log: console.log, ci: process.env.CI}
    const [bad, good] = await Promise.all([runInProcess(['enr', 'decode', 'enr:zzz'], {env: {WAKU_DISC_TEST_MARK: '1'}}), runInProcess(['enr', 'decode', '--json', ENR])])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toMatch(/ENR_BASE64_TRAILING_BITS/)
    expect(good.code).toBe(0)
    expect(good.json[0].seq).toBe('1')
    await expect(runInProcess(['no-such-topic', 'verb'])).rejects.toThrow(/no command/)
    expect(process.exitCode).toBe(before.exitCode)
    expect(process.stdout.write).toBe(before.write)
    expect(console.log).toBe(before.log)
    expect(process.env.CI).toBe(before.ci)
    expect(process.env.WAKU_DISC_TEST_MARK).toBeUndefined()
  })
})
