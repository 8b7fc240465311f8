/**
 * A NAT lab from network namespaces (one namespace per host, NAT by iptables MASQUERADE; the layout below), built and torn
 * down by the tests themselves:
 *
 *   [a] 10.10.1.2 ─ 10.10.1.1 [natA] 198.18.1.2 ─ 198.18.1.1 ┐
 *                                                           [pub] lo 198.18.0.1 + 198.18.0.2 (coturn, RFC 5780)
 *   [b] 10.10.2.2 ─ 10.10.2.1 [natB] 198.18.2.2 ─ 198.18.2.1 ┘   default route → [void] (packets vanish)
 *
 * Names carry a prefix, the pid and a counter, so parallel runs never clash, and namespaces left by
 * a crashed run (whose pid is gone) are removed on the next start. Teardown runs from afterAll and
 * again, synchronously, on process exit. Nothing here touches the root namespace's addresses,
 * routes or firewall.
 */
import {execFile, execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {runCli, type CliResult} from './cli.js'

const run = promisify(execFile)
export const LAB_PREFIX = 'wdl'
// The same development entry the other CLI tests use (TypeScript sources, no stale manifest).
const ENTRY = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export type NatMode = 'eim' | 'sym' | 'dmz' | 'udpblock'

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** Why the lab cannot run here, or undefined when it can (root, ip, iptables, turnserver). */
export function labUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the NAT lab needs root (network namespaces, iptables)'
  for (const c of ['ip', 'iptables', 'turnserver']) if (!which(c)) return `the NAT lab needs ${c} (apt-get install iproute2 iptables coturn)`
  return undefined
}

export function commandAvailable(cmd: string): boolean {
  return which(cmd)
}

function listNamespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
      .split('\n')
      .map((l) => l.split(' ')[0]!.trim())
      .filter(Boolean)
  } catch {
    return []
  }
}

function killNamespacePids(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'}).split('\n').map(Number).filter((p) => p > 0)
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  } catch {
    /* namespace gone */
  }
}

/** Kills what runs in a namespace and deletes it (labs' teardown). */
export function deleteNamespace(ns: string): void {
  killNamespacePids(ns)
  try {
    execFileSync('ip', ['netns', 'delete', ns], {stdio: 'ignore'})
  } catch {
    /* already gone */
  }
}

/** Removes namespaces with our prefix whose owning process no longer exists. */
export function cleanStaleLabs(): string[] {
  const removed: string[] = []
  for (const ns of listNamespaces()) {
    const m = new RegExp(`^${LAB_PREFIX}(\\d+)x\\d+-`).exec(ns)
    if (!m) continue
    const pid = Number(m[1])
    let alive = true
    try {
      process.kill(pid, 0)
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM'
    }
    if (!alive) {
      deleteNamespace(ns)
      removed.push(ns)
    }
  }
  return removed
}

let counter = 0
const liveLabs = new Set<Lab>()
process.on('exit', () => {
  for (const lab of liveLabs) lab.destroySync()
})

export type RunResult = CliResult

export const PUB_IP = '198.18.0.1'
export const PUB_IP2 = '198.18.0.2'
export const TURN_USER = 'probe'
export const TURN_PASSWORD = 's3cret-lab'

export class Lab {
  readonly id: string
  readonly ns: {pub: string; natA: string; natB: string; a: string; b: string; void: string}
  readonly dir: string
  private procs: ChildProcess[] = []
  private destroyed = false

  constructor() {
    this.id = `${LAB_PREFIX}${process.pid}x${counter++}`
    this.ns = {
      pub: `${this.id}-pub`,
      natA: `${this.id}-natA`,
      natB: `${this.id}-natB`,
      a: `${this.id}-a`,
      b: `${this.id}-b`,
      void: `${this.id}-void`,
    }
    this.dir = mkdtempSync(join(tmpdir(), `${this.id}-`))
  }

  async sh(ns: string, ...args: string[]): Promise<string> {
    const {stdout} = await run('ip', ['netns', 'exec', ns, ...args], {encoding: 'utf8'})
    return stdout
  }

  private async ip(ns: string, ...args: string[]): Promise<void> {
    await run('ip', ['-n', ns, ...args])
  }

  async up(): Promise<void> {
    liveLabs.add(this)
    const n = this.ns
    for (const ns of Object.values(n)) {
      await run('ip', ['netns', 'add', ns])
      await this.ip(ns, 'link', 'set', 'lo', 'up')
    }
    const veth = (a: string, nsA: string, b: string, nsB: string) => run('ip', ['link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB])
    await veth('eth0', n.a, 'lan', n.natA)
    await veth('wan', n.natA, 'va', n.pub)
    await veth('eth0', n.b, 'lan', n.natB)
    await veth('wan', n.natB, 'vb', n.pub)
    await veth('vvoid', n.pub, 'sink', n.void)
    const addr = (ns: string, cidr: string, dev: string) => this.ip(ns, 'addr', 'add', cidr, 'dev', dev)
    const upDev = (ns: string, dev: string) => this.ip(ns, 'link', 'set', dev, 'up')
    for (const [host, nat, net, pubDev] of [
      [n.a, n.natA, 1, 'va'],
      [n.b, n.natB, 2, 'vb'],
    ] as const) {
      await addr(host, `10.10.${net}.2/24`, 'eth0')
      await upDev(host, 'eth0')
      await this.ip(host, 'route', 'add', 'default', 'via', `10.10.${net}.1`)
      await addr(nat, `10.10.${net}.1/24`, 'lan')
      await addr(nat, `198.18.${net}.2/24`, 'wan')
      await upDev(nat, 'lan')
      await upDev(nat, 'wan')
      await this.ip(nat, 'route', 'add', 'default', 'via', `198.18.${net}.1`)
      await this.sh(nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
      await addr(n.pub, `198.18.${net}.1/24`, pubDev)
      await upDev(n.pub, pubDev)
    }
    await addr(n.pub, `${PUB_IP}/32`, 'lo')
    await addr(n.pub, `${PUB_IP2}/32`, 'lo')
    await addr(n.pub, '198.18.255.1/24', 'vvoid')
    await upDev(n.pub, 'vvoid')
    await upDev(n.void, 'sink')
    // The sink: unroutable destinations (the other side's 10.10.x host candidates) vanish silently
    // instead of failing sendto() in coturn, which would tear down the allocation (gotcha 2).
    await this.ip(n.pub, 'neigh', 'add', '198.18.255.2', 'lladdr', '02:00:00:00:00:99', 'dev', 'vvoid', 'nud', 'permanent')
    await this.ip(n.pub, 'route', 'add', 'default', 'via', '198.18.255.2')
    await this.sh(n.pub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    await this.setNat('A', 'eim')
    await this.setNat('B', 'eim')
  }

  /** Switches a router's NAT behaviour, always with the WAN INPUT firewall (gotcha 1). */
  async setNat(which: 'A' | 'B', mode: NatMode): Promise<void> {
    const ns = which === 'A' ? this.ns.natA : this.ns.natB
    const host = which === 'A' ? '10.10.1.2' : '10.10.2.2'
    const ipt = (...args: string[]) => this.sh(ns, 'iptables', ...args)
    await ipt('-F')
    await ipt('-t', 'nat', '-F')
    await ipt('-A', 'INPUT', '-i', 'wan', '-p', 'udp', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP')
    if (mode === 'sym') await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', '--random-fully')
    else await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE')
    if (mode === 'dmz') await ipt('-t', 'nat', '-A', 'PREROUTING', '-i', 'wan', '-p', 'udp', '-j', 'DNAT', '--to-destination', host)
    if (mode === 'udpblock') await ipt('-A', 'FORWARD', '-i', 'lan', '-o', 'wan', '-p', 'udp', '-j', 'DROP')
  }

  /** Starts a long-running process inside a namespace; killed on teardown. */
  spawnIn(ns: string, cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {cwd: ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    this.procs.push(child)
    return child
  }

  /** coturn in pub: STUN+TURN on both public IPs (so RFC 5780 is on), static user, relay on 198.18.0.1. */
  async startCoturn(): Promise<void> {
    const log = join(this.dir, 'turnserver.log')
    const child = this.spawnIn(this.ns.pub, 'turnserver', [
      '-n',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      `--listening-ip=${PUB_IP}`,
      `--listening-ip=${PUB_IP2}`,
      `--relay-ip=${PUB_IP}`,
      '--listening-port=3478',
      '--min-port=49152',
      '--max-port=49999',
      '--lt-cred-mech',
      '--fingerprint',
      `--user=${TURN_USER}:${TURN_PASSWORD}`,
      '--realm=waku.lab',
      `--userdb=${join(this.dir, 'turndb')}`,
      `--log-file=${log}`,
      '--simple-log',
      `--pidfile=${join(this.dir, 'turnserver.pid')}`,
    ])
    child.stdout?.resume()
    child.stderr?.resume()
    await this.waitUdpListen(this.ns.pub, `${PUB_IP2}:3479`, 10_000)
  }

  async waitUdpListen(ns: string, addrPort: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const out = await this.sh(ns, 'ss', '-Hlun').catch(() => '')
      if (out.includes(addrPort)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`nothing listening on udp ${addrPort} in ${ns} after ${timeoutMs} ms`)
  }

  /** Starts a waku-disc command in a namespace that prints a first stdout line when ready (servers). */
  async startCliIn(ns: string, args: string[], readyPattern: RegExp, timeoutMs = 30_000): Promise<{child: ChildProcess; firstLine: string}> {
    const child = this.spawnIn(ns, process.execPath, ['--require', 'tsx/cjs', '--import', 'tsx', ENTRY, ...args], {NO_COLOR: '1', CI: 'true'})
    let out = ''
    let err = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    const firstLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready after ${timeoutMs} ms: ${err}`)), timeoutMs)
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const m = readyPattern.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(m[0])
        }
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`))
      })
    })
    return {child, firstLine}
  }

  /** Runs a waku-disc command inside a namespace to completion. */
  runCliIn(ns: string, args: string[], options: {env?: Record<string, string>; timeoutMs?: number; stdin?: string} = {}): Promise<RunResult> {
    return runCliInNamespace(ns, args, options)
  }

  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    liveLabs.delete(this)
    for (const p of this.procs) {
      try {
        p.kill('SIGKILL')
      } catch {
        /* gone */
      }
    }
    for (const ns of Object.values(this.ns)) deleteNamespace(ns)
    rmSync(this.dir, {recursive: true, force: true})
  }

  async destroy(): Promise<void> {
    this.destroySync()
  }
}

export function runCliInNamespace(
  ns: string | undefined,
  args: string[],
  options: {env?: Record<string, string>; timeoutMs?: number; stdin?: string; onSpawn?: (c: ChildProcess) => void} = {},
): Promise<RunResult> {
  return runCli(args, {...options, netns: ns, timeoutMs: options.timeoutMs ?? 90_000, keepStdinOpen: options.onSpawn !== undefined})
}

export async function createLab(options: {coturn?: boolean} = {}): Promise<Lab> {
  cleanStaleLabs()
  const lab = new Lab()
  try {
    await lab.up()
    if (options.coturn !== false) await lab.startCoturn()
  } catch (err) {
    lab.destroySync()
    throw err
  }
  return lab
}

/** Writes a file in the lab's temp dir (e.g. a TURN password file). */
export function labFile(lab: Lab, name: string, content: string): string {
  const p = join(lab.dir, name)
  writeFileSync(p, content, {mode: 0o600})
  return p
}

/** Starts a long-running waku-disc command in the root namespace (loopback servers) or, with `netns`, inside a lab namespace. */
export async function startCli(args: string[], readyPattern: RegExp, timeoutMs = 30_000, options: {netns?: string} = {}): Promise<{child: ChildProcess; match: RegExpExecArray; stdout: () => string; stderr: () => string}> {
  const argv = [process.execPath, '--require', 'tsx/cjs', '--import', 'tsx', ENTRY, ...args]
  const [cmd, ...rest] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv
  const child = spawn(cmd!, rest, {cwd: ROOT, env: {...process.env, NO_COLOR: '1', CI: 'true'}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} not ready after ${timeoutMs} ms: ${err}`))
    }, timeoutMs)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = readyPattern.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`))
    })
  })
  return {child, match, stdout: () => out, stderr: () => err}
}

/** coturn on loopback (for tests and the bench): STUN+TURN with a static user, loopback peers allowed. */
export async function startLoopbackCoturn(): Promise<{port: number; stop: () => void; dir: string}> {
  const dgram = await import('node:dgram')
  const dir = mkdtempSync(join(tmpdir(), 'wd-coturn-'))
  for (let attempt = 0; attempt < 5; attempt++) {
    const probe = dgram.createSocket('udp4')
    const port = await new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port)))
    probe.close()
    const child = spawn(
      'turnserver',
      [
        '-n', '--no-cli', '--no-tls', '--no-dtls', '--no-tcp', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
        '--min-port=49152', '--max-port=65535', '--lt-cred-mech', '--fingerprint', `--user=${TURN_USER}:${TURN_PASSWORD}`, '--realm=waku.lab',
        '--allow-loopback-peers', '--cli-password=unused', `--userdb=${join(dir, 'turndb')}`, `--log-file=${join(dir, 'turn.log')}`, '--simple-log',
        `--pidfile=${join(dir, 'turn.pid')}`, '--no-rfc5780',
      ],
      {stdio: 'ignore'},
    )
    const stop = () => {
      try {
        child.kill('SIGKILL')
      } catch {
        /* gone */
      }
      rmSync(dir, {recursive: true, force: true})
    }
    process.on('exit', stop)
    const deadline = Date.now() + 8000
    while (Date.now() < deadline && child.exitCode === null) {
      const out = await run('ss', ['-Hlun']).then((r) => r.stdout, () => '')
      if (out.includes(`127.0.0.1:${port} `)) return {port, stop, dir}
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
  }
  rmSync(dir, {recursive: true, force: true})
  throw new Error('coturn did not start on loopback')
}
