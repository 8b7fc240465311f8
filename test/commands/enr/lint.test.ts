// `waku-disc enr lint`: findings with stable codes, --json, --public, exit 3 on error-level findings.
import {describe, expect, it} from 'vitest'

import {buildRecord, bytes, hex, toText, u16} from '../../fixtures/enr/build.js'
import {runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

const clean = toText(buildRecord([['ip', bytes(8, 8, 4, 4)], ['tcp', u16(30303)], ['udp', u16(9000)], ['waku2', bytes(1)]]))
const privateIp = toText(buildRecord([['ip', bytes(192, 168, 1, 20)], ['tcp', u16(30303)], ['udp', u16(9000)], ['waku2', bytes(1)]]))
const rsv = toText(buildRecord([['ip', bytes(8, 8, 4, 4)], ['tcp', u16(30303)], ['udp', u16(9000)], ['waku2', bytes(1)], ['rsv', hex('00490204' + '00'.repeat(126))]]), )
const seq = toText(buildRecord([['ip', bytes(8, 8, 4, 4)], ['tcp', u16(30303)], ['udp', u16(9000)], ['waku2', bytes(1)]], undefined, {seq: 1700000000000n}))

describe('enr lint', () => {
  it('a clean record has no findings and exits 0', async () => {
    const r = await runCli(['enr', 'lint', '--public', clean])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('no findings')
  })

  it('the js-waku rsv reading is an error finding with its sentence; exit 3', async () => {
    const r = await runInProcess(['enr', 'lint', '--json', rsv])
    expect(r.code).toBe(3)
    const f = r.json[0].findings.find((x: any) => x.code === 'rsv.js-waku-bit-order')
    expect(f).toMatchObject({field: 'rsv', severity: 'error'})
    expect(f.message).toContain('js-waku would read this rsv as shards 6,13')
    const human = await runInProcess(['enr', 'lint', rsv])
    expect(human.stdout).toMatch(/error\s+rsv\.js-waku-bit-order: js-waku would read this rsv as shards 6,13/)
  })

  it('warnings alone exit 0 (seq above 255)', async () => {
    const r = await runInProcess(['enr', 'lint', '--json', seq])
    expect(r.code).toBe(0)
    expect(r.json[0].findings).toEqual([expect.objectContaining({code: 'seq.over-255', severity: 'warning'})])
    expect(r.json[0].worst).toBe('warning')
  })

  it('--public turns a private address into an error', async () => {
    const [plain, r] = await Promise.all([runInProcess(['enr', 'lint', privateIp]), runInProcess(['enr', 'lint', '--public', '--json', privateIp])])
    expect(plain.code).toBe(0)
    expect(r.code).toBe(3)
    expect(r.json[0].findings.map((f: any) => f.code)).toEqual(['ip.private'])
  })

  it('several records: a summary line; unparseable input exits 2', async () => {
    const [r, bad] = await Promise.all([runInProcess(['enr', 'lint', clean, seq]), runInProcess(['enr', 'lint', '--json', clean, 'enr:AAAA'])])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/2 records: 0 errors, 1 warning, 0 info/)
    expect(bad.code).toBe(2)
    expect(bad.json[1]).toMatchObject({worst: 'error', error: {code: 'RLP_MORE_THAN_ONE_VALUE', aliases: ['rlp.more-than-one-value'], exitCode: 2}})
    // lint finding codes stay dotted and field-named: a parse failure is reported under the error's alias
    expect(bad.json[1].findings).toEqual([{code: 'rlp.more-than-one-value', field: 'rlp', severity: 'error', message: bad.json[1].error.message}])
  })
})
