/**
 * `crawl --db` and `history` as a user runs them: separate processes, a loopback testnet, an
 * SQLite file and a real PostgreSQL server.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {startPostgres, type PostgresServer} from '../helpers/postgres.js'
import {runCli} from '../helpers/cli.js'
import {runInProcess} from '../helpers/in-process.js'

let dir: string
let postgres: PostgresServer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'waku-disc-history-cli-'))
  postgres = await startPostgres('cli')
}, 60_000)

afterAll(async () => {
  await postgres?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe.each(['sqlite', 'postgres'] as const)('crawl --db and history on %s', (backend) => {
  it('--monitor rounds each become one stored crawl; history --json lists them oldest first; --html writes the page', async () => {
    const db = backend === 'sqlite' ? join(dir, 'crawls.sqlite') : postgres.url
    const crawl = await runCli(['crawl', '--testnet', '40', '--strategy', 'census', '--monitor', '1', '--rounds', '3', '--db', db, '--json'], {timeoutMs: 120_000})
    expect(crawl.code, crawl.stderr).toBe(0)
    expect(crawl.json.database.crawlIds).toHaveLength(3)
    expect(crawl.json.database.error).toBeUndefined()

    const history = await runCli(['history', '--db', backend === 'sqlite' ? `sqlite:${db}` : db, '--json'])
    expect(history.code, history.stderr).toBe(0)
    const crawls = history.json.crawls
    expect(crawls.map((c: {id: number}) => c.id)).toEqual(crawl.json.database.crawlIds)
    for (const c of crawls) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'startedAt', 'endedAt', 'network', 'strategy', 'discovered', 'responsive', 'waku', 'interrupted']))
      expect(c).toMatchObject({network: 'waku', strategy: 'census', interrupted: false})
      expect(c.responsive).toBeGreaterThan(25)
    }
    expect(Date.parse(crawls[0].startedAt)).toBeLessThan(Date.parse(crawls[2].startedAt))
    expect(crawls[2].responsive).toBe(crawl.json.lastRound.counts.responsive)
    expect(history.json.churn).toHaveLength(2)
    expect(history.json.uptime.peers).toBeGreaterThan(25)
    expect(history.json.lastCrawl.curve.length).toBeGreaterThan(1)

    const html = join(dir, `report-${backend}.html`)
    const page = await runCli(['history', '--db', db, '--html', html])
    expect(page.code, page.stderr).toBe(0)
    expect(page.stdout).toMatch(/history of/)
    const text = readFileSync(html, 'utf8')
    expect(text).toMatch(/^<!doctype html>/i)
    expect(text).not.toMatch(/(src|href)=["']https?:/i)
  }, 180_000)
})

describe('crawl --db failures', () => {
  it('Ctrl-C keeps what was stored and marks the crawl interrupted; exit 130', async () => {
    const db = join(dir, 'interrupted.sqlite')
    const r = await runCli(['crawl', '--testnet', '300', '--strategy', 'exhaustive', '--concurrency', '4', '--db', db, '--ndjson'], {
      timeoutMs: 120_000,
      onSpawn: (child) => {
        let lines = 0
        child.stdout!.on('data', (d: Buffer) => {
          lines += d.toString().split('\n').length - 1
          if (lines >= 30 && lines - (d.toString().split('\n').length - 1) < 30) child.kill('SIGINT')
        })
      },
    })
    expect(r.code, r.stderr).toBe(130)
    const history = await runCli(['history', '--db', db, '--json'])
    expect(history.code, history.stderr).toBe(0)
    expect(history.json.crawls).toHaveLength(1)
    expect(history.json.crawls[0]).toMatchObject({interrupted: true, state: 'cancelled'})
    expect(history.json.crawls[0].discovered).toBeGreaterThanOrEqual(30)
  }, 150_000)

  it('an unreachable PostgreSQL fails before crawling (exit 4); a bad URL exits 2; a newer schema exits 6', async () => {
    const down = await runCli(['crawl', '--testnet', '10', '--db', 'postgres://waku@127.0.0.1:1/none', '--out', join(dir, 'never.json')])
    expect(down.code, down.stderr).toBe(4)
    expect(down.stderr).toMatch(/127\.0\.0\.1:1/)
    expect(existsSync(join(dir, 'never.json'))).toBe(false)
    const bad = await runInProcess(['history', '--db', 'mysql://x@y/z'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/unsupported database URL scheme/)

    const newer = join(dir, 'newer.sqlite')
    const {DatabaseSync} = await import('node:sqlite')
    const made = await runInProcess(['history', '--db', newer, '--json'])
    expect(made.code, made.stderr).toBe(0)
    expect(made.json.crawls).toEqual([])
    const handle = new DatabaseSync(newer)
    handle.exec("UPDATE waku_disc_meta SET value = '7' WHERE key = 'schema_version'")
    handle.close()
    const refused = await runInProcess(['history', '--db', newer])
    expect(refused.code).toBe(6)
    expect(refused.stderr).toMatch(/schema version 7/)
  }, 120_000)

  it('a PostgreSQL server killed mid-crawl: typed error (exit 4), --out still written, committed rows kept', async () => {
    const server = await startPostgres('dying')
    try {
      const out = join(dir, 'dying.json')
      const r = await runCli(['crawl', '--testnet', '300', '--strategy', 'exhaustive', '--concurrency', '8', '--db', server.url, '--out', out, '--ndjson'], {
        timeoutMs: 150_000,
        onSpawn: (child) => {
          let lines = 0
          let killed = false
          child.stdout!.on('data', (d: Buffer) => {
            lines += d.toString().split('\n').length - 1
            if (lines >= 40 && !killed) {
              killed = true
              // Give the recorder's 1 s flush a chance to commit, then kill the server.
              setTimeout(() => void server.kill(), 1500)
            }
          })
        },
      })
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr).toMatch(/DB_UNREACHABLE|terminat|connect/i)
      expect(existsSync(out)).toBe(true)
      expect(Object.keys(JSON.parse(readFileSync(out, 'utf8'))).length).toBeGreaterThan(100)
      await server.restart()
      const history = await runCli(['history', '--db', server.url, '--json'])
      expect(history.code, history.stderr).toBe(0)
      expect(history.json.crawls).toHaveLength(1)
      expect(history.json.crawls[0].interrupted).toBe(true)
      expect(history.json.uptime.peers).toBe(0)
    } finally {
      await server.stop()
    }
  }, 180_000)
})
