/**
 * A real PostgreSQL server for tests: Debian's binaries, a fresh data directory in /tmp, bound to
 * 127.0.0.1 on a free port. initdb refuses to run as root, so under root (CI) the server runs as
 * the `postgres` system user the Debian package creates.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pg from 'pg'

export interface PostgresServer {
  /** postgres://waku@127.0.0.1:PORT/DB for a database created for the caller. */
  url: string
  port: number
  dataDir: string
  /** Creates another empty database and returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Stops the server the way a crash does (SIGQUIT: no checkpoint; WAL replay on restart). */
  kill(): Promise<void>
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>
  stop(): Promise<void>
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(root, versions[0]!, 'bin')
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function runAs(): {uid: number; gid: number} | undefined {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).trim())
  return {uid, gid}
}

export async function startPostgres(database = 'waku_disc_test'): Promise<PostgresServer> {
  const bin = binDir()
  const user = runAs()
  const dataDir = mkdtempSync(join(tmpdir(), 'waku-disc-pg-'))
  if (user) chownSync(dataDir, user.uid, user.gid)
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'waku', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], {
    stdio: 'pipe',
    ...(user ?? {}),
  })
  const port = await freePort()
  let child: ChildProcess | undefined
  let log = ''

  async function start(): Promise<void> {
    // Durability settings stay at their defaults except fsync: a killed server process (not a
    // lost machine) still finds its WAL in the page cache, which is what the tests exercise.
    child = spawn(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=40', '-c', 'shared_buffers=32MB'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    })
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
    const deadline = Date.now() + 30_000
    for (;;) {
      const client = new pg.Client({host: '127.0.0.1', port, user: 'waku', database: 'postgres', connectionTimeoutMillis: 1000})
      try {
        await client.connect()
        await client.end()
        return
      } catch {
        await client.end().catch(() => undefined)
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${log.slice(-2000)}`)
        await new Promise((r) => setTimeout(r, 150))
      }
    }
  }

  async function waitExit(signal: NodeJS.Signals): Promise<void> {
    const c = child
    if (!c || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill(signal)
    })
  }

  async function createDatabase(name: string): Promise<string> {
    const client = new pg.Client({host: '127.0.0.1', port, user: 'waku', database: 'postgres'})
    await client.connect()
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`)
    } finally {
      await client.end()
    }
    return `postgres://waku@127.0.0.1:${port}/${name}`
  }

  await start()
  const url = await createDatabase(database)
  return {
    url,
    port,
    dataDir,
    createDatabase,
    kill: () => waitExit('SIGQUIT'),
    restart: start,
    async stop() {
      await waitExit('SIGINT')
      rmSync(dataDir, {recursive: true, force: true})
    },
  }
}
