/**
 * A hole-punching lab: two hosts behind NAT routers and a public namespace with the circuit relay,
 * all namespaces the test makes:
 *
 *   [a] 10.30.1.2 ─ 10.30.1.1 [natA] 100.128.1.2 ─ 100.128.1.1 ┐
 *                                                            [pub] lo 100.128.0.1 (relay)
 *   [b] 10.30.2.2 ─ 10.30.2.1 [natB] 100.128.2.2 ─ 100.128.2.1 ┘
 *
 * js-libp2p treats 198.18.0.0/15 (the WebRTC lab's range) as private and DCUtR drops private
 * addresses, so this lab's "public" side is 100.128.0.0/16; the namespaces have no link to the
 * host's network, so none of it can leave the machine. NAT modes: 'eim' (MASQUERADE, endpoint-
 * independent mapping with port preservation) and 'sym' (MASQUERADE --random-fully: a new port per
 * destination). Both drop unsolicited inbound packets on the WAN, as home routers do.
 */
import {execFile, type ChildProcess} from 'node:child_process'
import {promisify} from 'node:util'

import {cleanStaleLabs, deleteNamespace, LAB_PREFIX, runCliInNamespace, startCli, type RunResult} from './natlab.js'

const run = promisify(execFile)
export const RELAY_IP = '100.128.0.1'
export const HOST_A = '10.30.1.2'
export const HOST_B = '10.30.2.2'
export type PunchNat = 'eim' | 'sym'

let counter = 0
const live = new Set<PunchLab>()
process.on('exit', () => {
  for (const lab of live) lab.destroySync()
})

export class PunchLab {
  readonly ns: {pub: string; natA: string; natB: string; a: string; b: string}
  private destroyed = false

  constructor() {
    const id = `${LAB_PREFIX}${process.pid}x${700 + counter++}`
    this.ns = {pub: `${id}-pub`, natA: `${id}-natA`, natB: `${id}-natB`, a: `${id}-a`, b: `${id}-b`}
  }

  sh(ns: string, ...args: string[]): Promise<{stdout: string; stderr: string}> {
    return run('ip', ['netns', 'exec', ns, ...args], {encoding: 'utf8'})
  }

  async up(): Promise<void> {
    live.add(this)
    const n = this.ns
    for (const ns of Object.values(n)) {
      await run('ip', ['netns', 'add', ns])
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    }
    for (const [host, nat, net, pubDev] of [
      [n.a, n.natA, 1, 'va'],
      [n.b, n.natB, 2, 'vb'],
    ] as const) {
      await run('ip', ['link', 'add', 'eth0', 'netns', host, 'type', 'veth', 'peer', 'name', 'lan', 'netns', nat])
      await run('ip', ['link', 'add', 'wan', 'netns', nat, 'type', 'veth', 'peer', 'name', pubDev, 'netns', n.pub])
      const cmds: string[][] = [
        ['-n', host, 'addr', 'add', `10.30.${net}.2/24`, 'dev', 'eth0'],
        ['-n', host, 'link', 'set', 'eth0', 'up'],
        ['-n', host, 'route', 'add', 'default', 'via', `10.30.${net}.1`],
        ['-n', nat, 'addr', 'add', `10.30.${net}.1/24`, 'dev', 'lan'],
        ['-n', nat, 'addr', 'add', `100.128.${net}.2/24`, 'dev', 'wan'],
        ['-n', nat, 'link', 'set', 'lan', 'up'],
        ['-n', nat, 'link', 'set', 'wan', 'up'],
        ['-n', nat, 'route', 'add', 'default', 'via', `100.128.${net}.1`],
        ['-n', n.pub, 'addr', 'add', `100.128.${net}.1/24`, 'dev', pubDev],
        ['-n', n.pub, 'link', 'set', pubDev, 'up'],
      ]
      for (const c of cmds) await run('ip', c)
      await this.sh(nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    }
    await run('ip', ['-n', n.pub, 'addr', 'add', `${RELAY_IP}/32`, 'dev', 'lo'])
    await this.sh(n.pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    await this.setNat('A', 'eim')
    await this.setNat('B', 'eim')
  }

  async setNat(which: 'A' | 'B', mode: PunchNat): Promise<void> {
    const ns = which === 'A' ? this.ns.natA : this.ns.natB
    const ipt = (...args: string[]) => this.sh(ns, 'iptables', ...args)
    await ipt('-F')
    await ipt('-t', 'nat', '-F')
    await ipt('-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP')
    await ipt('-A', 'FORWARD', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP')
    await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...(mode === 'sym' ? ['--random-fully'] : []))
    await this.sh(ns, 'conntrack', '-F').catch(() => undefined)
  }

  private procs: ChildProcess[] = []

  /** Starts a long-running waku-disc command in a namespace (killed on teardown); resolves with the stdout match of `ready`. */
  async startCliIn(ns: string, args: string[], ready: RegExp, timeoutMs = 30_000): Promise<{child: ChildProcess; match: RegExpExecArray; stderr: () => string}> {
    const started = await startCli(args, ready, timeoutMs, {netns: ns})
    this.procs.push(started.child)
    return started
  }

  runCliIn(ns: string, args: string[], options: {timeoutMs?: number} = {}): Promise<RunResult> {
    return runCliInNamespace(ns, args, options)
  }

  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    live.delete(this)
    for (const p of this.procs) {
      try {
        p.kill('SIGKILL')
      } catch {
        /* gone */
      }
    }
    for (const ns of Object.values(this.ns)) deleteNamespace(ns)
  }
}

export async function createPunchLab(): Promise<PunchLab> {
  cleanStaleLabs()
  const lab = new PunchLab()
  try {
    await lab.up()
  } catch (err) {
    lab.destroySync()
    throw err
  }
  return lab
}
