/**
 * TXT lookups for tree resolution, behind one small interface (txt-resolver.ts) so callers inject
 * what they need: the system resolver (system-resolver.ts), a given server, UDP with TCP when the
 * answer is truncated (server-resolver.ts), or DNS-over-HTTPS (doh-resolver.ts, RFC 8484). This
 * file picks one for the command-line flags and re-exports them all, with the rate limiter.
 */
import {BadInputError} from '../errors.js'
import {DohTxtResolver} from './doh-resolver.js'
import {ServerTxtResolver, parseServerAddress} from './server-resolver.js'
import {SystemTxtResolver} from './system-resolver.js'
import type {TxtResolver} from './txt-resolver.js'

export {txtOf, type ResolverCounters, type TxtQueryOptions, type TxtResolver} from './txt-resolver.js'
export {ServerTxtResolver, parseServerAddress, type ServerAddress, type ServerResolverOptions} from './server-resolver.js'
export {SystemTxtResolver} from './system-resolver.js'
export {DohTxtResolver} from './doh-resolver.js'
export {RateLimiter} from './rate-limiter.js'

/** Picks the resolver for `--server` / `--doh` / neither. */
export function createTxtResolver(options: {server?: string; doh?: string; timeoutMs?: number; tcp?: boolean}): TxtResolver {
  if (options.server && options.doh) throw new BadInputError('DNS_RESOLVER_CONFLICT', '--server and --doh cannot be used together')
  if (options.server) return new ServerTxtResolver(parseServerAddress(options.server), {timeoutMs: options.timeoutMs, tcpOnly: options.tcp})
  if (options.doh) return new DohTxtResolver(options.doh, {timeoutMs: options.timeoutMs})
  return new SystemTxtResolver({timeoutMs: options.timeoutMs})
}
