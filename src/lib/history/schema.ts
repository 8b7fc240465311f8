/**
 * The crawl-history schema, one definition for SQLite and PostgreSQL. Migrations are numbered and
 * applied in order on open; `waku_disc_meta.schema_version` records the newest one applied. A
 * database of a newer version than this build knows is refused rather than guessed at.
 */
import {ConfigError} from '../errors.js'
import type {Dialect, SqlDriver} from './driver.js'

interface Types {
  id: string
  ts: string
  json: string
  bool: string
  real: string
  int: string
}

const TYPES: Record<Dialect, Types> = {
  sqlite: {id: 'INTEGER PRIMARY KEY AUTOINCREMENT', ts: 'TEXT', json: 'TEXT', bool: 'INTEGER', real: 'REAL', int: 'INTEGER'},
  postgres: {id: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', ts: 'TIMESTAMPTZ', json: 'JSONB', bool: 'BOOLEAN', real: 'DOUBLE PRECISION', int: 'BIGINT'},
}

/** Each entry moves the schema from version i to i + 1. */
const MIGRATIONS: Array<(t: Types) => string[]> = [
  (t) => [
    `CREATE TABLE crawls (
      id ${t.id},
      network TEXT NOT NULL,
      protocol_id TEXT NOT NULL,
      strategy TEXT NOT NULL,
      started_at ${t.ts} NOT NULL,
      ended_at ${t.ts},
      state TEXT NOT NULL,
      interrupted ${t.bool} NOT NULL,
      discovered ${t.int} NOT NULL,
      responsive ${t.int} NOT NULL,
      waku ${t.int} NOT NULL,
      settings ${t.json} NOT NULL,
      totals ${t.json},
      curve ${t.json}
    )`,
    `CREATE INDEX crawls_started ON crawls (network, started_at)`,
    `CREATE TABLE peers (
      id ${t.id},
      node_id TEXT NOT NULL UNIQUE,
      peer_id TEXT,
      first_seen ${t.ts} NOT NULL,
      last_seen ${t.ts} NOT NULL,
      latest_seq TEXT NOT NULL,
      latest_enr TEXT NOT NULL
    )`,
    `CREATE INDEX peers_peer_id ON peers (peer_id)`,
    `CREATE TABLE observations (
      crawl_id ${t.int} NOT NULL REFERENCES crawls (id) ON DELETE CASCADE,
      peer_id ${t.int} NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
      status TEXT NOT NULL,
      responsive ${t.bool} NOT NULL,
      seq TEXT NOT NULL,
      enr TEXT,
      ip TEXT,
      udp ${t.int},
      rtt_ms ${t.real},
      refusal TEXT,
      waku ${t.bool} NOT NULL,
      capabilities TEXT,
      shards TEXT,
      sources ${t.json} NOT NULL,
      agent TEXT,
      dial_class TEXT,
      visit ${t.json},
      PRIMARY KEY (crawl_id, peer_id)
    )`,
    `CREATE INDEX observations_peer ON observations (peer_id, crawl_id)`,
    `CREATE TABLE sessions (
      id ${t.id},
      peer_id ${t.int} NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
      network TEXT NOT NULL,
      started_at ${t.ts} NOT NULL,
      last_seen_at ${t.ts} NOT NULL,
      ended_at ${t.ts},
      first_crawl_id ${t.int} NOT NULL,
      last_crawl_id ${t.int} NOT NULL,
      crawls ${t.int} NOT NULL
    )`,
    `CREATE INDEX sessions_open ON sessions (network, ended_at, peer_id)`,
  ],
]

export const SCHEMA_VERSION = MIGRATIONS.length

async function currentVersion(driver: SqlDriver): Promise<number | undefined> {
  const sql =
    driver.dialect === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
  const meta = await driver.query(sql, ['waku_disc_meta'])
  if (meta.length === 0) {
    const others = await driver.query(sql, ['crawls'])
    if (others.length > 0) throw new ConfigError('DB_NOT_WAKU_DISC', `${driver.description} has a crawls table but no waku_disc_meta: not a waku-disc history database`)
    return undefined
  }
  const rows = await driver.query<{value: string}>('SELECT value FROM waku_disc_meta WHERE key = ?', ['schema_version'])
  return rows.length === 0 ? 0 : Number(rows[0]!.value)
}

/** Creates or upgrades the schema; returns the version now in place. */
export async function migrate(driver: SqlDriver): Promise<{version: number; applied: number[]}> {
  const types = TYPES[driver.dialect]
  const applied: number[] = []
  return driver.transaction(async () => {
    let version = await currentVersion(driver)
    if (version !== undefined && version > SCHEMA_VERSION) {
      throw new ConfigError('DB_SCHEMA_NEWER', `${driver.description} has schema version ${version}; this waku-disc knows up to ${SCHEMA_VERSION}`, {
        hint: 'upgrade waku-disc to read it, or give a new --db',
        details: {version, supported: SCHEMA_VERSION},
      })
    }
    if (version === undefined) {
      await driver.exec('CREATE TABLE waku_disc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
      version = 0
    }
    while (version < SCHEMA_VERSION) {
      for (const statement of MIGRATIONS[version]!(types)) await driver.exec(statement)
      version++
      applied.push(version)
    }
    if (applied.length > 0) {
      await driver.query(
        'INSERT INTO waku_disc_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        ['schema_version', String(version)],
      )
    }
    return {version, applied}
  })
}
