/**
 * A port-mapping lab: Debian's miniupnpd (nftables backend) as the gateway of a NAT router made of
 * network namespaces the test creates:
 *
 *   [in] 10.20.0.2 ─ lan 10.20.0.1 [gw: nftables masquerade + miniupnpd] wan 100.128.9.1 ─ 100.128.9.2 [out]
 *
 * The WAN uses 100.128.9.0/24 because miniupnpd 2.3.1 refuses every mapping when its external
 * address is in a reserved range ("Reserved / private IP address … Port forwarding is impossible";
 * it has no ext_allow_private_ipv4 yet). The namespaces have no link to the host's network, so
 * nothing sent here can leave the machine. UPnP, NAT-PMP and PCP are switched on and off by
 * configuration; miniupnpd has one switch for NAT-PMP and PCP (enable_natpmp), so one of the two is
 * turned off by an nftables rule on the gateway that drops datagrams to port 5351 whose first byte
 * (the version: 0 NAT-PMP, 2 PCP) is the other's.
 */
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {cleanStaleLabs, commandAvailable, deleteNamespace, LAB_PREFIX, runCliInNamespace, type RunResult} from './natlab.js'

const run = promisify(execFile)

export const GW_LAN = '10.20.0.1'
export const IN_IP = '10.20.0.2'
export const GW_WAN = '100.128.9.1'
export const OUT_IP = '100.128.9.2'

export interface GatewayConfig {
  upnp: boolean
  natpmp: boolean
  pcp: boolean
}

export function portmapLabUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the port-mapping lab needs root (network namespaces, nftables)'
  for (const c of ['ip', 'nft', 'miniupnpd']) if (!commandAvailable(c)) return `the port-mapping lab needs ${c} (apt-get install iproute2 nftables miniupnpd)`
  return undefined
}

let counter = 0
const live = new Set<PortMapLab>()
process.on('exit', () => {
  for (const lab of live) lab.destroySync()
})

const RULESET = `
table inet filter {
  counter ssdp {
  }
  counter natpmp {
  }
  counter pcp {
  }
  counter http {
  }
  chain input {
    type filter hook input priority -20; policy accept;
    udp dport 1900 counter name "ssdp"
    udp dport 5351 @th,64,8 0 counter name "natpmp"
    udp dport 5351 @th,64,8 2 counter name "pcp"
    iifname "lan" tcp dport != 22 ct state new counter name "http"
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan" masquerade
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`

export class PortMapLab {
  readonly ns: {in: string; gw: string; out: string}
  readonly dir: string
  private daemon?: ChildProcess
  private daemonLog = ''
  private destroyed = false

  constructor() {
    const id = `${LAB_PREFIX}${process.pid}x${500 + counter++}`
    this.ns = {in: `${id}-in`, gw: `${id}-gw`, out: `${id}-out`}
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`))
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
    await run('ip', ['link', 'add', 'eth0', 'netns', n.in, 'type', 'veth', 'peer', 'name', 'lan', 'netns', n.gw])
    await run('ip', ['link', 'add', 'wan', 'netns', n.gw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.out])
    const cmds: string[][] = [
      ['-n', n.in, 'addr', 'add', `${IN_IP}/24`, 'dev', 'eth0'],
      ['-n', n.in, 'link', 'set', 'eth0', 'up'],
      ['-n', n.in, 'route', 'add', 'default', 'via', GW_LAN],
      ['-n', n.gw, 'addr', 'add', `${GW_LAN}/24`, 'dev', 'lan'],
      ['-n', n.gw, 'addr', 'add', `${GW_WAN}/24`, 'dev', 'wan'],
      ['-n', n.gw, 'link', 'set', 'lan', 'up'],
      ['-n', n.gw, 'link', 'set', 'wan', 'up'],
      ['-n', n.out, 'addr', 'add', `${OUT_IP}/24`, 'dev', 'eth0'],
      ['-n', n.out, 'link', 'set', 'eth0', 'up'],
    ]
    for (const c of cmds) await run('ip', c)
    await this.sh(n.gw, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    const rules = join(this.dir, 'gateway.nft')
    writeFileSync(rules, RULESET)
    await this.sh(n.gw, 'nft', '-f', rules)
  }

  /** (Re)starts miniupnpd with these protocols on; waits until what is on listens. */
  async configure(config: GatewayConfig): Promise<void> {
    await this.stopDaemon()
    await this.sh(this.ns.gw, 'nft', 'delete', 'table', 'inet', 'labversion').catch(() => undefined)
    if (config.natpmp !== config.pcp && (config.natpmp || config.pcp)) {
      const dropVersion = config.natpmp ? 2 : 0
      const file = join(this.dir, 'version.nft')
      writeFileSync(file, `table inet labversion {\n  chain input {\n    type filter hook input priority -10; policy accept;\n    udp dport 5351 @th,64,8 ${dropVersion} drop\n  }\n}\n`)
      await this.sh(this.ns.gw, 'nft', '-f', file)
    }
    // miniupnpd with every protocol off refuses to run ("Why did you run me anyway?"): a router
    // without port mapping is a router without the daemon.
    if (!config.upnp && !config.natpmp && !config.pcp) return
    const conf = join(this.dir, 'miniupnpd.conf')
    writeFileSync(
      conf,
      [
        'ext_ifname=wan',
        'listening_ip=lan',
        'http_port=0',
        `enable_natpmp=${config.natpmp || config.pcp ? 'yes' : 'no'}`,
        `enable_upnp=${config.upnp ? 'yes' : 'no'}`,
        'secure_mode=yes',
        'system_uptime=yes',
        'uuid=3f1b6c2a-0000-4000-8000-00000000c0de',
        `lease_file=${join(this.dir, 'leases')}`,
        'allow 1024-65535 10.20.0.0/24 1024-65535',
        'deny 0-65535 0.0.0.0/0 0-65535',
        '',
      ].join('\n'),
    )
    this.daemonLog = ''
    const child = spawn('ip', ['netns', 'exec', this.ns.gw, 'miniupnpd', '-f', conf, '-d'], {stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.daemonLog += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.daemonLog += d))
    this.daemon = child
    const deadline = Date.now() + 10_000
    for (;;) {
      const udp = (await this.sh(this.ns.gw, 'ss', '-Hlun')).stdout
      const tcp = (await this.sh(this.ns.gw, 'ss', '-Hltnp')).stdout
      const pmpReady = !(config.natpmp || config.pcp) || udp.includes(':5351')
      const upnpReady = !config.upnp || (udp.includes(':1900') && tcp.includes('miniupnpd'))
      if (pmpReady && upnpReady && /version [\d.]+ starting/.test(this.daemonLog)) return
      if (child.exitCode !== null) throw new Error(`miniupnpd exited ${child.exitCode}: ${this.daemonLog}`)
      if (Date.now() > deadline) throw new Error(`miniupnpd not ready after 10 s: ${this.daemonLog}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  log(): string {
    return this.daemonLog
  }

  /** Packets the gateway received, by kind (SSDP, NAT-PMP, PCP, new TCP connections from the LAN). */
  async counters(): Promise<{ssdp: number; natpmp: number; pcp: number; http: number}> {
    const read = async (name: string) => Number(/packets (\d+)/.exec((await this.sh(this.ns.gw, 'nft', 'list', 'counter', 'inet', 'filter', name)).stdout)?.[1] ?? Number.NaN)
    return {ssdp: await read('ssdp'), natpmp: await read('natpmp'), pcp: await read('pcp'), http: await read('http')}
  }

  /** The DNAT rules miniupnpd has installed (what a mapping really is on this gateway). */
  async redirects(): Promise<string> {
    return (await this.sh(this.ns.gw, 'nft', 'list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd')).stdout
  }

  async stopDaemon(): Promise<void> {
    const d = this.daemon
    this.daemon = undefined
    if (!d || d.exitCode !== null) return
    const exited = new Promise((r) => d.once('exit', r))
    d.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
    if (d.exitCode === null) d.kill('SIGKILL')
  }

  runCliIn(ns: string, args: string[], options: {timeoutMs?: number} = {}): Promise<RunResult> {
    return runCliInNamespace(ns, args, options)
  }

  /**
   * A TCP echo of one token inside `ns` on `port`, and a client in `fromNs` that connects to
   * host:port: resolves with what the client read, or the error text. The proof that a mapping
   * lets traffic in is a connection that works, not the gateway's word.
   */
  async tcpReach(listenNs: string, port: number, fromNs: string, host: string, timeoutMs = 3000): Promise<string> {
    const token = `reach-${port}-${Date.now()}`
    const server = spawn('ip', ['netns', 'exec', listenNs, process.execPath, '-e', `require('net').createServer((s)=>{s.end(${JSON.stringify(token)})}).listen(${port},'0.0.0.0',()=>console.log('up'))`], {stdio: ['ignore', 'pipe', 'pipe']})
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('echo server not up')), 10_000)
        server.stdout!.once('data', () => {
          clearTimeout(t)
          resolve()
        })
        server.once('exit', (code) => reject(new Error(`echo server exited ${code}`)))
      })
      const script = `const s=require('net').connect(${port},${JSON.stringify(host)});let b='';s.setTimeout(${timeoutMs},()=>{console.log('ERR timeout');process.exit(0)});s.on('data',d=>b+=d);s.on('end',()=>{console.log(b);process.exit(0)});s.on('error',e=>{console.log('ERR '+e.code);process.exit(0)})`
      const {stdout} = await this.sh(fromNs, process.execPath, '-e', script)
      const got = stdout.trim()
      return got === token ? 'ok' : got
    } finally {
      server.kill('SIGKILL')
    }
  }

  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    live.delete(this)
    try {
      this.daemon?.kill('SIGKILL')
    } catch {
      /* gone */
    }
    for (const ns of Object.values(this.ns)) deleteNamespace(ns)
    rmSync(this.dir, {recursive: true, force: true})
  }
}

export async function createPortMapLab(config: GatewayConfig = {upnp: true, natpmp: true, pcp: true}): Promise<PortMapLab> {
  cleanStaleLabs()
  const lab = new PortMapLab()
  try {
    await lab.up()
    await lab.configure(config)
  } catch (err) {
    lab.destroySync()
    throw err
  }
  return lab
}
