import {Flags} from '@oclif/core'

import {createTxtResolver, type TxtResolver} from '../lib/dns/index.js'

/**
 * The resolver flags of the commands that look trees up (`dns-tree resolve|verify|diff`). They live
 * here, not in src/commands/dns-tree/: oclif takes every file in the commands folder for a command.
 */
export const resolverFlags = {
  server: Flags.string({description: 'ask this DNS server directly (HOST:PORT; UDP, TCP when truncated)', env: 'WAKU_DISC_DNS_SERVER', exclusive: ['doh']}),
  doh: Flags.string({description: 'DNS-over-HTTPS endpoint (RFC 8484), e.g. https://cloudflare-dns.com/dns-query', env: 'WAKU_DISC_DOH', exclusive: ['server']}),
  concurrency: Flags.integer({description: 'lookups in flight at once', default: 16, min: 1, max: 1024}),
  rate: Flags.integer({description: 'lookups per second (0 = unlimited; public resolvers throttle, geth uses 3)', default: 100, min: 0}),
  'query-timeout': Flags.integer({description: 'per-lookup timeout in ms', default: 2500, min: 1}),
}

/** The TXT resolver the {@link resolverFlags} ask for (the system resolver when neither --server nor --doh is given). */
export function resolverFrom(f: {server?: string; doh?: string; 'query-timeout': number}): TxtResolver {
  return createTxtResolver({server: f.server, doh: f.doh, timeoutMs: f['query-timeout']})
}
