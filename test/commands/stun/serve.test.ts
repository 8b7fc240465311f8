import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'

import {commandAvailable, runCliInNamespace, startCli} from '../../helpers/natlab.js'

const exec = promisify(execFile)

describe('stun serve', {timeout: 120_000}, () => {
  it('answers webrtc probe (RFC 5780 via --alt) and an independent STUN client; SIGINT stops it with stats', async () => {
    const srv = await startCli(['stun', 'serve', '--listen', '127.0.0.1:0', '--alt', '127.0.0.2:0'], /RFC 5780: on \(OTHER-ADDRESS (127\.0\.0\.2:\d+)\)/)
    const primary = /listening on (127\.0\.0\.1:\d+)/.exec(srv.stdout())![1]!
    try {
      const r = await runCliInNamespace(undefined, ['webrtc', 'probe', '--json', '--stun', `stun:${primary}`])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.stun[0].binding.otherAddress).toBe(srv.match[1])
      expect(r.json.rfc5780.mapping).toBe('no-nat')
      expect(r.json.rfc5780.filtering).toBe('endpoint-independent')
      expect(r.json.candidates.srflx.length).toBeGreaterThan(0)
      expect(r.json.verdict).toBe('direct links likely')
      if (commandAvailable('turnutils_stunclient')) {
        const [host, port] = primary.split(':')
        const {stdout} = await exec('turnutils_stunclient', ['-p', port!, host!], {timeout: 10_000})
        expect(stdout).toContain(`Other addr: : ${srv.match[1]}`)
      }
    } finally {
      srv.child.kill('SIGINT')
    }
    const code = await new Promise((r) => srv.child.on('exit', (c) => r(c)))
    expect(code).toBe(130) // interrupted, like every long-running command
    expect(srv.stdout()).toContain('RFC 5780: on')
  })

  it('refuses an --alt that cannot work, with exit 2', async () => {
    const same = await runCliInNamespace(undefined, ['stun', 'serve', '--listen', '127.0.0.1:3478', '--alt', '127.0.0.1:3479'])
    expect(same.code).toBe(2)
    expect(same.stderr).toMatch(/different IP address/)
    const bad = await runCliInNamespace(undefined, ['stun', 'serve', '--listen', 'nonsense'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/has no port|expected HOST:PORT/)
  })
})
