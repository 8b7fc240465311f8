// `waku-disc enr decode`: human card, --json array, --ndjson, stdin and files, exit codes 0/2/3.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {buildRecord, bytes, toText, u16} from '../../fixtures/enr/build.js'
import {ndjsonOf, parseNdjson, runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

const EIP778 = 'enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8'
const NWAKU = 'enr:-QEMuEAs8JmmyUI3b9v_ADqYtELHUYAsAMS21lA2BMtrzF86tVmyy9cCrhmzfHGHx_g3nybn7jIRybzXTGNj3C2KzrriAYJpZIJ2NIJpcISf3_Jeim11bHRpYWRkcnO4XAArNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQZ2XwAtNiZzdG9yZS0wMS5kby1hbXMzLnN0YXR1cy5wcm9kLnN0YXR1cy5pbQYBu94DgnJzjQAQBQABACAAQACAAQCJc2VjcDI1NmsxoQLfoaQH3oSYW59yxEBfeAZbltmUnC4BzYkHqer2VQMTyoN0Y3CCdl-DdWRwgiMohXdha3UyAw'
const BAD_SIG = toText(buildRecord([['ip', bytes(1, 2, 3, 4)], ['udp', u16(9000)]], undefined, {signature: new Uint8Array(64).fill(1)}))
const dir = mkdtempSync(join(tmpdir(), 'waku-disc-enr-decode-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('enr decode', () => {
  it('prints a readable card and exits 0', async () => {
    const r = await runCli(['enr', 'decode', NWAKU])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('9278ceb60c8a0962b6494042b05ebc57a12ec716f6fdcb0f4963f138a1f06aa3')
    expect(r.stdout).toContain('16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT')
    expect(r.stdout).toMatch(/waku2\s+relay, store/)
    expect(r.stdout).toContain('/dns4/store-01.do-ams3.status.prod.status.im/tcp/443/wss')
    expect(r.stdout).toMatch(/shards\s+cluster 16: 1, 32, 64, 128, 256/)
    expect(r.stdout).toContain('/waku/2/rs/16/256')
    expect(r.stdout).toContain('signature ok')
    expect(r.stdout).not.toMatch(/\u001b\[/) // NO_COLOR
  })

  it('--json prints an array of decoded records', async () => {
    const r = await runInProcess(['enr', 'decode', '--json', EIP778, NWAKU])
    expect(r.code).toBe(0)
    expect(r.json).toHaveLength(2)
    expect(r.json[0]).toMatchObject({seq: '1', nodeId: 'a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7', ip: '127.0.0.1', udp: 30303, size: 134, signatureValid: true, id: 'v4'})
    expect(r.json[1].waku).toEqual({
      waku2: {raw: '03', capabilities: ['relay', 'store'], unknownBits: []},
      multiaddrs: ['/dns4/store-01.do-ams3.status.prod.status.im/tcp/30303', '/dns4/store-01.do-ams3.status.prod.status.im/tcp/443/wss'],
      cluster: 16,
      shards: [1, 32, 64, 128, 256],
      shardSource: 'rs',
    })
    expect(r.json[0].warnings.map((w: any) => w.code)).toContain('dialable.none')
  })

  it('reads stdin ("-"), skips comments, keeps unparseable lines as error entries, exits 2', async () => {
    const stdin = `# bootnodes\n${EIP778}\n\nnot-an-enr\n${NWAKU.slice(4)}\n`
    const r = await runCli(['enr', 'decode', '--json', '-'], {stdin})
    expect(r.code).toBe(2)
    expect(r.json).toHaveLength(3)
    expect(r.json[0].nodeId).toBe('a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7')
    expect(r.json[1]).toMatchObject({input: 'not-an-enr', source: 'stdin', line: 4, error: {code: expect.stringMatching(/^(ENR|RLP)_[A-Z0-9_]+$/), aliases: [expect.stringMatching(/^(enr|rlp)\./)], exitCode: 2}})
    expect(r.json[2].peerId).toBe('16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT')
  })

  it('--ndjson streams one object per line; files are read line by line', async () => {
    const file = join(dir, 'nodes.txt')
    writeFileSync(file, `${EIP778}\n${NWAKU}  # annotated\n`)
    const r = await runInProcess(['enr', 'decode', '--ndjson', file])
    expect(r.code).toBe(0)
    const lines = ndjsonOf(r.stdout, 'record')
    expect(lines.map((l) => l.seq)).toEqual(['1', '1'])
    expect(lines[1].waku.cluster).toBe(16)
    // The stream ends with one summary line carrying the counts and the exit code.
    expect(parseNdjson(r.stdout).at(-1)).toEqual({type: 'summary', records: 2, valid: 2, invalid: 0, unparseable: 0, exitCode: 0})
    const mixed = await runInProcess(['enr', 'lint', '--ndjson', file, 'enr:zzz'])
    expect(mixed.code).toBe(2)
    expect(ndjsonOf(mixed.stdout, 'record')).toHaveLength(3)
    expect(ndjsonOf(mixed.stdout, 'summary')).toEqual([{type: 'summary', records: 3, valid: 2, invalid: 0, unparseable: 1, findings: expect.objectContaining({error: 1}), exitCode: 2}])
  })

  it('a record that parses but fails validation exits 3 and still shows its fields', async () => {
    const [r, human] = await Promise.all([runInProcess(['enr', 'decode', '--json', BAD_SIG]), runInProcess(['enr', 'decode', BAD_SIG])])
    expect(r.code).toBe(3)
    expect(r.json[0]).toMatchObject({ip: '1.2.3.4', udp: 9000, signatureValid: false, error: {code: 'SIGNATURE_INVALID', aliases: ['signature.invalid'], exitCode: 3}})
    expect(human.code).toBe(3)
    expect(human.stdout).toContain('signature INVALID')
    expect(human.stdout).toContain('Error [SIGNATURE_INVALID]')
    // the finding behind the error is not repeated under its own (dotted) code
    expect(human.stdout).not.toMatch(/error\s+signature\.invalid:/)
  })

  it('unparseable beats invalid for the exit code; no input is a usage error', async () => {
    const [mixed, none, onlyComments] = await Promise.all([
      runInProcess(['enr', 'decode', BAD_SIG, 'enr:+++']),
      runInProcess(['enr', 'decode']),
      runInProcess(['enr', 'decode', '-'], {stdin: '# nothing\n\n'}),
    ])
    expect(mixed.code).toBe(2)
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('ENR_NO_INPUT')
    expect(onlyComments.code).toBe(2)
  })

  it('base64 without the enr: prefix starts with "-" and is still a record, not an unknown flag', async () => {
    expect(EIP778.slice(4)).toMatch(/^-/)
    const r = await runInProcess(['enr', 'decode', '--json', EIP778.slice(4)])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json[0]).toMatchObject({enr: EIP778, seq: '1', signatureValid: true})
  })

  it('prints one clear line for a bad record in human mode', async () => {
    const r = await runInProcess(['enr', 'decode', EIP778 + '='])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("Error [ENR_BASE64_PADDING]: ENR base64 has '=' padding at character 179; EIP-778 text omits padding")
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/)
  })
})
