/**
 * HTTP for JSON/XML APIs (undici), shared by the DNS publish targets (Cloudflare, Route 53) and
 * DNS-over-HTTPS (`readBodyLimited`): JSON or XML bodies, 429 honoured with Retry-After
 * (seconds or HTTP date, capped), 5xx and connection errors retried with exponential backoff and
 * jitter (0.5 s → 8 s, like the Cloudflare and AWS SDKs). Credentials travel only in headers
 * and never appear in errors.
 */
import {request} from 'undici'

import {ConfigError, ProtocolError, UnreachableError, abortError} from '../errors.js'

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  /** Retries after the first attempt (default 5). */
  retries?: number
  /** Base backoff in ms (default 500); tests make it small. */
  backoffMs?: number
  /** Longest Retry-After honoured, ms (default 60 s). */
  maxRetryAfterMs?: number
  onRetry?: (info: {status?: number; attempt: number; waitMs: number}) => void
}

/** Longest API response body read (a Cloudflare page of 5,000 records is about 2 MB). */
export const MAX_API_BODY_BYTES = 32 * 1024 * 1024

/**
 * Reads a response body up to `max` bytes; a longer one is cut off with a ProtocolError instead of
 * being buffered without bound (a broken or hostile endpoint could stream forever).
 */
export async function readBodyLimited(body: AsyncIterable<Uint8Array> & {destroy?: (error?: Error) => unknown}, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > max) {
      body.destroy?.()
      throw new ProtocolError('DNS_RESPONSE_TOO_LARGE', `${what}: response body over ${max} bytes`)
    }
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks)
}

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export async function httpRequest(url: string, what: string, options: HttpOptions = {}): Promise<HttpResult> {
  const retries = options.retries ?? 5
  const base = options.backoffMs ?? 500
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw abortError(options.signal, what)
    let status: number | undefined
    let headers: HttpResult['headers'] = {}
    let text = ''
    let networkError: Error | undefined
    try {
      const r = await request(url, {method: (options.method ?? 'GET') as 'GET', headers: options.headers, body: options.body, signal: options.signal, headersTimeout: 30_000, bodyTimeout: 30_000})
      status = r.statusCode
      headers = r.headers
      text = (await readBodyLimited(r.body, MAX_API_BODY_BYTES, what)).toString('utf8')
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal, what)
      if (error instanceof ProtocolError) throw error
      networkError = error as Error
    }
    const retryable = networkError !== undefined || status === 429 || (status !== undefined && status >= 500)
    if (!retryable) {
      if (status === 401 || status === 403) throw new ConfigError('DNS_API_AUTH', `${what}: HTTP ${status} (${summarize(text)})`, {hint: 'check the API token/keys and their permissions'})
      return {status: status!, headers, text}
    }
    if (attempt >= retries) {
      if (networkError) throw new UnreachableError('DNS_API_UNREACHABLE', `${what}: ${(networkError as NodeJS.ErrnoException).code ?? networkError.message} after ${attempt + 1} attempts`, {cause: networkError})
      throw new UnreachableError('DNS_API_UNAVAILABLE', `${what}: HTTP ${status} after ${attempt + 1} attempts (${summarize(text)})`)
    }
    let waitMs = Math.min(8000, base * 2 ** attempt) * (0.75 + Math.random() * 0.25)
    if (status === 429) {
      const after = retryAfterMs(headers['retry-after'])
      if (after !== undefined) waitMs = Math.min(after, options.maxRetryAfterMs ?? 60_000)
    }
    options.onRetry?.({status, attempt: attempt + 1, waitMs})
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort)
        resolve()
      }, waitMs)
      const onAbort = (): void => {
        clearTimeout(t)
        reject(abortError(options.signal!, what))
      }
      options.signal?.addEventListener('abort', onAbort, {once: true})
    })
  }
}

/** Retry-After: delta seconds or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || v.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

function summarize(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim()
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || 'empty body'
}

export function parseJson(text: string, what: string): any {
  try {
    return JSON.parse(text)
  } catch {
    throw new ProtocolError('DNS_API_BAD_RESPONSE', `${what}: the answer is not JSON (${summarize(text)})`)
  }
}

/** Waits `ms`, or rejects with the typed abort error. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(abortError(signal!, 'publishing'))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
