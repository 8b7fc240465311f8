import type {ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {WebSocketServer} from 'ws'

import {runCliInNamespace, startCli} from '../../helpers/natlab.js'

const cli = (args: string[], opts: Parameters<typeof runCliInNamespace>[2] = {}) => runCliInNamespace(undefined, args, opts)

describe('webrtc signal / listen / dial on loopback', {timeout: 120_000}, () => {
  let signal: ChildProcess
  let url: string
  beforeAll(async () => {
    const s = await startCli(['webrtc', 'signal', '--listen', '127.0.0.1:0'], /ws:\/\/127\.0\.0\.1:\d+/)
    signal = s.child
    url = s.match[0]
  })
  afterAll(() => signal?.kill('SIGKILL'))

  it('listen and dial meet in a room; both report both selected pairs, RTT and throughput', async () => {
    const args = ['--json', '--signal', url, '--room', `t${process.pid}`, '--bytes', '300000', '--pings', '4']
    const listener = cli(['webrtc', 'listen', ...args])
    const dialer = await cli(['webrtc', 'dial', ...args])
    const l = await listener
    // On failure, say why in libdatachannel's words (the JSON reason and native log), not just the exit code.
    const why = (r: typeof dialer) => `${r.stderr}\n${JSON.stringify({reason: r.json?.reason, logs: r.json?.logs})}`
    expect(dialer.code, why(dialer)).toBe(0)
    expect(l.code, why(l)).toBe(0)
    expect(dialer.json.role).toBe('offerer')
    expect(dialer.json.ok).toBe(true)
    expect(dialer.json.path).toBe('direct')
    expect(dialer.json.rttMs).toHaveLength(4)
    expect(dialer.json.throughputMbps).toBeGreaterThan(0)
    expect(dialer.json.answerer.selectedPair).not.toBeNull()
    // RFC 8842 roles as negotiated: the dialer offers actpass, libdatachannel's answer takes active.
    expect(dialer.json.offerer.dtlsRole).toBe('server')
    expect(l.json.answerer.dtlsRole).toBe('client')
    // The listener held the offer's candidates until the dialer said it had applied the answer.
    expect(l.json.answerer.events.map((e: {name: string}) => e.name)).toContain('candidates-released')
    expect(l.json.role).toBe('answerer')
    expect(l.json.offerer.selectedPair).not.toBeNull()
    // The listener keeps its own pair as it reported it to the dialer: both ends agree on it.
    expect(l.json.answerer.selectedPair).toEqual(dialer.json.answerer.selectedPair)
    // No STUN/TURN given: the only other party is the signalling server, which saw both descriptions.
    expect(dialer.json.privacy).toHaveLength(1)
    expect(dialer.json.privacy[0]).toMatchObject({role: 'signalling', sawBothPeers: true, carriedData: false})
    expect(dialer.json.privacy[0].sawAddresses.length).toBeGreaterThan(0)
  })

  it('--manual: offer and answer pasted between the two processes', async () => {
    let dialChild: ChildProcess | undefined
    let listenChild: ChildProcess | undefined
    let dialErr = ''
    let listenErr = ''
    const flags = ['--json', '--manual', '--bytes', '0', '--pings', '2']
    const dial = cli(['webrtc', 'dial', ...flags], {
      onSpawn: (c) => {
        dialChild = c
        c.stderr!.on('data', (d: Buffer) => {
          dialErr += d.toString()
          const m = /(wdc1\.[A-Za-z0-9_-]+)\n/.exec(dialErr)
          if (m && listenChild && !(listenChild as any).fed) {
            ;(listenChild as any).fed = true
            listenChild.stdin!.write(`garbage line first\n${m[1]}\n`)
          }
        })
      },
    })
    const listen = cli(['webrtc', 'listen', ...flags], {
      onSpawn: (c) => {
        listenChild = c
        c.stderr!.on('data', (d: Buffer) => {
          listenErr += d.toString()
          const m = /Our answer[^\n]*\n(wdc1\.[A-Za-z0-9_-]+)\n/.exec(listenErr)
          if (m && dialChild && !(dialChild as any).fed) {
            ;(dialChild as any).fed = true
            dialChild.stdin!.write(`${m[1]}\n`)
          }
        })
      },
    })
    const [d, l] = await Promise.all([dial, listen])
    // On failure, show the reports (their reason and native logs), not only the prompts.
    expect(d.code, d.stderr + d.stdout).toBe(0)
    expect(l.code, l.stderr + l.stdout).toBe(0)
    expect(d.json.ok).toBe(true)
    expect(d.json.rttMs).toHaveLength(2)
  })

  it('hostile or missing input: clear errors, no crash', async () => {
    const none = await cli(['webrtc', 'dial'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/NO_SIGNALLING/)
    const junk = await cli(['webrtc', 'listen', '--manual'], {stdin: 'wdc1.@@@@\n'})
    expect(junk.code).toBe(2)
    expect(junk.stderr).toMatch(/BAD_COMPACT.*outside base64url/)
    const eof = await cli(['webrtc', 'listen', '--manual'], {stdin: 'no code here\n'})
    expect(eof.code).toBe(2)
    expect(eof.stderr).toMatch(/input ended before a wdc1\. line/)
    const down = await cli(['webrtc', 'dial', '--signal', 'ws://127.0.0.1:1', '--room', 'x'])
    expect(down.code).toBe(4)
    expect(down.stderr).toMatch(/SIGNAL_UNREACHABLE/)
    const badRoom = await cli(['webrtc', 'dial', '--signal', url, '--room', 'no spaces'])
    expect(badRoom.code).toBe(2)
    // A "signalling server" that answers with junk: exit 5 and one clear line.
    const junkServer = new WebSocketServer({host: '127.0.0.1', port: 0})
    await new Promise((r) => junkServer.once('listening', r))
    junkServer.on('connection', (ws) => ws.send('{"type": 42, "sdp": [1,2,3]'))
    try {
      const r = await cli(['webrtc', 'dial', '--signal', `ws://127.0.0.1:${(junkServer.address() as {port: number}).port}`, '--room', 'x'])
      expect(r.code).toBe(5)
      expect(r.stderr).toMatch(/Error \[SIGNAL_JUNK\]: the signalling server sent something that is not a JSON message object/)
    } finally {
      await new Promise((r) => junkServer.close(r))
    }
  })

  it('Ctrl-C stops the signalling server with its stats and exit 130', async () => {
    let stderr = ''
    signal.stderr!.on('data', (d: Buffer | string) => (stderr += String(d)))
    const code = await new Promise<number | null>((resolve) => {
      signal.once('exit', (c) => resolve(c))
      signal.kill('SIGINT')
    })
    expect(code).toBe(130)
    expect(stderr).toMatch(/Signalling server stopped: \d+ connections, \d+ messages relayed/)
  })
})
