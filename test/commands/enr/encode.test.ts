// `waku-disc enr encode`: from a key file and flags, --from (seq bumped), keystore keys, refusal over 300 bytes.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseEnr, decodeEnr} from '../../../src/lib/enr/index.js'
import {writeHexKeyFile, writeKeystoreFile, keyIdentity, publicKeyOf} from '../../../src/lib/keys/index.js'
import {EIP778_KEY} from '../../fixtures/enr/build.js'
import {runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-enr-encode-'))
const keyFile = join(dir, 'node.key')
const keystore = join(dir, 'node.json')
beforeAll(async () => {
  await writeHexKeyFile(keyFile, EIP778_KEY)
  await writeKeystoreFile(keystore, EIP778_KEY, 'hunter2', {scryptN: 1024})
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('enr encode', () => {
  it('reproduces the EIP-778 example record byte for byte', async () => {
    const r = await runCli(['enr', 'encode', '--key-file', keyFile, '--ip', '127.0.0.1', '--udp', '30303', '--seq', '1', '--quiet'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8')
  })

  it('builds a Waku record from flags (--json returns the decoded record)', async () => {
    const r = await runInProcess([
      'enr', 'encode', '--json', '--key-file', keyFile, '--ip', '203.0.113.7', '--tcp', '30303', '--udp', '9000',
      '--waku2', 'relay,store', '--waku2', 'lightpush', '--multiaddr', '/dns4/node.example.org/tcp/8000/wss', '--cluster', '1', '--shards', '0,1', '--shards', '5',
    ])
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({ip: '203.0.113.7', tcp: 30303, udp: 9000, waku: {waku2: {capabilities: ['relay', 'store', 'lightpush']}, multiaddrs: ['/dns4/node.example.org/tcp/8000/wss'], cluster: 1, shards: [0, 1, 5], shardSource: 'rs'}})
    const d = decodeEnr(parseEnr(r.json.enr))
    expect(d.nodeId).toBe(keyIdentity(publicKeyOf(EIP778_KEY)).nodeId)
  })

  it('--from keeps the other keys and bumps seq; a keystore key works with WAKU_DISC_KEY_PASSWORD', async () => {
    const first = await runInProcess(['enr', 'encode', '--quiet', '--key-file', keyFile, '--ip', '203.0.113.7', '--udp', '9000', '--waku2', 'relay', '--seq', '7'])
    const text = first.stdout.trim()
    const file = join(dir, 'from.txt')
    writeFileSync(file, `${text}\n`)
    const r = await runInProcess(['enr', 'encode', '--json', '--key-file', keystore, '--from', file, '--tcp', '30303'], {env: {WAKU_DISC_KEY_PASSWORD: 'hunter2'}})
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({seq: '8', ip: '203.0.113.7', udp: 9000, tcp: 30303, waku: {waku2: {capabilities: ['relay']}}})
  })

  it('refuses a record over 300 bytes, naming what to drop (exit 2)', async () => {
    const r = await runInProcess([
      'enr', 'encode', '--key-file', keyFile, '--ip', '203.0.113.7', '--tcp', '30303', '--udp', '9000', '--waku2', 'relay',
      '--multiaddr', '/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/8000/wss',
      '--multiaddr', '/dns6/node-01.ac-cn-hongkong-c.waku.sandbox.status.im/tcp/443/wss',
      '--multiaddr', '/dns4/node-01.gc-us-central1-a.waku.sandbox.status.im/tcp/30303',
      '--cluster', '1', '--shards', '0,1,2,3,4,5,6,7',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^Error \[SIZE_OVER_LIMIT\]: record would be \d+ bytes, \d+ over the 300-byte limit; drop the multiaddr \/dns/m)
  })

  it('configuration problems exit 6; bad flag values exit 2', async () => {
    const [missing, noPassword, badCap, badIp] = await Promise.all([
      runInProcess(['enr', 'encode', '--key-file', join(dir, 'nope'), '--udp', '9000']),
      runInProcess(['enr', 'encode', '--key-file', keystore, '--udp', '9000'], {env: {WAKU_DISC_KEY_PASSWORD: undefined}}),
      runInProcess(['enr', 'encode', '--key-file', keyFile, '--waku2', 'relay,teleport']),
      runInProcess(['enr', 'encode', '--key-file', keyFile, '--ip', '300.1.1.1']),
    ])
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain('KEY_FILE_UNREADABLE')
    expect(noPassword.code).toBe(6)
    expect(noPassword.stderr).toContain('KEY_PASSWORD_MISSING')
    expect(badCap.code).toBe(2)
    expect(badCap.stderr).toContain('WAKU2_UNKNOWN_CAPABILITY')
    expect(badIp.code).toBe(2)
  })
})
