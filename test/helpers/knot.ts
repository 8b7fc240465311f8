/**
 * A real Knot DNS server (knotd from Debian) for tests: writes knot.conf and a zone into a temp
 * directory, runs knotd on a free loopback port with RFC 2136 updates allowed for one TSIG key,
 * waits until it answers, and always stops it (and removes the directory) in stop().
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import dgram from 'node:dgram'
import {existsSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import dnsPacket from 'dns-packet'

export const KNOTD = ['/usr/sbin/knotd', '/usr/bin/knotd'].find((p) => existsSync(p))
/** Reason to skip when knotd is missing (CI installs it, so there the tests always run). */
export const knotMissing = KNOTD === undefined ? 'knotd is not installed (apt-get install knot)' : undefined

export interface KnotServer {
  host: string
  port: number
  address: string
  zone: string
  zoneFile: string
  dir: string
  tsig: {name: string; secret: string; line: string}
  /** Lines knotd printed (for failure messages). */
  log(): string
  /** Re-reads the zone file (after a zone-file publish). */
  reload(): Promise<void>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  // A port free for both UDP and TCP on 127.0.0.1.
  for (let i = 0; i < 20; i++) {
    const tcp = net.createServer()
    const port = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as net.AddressInfo).port)))
    const udp = dgram.createSocket('udp4')
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false))
      udp.bind(port, '127.0.0.1', () => resolve(true))
    })
    await new Promise<void>((r) => tcp.close(() => r()))
    if (ok) await new Promise<void>((r) => udp.close(() => r()))
    else udp.close()
    if (ok) return port
  }
  throw new Error('no free port')
}

export interface KnotOptions {
  zone?: string
  /** Extra records (zone-file lines) for the initial zone, e.g. other TXT records to keep. */
  records?: string[]
}

export async function startKnot(options: KnotOptions = {}): Promise<KnotServer> {
  if (!KNOTD) throw new Error(knotMissing)
  const zone = options.zone ?? 'example.org'
  const dir = await mkdtemp(join(tmpdir(), 'waku-disc-knot-'))
  const port = await freePort()
  const secret = randomBytes(32).toString('base64')
  const tsigName = 'waku-disc-test'
  const zoneFile = join(dir, `${zone}.zone`)
  const soaLine = `${zone}. 60 IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`
  await writeFile(zoneFile, [soaLine, `${zone}. 60 IN NS ns.${zone}.`, `ns.${zone}. 60 IN A 127.0.0.1`, ...(options.records ?? []), ''].join('\n'))
  const conf = `server:
    rundir: "${dir}"
    listen: 127.0.0.1@${port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "${dir}"
key:
  - id: ${tsigName}
    algorithm: hmac-sha256
    secret: ${secret}
acl:
  - id: update_acl
    key: ${tsigName}
    action: update
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "${dir}"
    file: "%s.zone"
    zonefile-sync: 0
    zonefile-load: difference-no-serial
    journal-content: all
    semantic-checks: off
zone:
  - domain: ${zone}
    acl: update_acl
`
  const confPath = join(dir, 'knot.conf')
  await writeFile(confPath, conf)
  let output = ''
  const child: ChildProcess = spawn(KNOTD, ['-c', confPath], {stdio: ['ignore', 'pipe', 'pipe']})
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  let exited = false
  child.on('exit', () => (exited = true))

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 5000)
      await new Promise<void>((r) => (exited ? r() : child.once('exit', () => r())))
      clearTimeout(t)
    }
    await rm(dir, {recursive: true, force: true})
  }

  // Wait until it answers a SOA query for the zone over TCP.
  const started = Date.now()
  for (;;) {
    if (exited) {
      await rm(dir, {recursive: true, force: true})
      throw new Error(`knotd exited during start:\n${output}`)
    }
    if (await answersSoa(port, zone)) break
    if (Date.now() - started > 15_000) {
      await stop()
      throw new Error(`knotd did not answer within 15 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    zone,
    zoneFile,
    dir,
    tsig: {name: tsigName, secret, line: `hmac-sha256:${tsigName}:${secret}`},
    log: () => output,
    reload: async () => {
      const r = spawnSync('knotc', ['-c', confPath, 'zone-reload', zone], {encoding: 'utf8'})
      if (r.status !== 0) throw new Error(`knotc zone-reload failed: ${r.stderr}${r.stdout}`)
      await new Promise((r) => setTimeout(r, 300))
    },
    stop,
  }
}

function answersSoa(port: number, zone: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port})
    const timer = setTimeout(() => finish(false), 500)
    const finish = (ok: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    socket.on('error', () => finish(false))
    socket.on('connect', () => socket.write(dnsPacket.streamEncode({type: 'query', id: 1, questions: [{name: zone, type: 'SOA', class: 'IN'}]})))
    socket.on('data', (d) => {
      try {
        const answer = dnsPacket.streamDecode(d)
        finish(Boolean(answer?.answers?.some((a) => a.type === 'SOA')))
      } catch {
        finish(false)
      }
    })
  })
}

