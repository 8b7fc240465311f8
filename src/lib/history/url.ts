/**
 * `--db` values: `sqlite:PATH`, a bare path (SQLite), or `postgres://…` / `postgresql://…`.
 */
import {BadInputError} from '../errors.js'

export type DatabaseTarget = {backend: 'sqlite'; path: string} | {backend: 'postgres'; url: string}

export function parseDatabaseUrl(text: string): DatabaseTarget {
  const value = text.trim()
  if (value === '') throw new BadInputError('BAD_DB_URL', 'empty --db value', {hint: 'give sqlite:PATH, a file path, or postgres://user@host:port/db'})
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      // Validates the shape; pg parses it again itself.
      const url = new URL(value)
      if (!url.hostname && !url.searchParams.get('host')) throw new Error('no host')
    } catch (error) {
      throw new BadInputError('BAD_DB_URL', `cannot parse the PostgreSQL URL: ${(error as Error).message}`, {hint: 'postgres://user:password@host:port/database'})
    }
    return {backend: 'postgres', url: value}
  }
  if (/^sqlite:/i.test(value)) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '') throw new BadInputError('BAD_DB_URL', 'sqlite: needs a file path, e.g. sqlite:crawls.sqlite')
    return {backend: 'sqlite', path}
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new BadInputError('BAD_DB_URL', `unsupported database URL scheme in ${redactDatabaseUrl(value)}`, {hint: 'use sqlite:PATH or postgres://…'})
  }
  return {backend: 'sqlite', path: value}
}

/** The URL with any password replaced, for messages and reports. */
export function redactDatabaseUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

export function describeTarget(target: DatabaseTarget): string {
  return target.backend === 'sqlite' ? `sqlite:${target.path}` : redactDatabaseUrl(target.url)
}
