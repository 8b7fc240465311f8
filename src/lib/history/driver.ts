/**
 * The two SQL backends behind one small interface, so the store's queries are written once.
 * Queries use `?` placeholders; the PostgreSQL driver numbers them (`$1`, `$2`, …).
 *
 * SQLite is Node's built-in `node:sqlite` (no native dependency to build or approve; the pinned
 * Node 24 ships it). PostgreSQL is `pg`: pure JavaScript, the most used client, and it reports
 * SQLSTATE codes we map to typed errors.
 */
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import type {DatabaseSync, StatementSync} from 'node:sqlite'

import pg from 'pg'

import {BadInputError, ConfigError, UnreachableError, WakuDiscError} from '../errors.js'
import {describeTarget, type DatabaseTarget} from './url.js'

export type SqlValue = string | number | bigint | boolean | null
export type Row = Record<string, unknown>
export type Dialect = 'sqlite' | 'postgres'

export interface SqlDriver {
  readonly dialect: Dialect
  readonly description: string
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>
  exec(script: string): Promise<void>
  /** Runs `fn` in one transaction: all of it commits or none of it does. */
  transaction<T>(fn: () => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** Maps a backend failure to a typed error; `WakuDiscError`s pass through. */
export function databaseError(target: string, error: unknown, doing: string): WakuDiscError {
  if (error instanceof WakuDiscError) return error
  const e = error as {code?: string; errcode?: number; message?: string}
  const message = e.message ?? String(error)
  const code = e.code ?? ''
  // PostgreSQL: 28xxx = authentication, 3D000 = no such database, 42501 = permission.
  if (code.startsWith('28') || code === '3D000' || code === '42501') {
    return new ConfigError('DB_ACCESS_DENIED', `${target}: ${doing}: ${message}`, {cause: error, details: {sqlstate: code}})
  }
  // 08xxx connection exceptions, 57P0x shutdown, 53xxx out of resources; socket errors.
  if (/^(08|57P|53)/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NETUNREACH|TIMEDOUT)$/.test(code) || /Connection terminated|not queryable|Client was closed/i.test(message)) {
    return new UnreachableError('DB_UNREACHABLE', `${target}: ${doing}: ${message}`, {cause: error, details: {code}})
  }
  // SQLite: a file that is not a database, a read-only or vanished file, a full disk.
  if (/file is not a database|SQLITE_NOTADB/i.test(message)) return new ConfigError('DB_NOT_A_DATABASE', `${target} is not an SQLite database`, {cause: error})
  if (/unable to open|SQLITE_CANTOPEN|readonly|disk I\/O|SQLITE_IOERR|SQLITE_FULL|database or disk is full|no such table/i.test(message)) {
    return new UnreachableError('DB_WRITE_FAILED', `${target}: ${doing}: ${message}`, {cause: error})
  }
  return new UnreachableError('DB_FAILED', `${target}: ${doing}: ${message}`, {cause: error, details: {code}})
}

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const
  private readonly statements = new Map<string, StatementSync>()
  constructor(
    private readonly db: DatabaseSync,
    readonly description: string,
  ) {}

  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      const values = params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p))
      const statement = this.prepare(sql)
      // Statements that return no rows (INSERT without RETURNING) must be run, not iterated.
      if (statement.columns().length === 0) {
        statement.run(...values)
        return []
      }
      return statement.all(...values) as T[]
    } catch (error) {
      throw databaseError(this.description, error, 'query failed')
    }
  }

  async exec(script: string): Promise<void> {
    try {
      this.db.exec(script)
    } catch (error) {
      throw databaseError(this.description, error, 'statement failed')
    }
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.exec('BEGIN IMMEDIATE')
    try {
      const result = await fn()
      await this.exec('COMMIT')
      return result
    } catch (error) {
      try {
        this.db.exec('ROLLBACK')
      } catch {
        // The transaction is already gone (the file vanished); the original error says why.
      }
      throw error
    }
  }

  async close(): Promise<void> {
    this.statements.clear()
    try {
      if (this.db.isOpen) this.db.close()
    } catch {
      // Closing a database whose file went away: nothing left to flush.
    }
  }
}

/** Numbers `?` placeholders for PostgreSQL, skipping quoted strings. */
export function numberPlaceholders(sql: string): string {
  let n = 0
  return sql.replace(/'(?:[^']|'')*'|\?/g, (m) => (m === '?' ? `$${++n}` : m))
}

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const
  private broken: Error | undefined
  /** One client serves the store; this chain keeps a transaction's statements together. */
  private queue: Promise<unknown> = Promise.resolve()
  private inTransaction = false

  constructor(
    private readonly client: pg.Client,
    readonly description: string,
  ) {
    // pg emits 'error' when the server goes away between queries; unhandled it would crash.
    client.on('error', (error) => {
      this.broken = error
    })
  }

  private async raw<T extends Row>(sql: string, params: readonly SqlValue[]): Promise<T[]> {
    if (this.broken) throw databaseError(this.description, this.broken, 'connection lost')
    try {
      const values = params.map((p) => (typeof p === 'bigint' ? p.toString() : p))
      const result = await this.client.query(numberPlaceholders(sql), values)
      return result.rows as T[]
    } catch (error) {
      throw databaseError(this.description, error, 'query failed')
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    if (this.inTransaction) return this.raw<T>(sql, params)
    return this.serial(() => this.raw<T>(sql, params))
  }

  async exec(script: string): Promise<void> {
    await this.query(script)
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      await this.raw('BEGIN', [])
      this.inTransaction = true
      try {
        const result = await fn()
        await this.raw('COMMIT', [])
        return result
      } catch (error) {
        await this.raw('ROLLBACK', []).catch(() => undefined)
        throw error
      } finally {
        this.inTransaction = false
      }
    })
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}

// timestamptz → ISO 8601 strings; int8 (counts) → numbers: the store returns JSON-safe rows.
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 1184 || oid === 1114) return (text: string) => new Date(oid === 1114 ? `${text}Z` : text).toISOString()
    if (oid === 20) return (text: string) => Number(text)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

export interface OpenDriverOptions {
  /** Milliseconds to wait for a PostgreSQL connection. */
  connectTimeoutMs?: number
}

export async function openDriver(target: DatabaseTarget, options: OpenDriverOptions = {}): Promise<SqlDriver> {
  const description = describeTarget(target)
  if (target.backend === 'sqlite') {
    if (target.path !== ':memory:') {
      try {
        mkdirSync(dirname(target.path), {recursive: true})
      } catch (error) {
        throw new BadInputError('DB_OPEN_FAILED', `cannot create the folder for ${target.path}: ${(error as Error).message}`)
      }
    }
    // Loaded on use: node:sqlite exists from Node 22.5, and every other command must still run
    // on an older system Node.
    let sqlite: typeof import('node:sqlite')
    try {
      sqlite = await import('node:sqlite')
    } catch {
      throw new ConfigError('SQLITE_UNAVAILABLE', `SQLite history needs node:sqlite (Node ≥ 22.5); this is Node ${process.versions.node}`, {
        hint: 'run waku-disc through npx in its folder (the pinned Node 24), or give a postgres:// --db',
      })
    }
    let db: DatabaseSync
    try {
      db = new sqlite.DatabaseSync(target.path)
    } catch (error) {
      throw new BadInputError('DB_OPEN_FAILED', `cannot open ${description}: ${(error as Error).message}`, {cause: error})
    }
    const driver = new SqliteDriver(db, description)
    // WAL: a reader (history) never blocks the writer (a running crawl); NORMAL sync is durable
    // across process crashes, which is the failure we guard against.
    await driver.exec('PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON')
    await driver.query('PRAGMA journal_mode = WAL')
    await driver.exec('PRAGMA synchronous = NORMAL')
    return driver
  }
  const client = new pg.Client({
    connectionString: target.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: pgTypes,
    application_name: 'waku-disc',
  })
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => undefined)
    throw databaseError(description, error, 'cannot connect')
  }
  const driver = new PostgresDriver(client, description)
  await driver.exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'")
  return driver
}
