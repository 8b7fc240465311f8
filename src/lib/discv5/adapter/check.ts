/**
 * The adapter's start-up check: the installed @chainsafe/discv5 is the version the adapter was
 * written against, its install-time patch is applied, and every private member the run-time part
 * relies on exists on a node made by the library's own factory. Anything else throws a ConfigError
 * DISCV5_ADAPTER_MISMATCH that names the pinned version and what is missing; nothing falls back.
 */
import {readFileSync} from 'node:fs'

import * as discv5Entry from '@chainsafe/discv5'
import * as discv5Packet from '@chainsafe/discv5/packet'
import {SignableENR} from '@chainsafe/enr'
import {privateKeyFromRaw} from '@libp2p/crypto/keys'

import {ConfigError} from '../../errors.js'
import {MEMBER_CHECKS} from './internals.js'

/** The @chainsafe/discv5 version the patch and the run-time part were written against. */
export const PINNED_DISCV5_VERSION = '11.0.0'
export const DISCV5_ADAPTER_MISMATCH = 'DISCV5_ADAPTER_MISMATCH'
const PATCH_FILE = `patches/@chainsafe+discv5+${PINNED_DISCV5_VERSION}.patch`
/** The probe node's protocol id: anything but the default shows whether the patch passes it on. */
const PROBE_PROTOCOL_ID = 'd5waku'

/** What the check looks at; installedDiscv5Shape() gives the real one, tests pass altered ones. */
export interface Discv5Shape {
  /** `version` of the package's package.json. */
  version: string | undefined
  /** The package entry's exports. */
  entry: Readonly<Record<string, unknown>>
  /** The exports of `@chainsafe/discv5/packet`. */
  packet: Readonly<Record<string, unknown>>
  /** A node made by `entry.Discv5.create` and not started; made from `entry` when left out. */
  probe?: unknown
}

/** The installed package's version, read from its package.json (which its exports map does not list). */
export function installedDiscv5Version(): string | undefined {
  try {
    const file = new URL('../package.json', import.meta.resolve('@chainsafe/discv5'))
    const version = (JSON.parse(readFileSync(file, 'utf8')) as {version?: unknown}).version
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

export function installedDiscv5Shape(): Discv5Shape {
  return {version: installedDiscv5Version(), entry: discv5Entry, packet: discv5Packet}
}

/** A node with an IPv4 bind address and the library's own transport; nothing is bound. */
function makeProbe(entry: Discv5Shape['entry']): unknown {
  const Discv5 = entry['Discv5'] as typeof discv5Entry.Discv5
  const toMultiaddr = entry['multiaddrFromSocketAddress'] as typeof discv5Entry.multiaddrFromSocketAddress
  const key = new Uint8Array(32).fill(7)
  return Discv5.create({
    enr: SignableENR.createV4(key),
    privateKey: privateKeyFromRaw(key) as never,
    bindAddrs: {ip4: toMultiaddr({ip: {type: 4, octets: Uint8Array.of(127, 0, 0, 1)}, port: 0})} as never,
    config: {protocolId: PROBE_PROTOCOL_ID},
  })
}

const isFunction = (x: unknown): boolean => typeof x === 'function'
const field = (x: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => ((typeof o === 'object' && o !== null) || typeof o === 'function' ? (o as Record<string, unknown>)[k] : undefined), x)

/** Every mismatch between `shape` and what the adapter needs (empty: it fits). */
export function discv5AdapterProblems(shape: Discv5Shape): string[] {
  const problems: string[] = []
  if (shape.version !== PINNED_DISCV5_VERSION) problems.push(`installed version is ${shape.version ?? 'unknown'}`)
  const {entry, packet} = shape
  for (const name of ['Discv5', 'UDPTransportService', 'multiaddrFromSocketAddress', 'CodeError']) {
    if (!isFunction(entry[name])) problems.push(`the package exports no ${name}`)
  }
  if (!isFunction(field(entry, 'Discv5', 'create'))) problems.push('no Discv5.create')
  if (field(entry, 'RequestErrorType', String(field(entry, 'RequestErrorType', 'Timeout'))) !== 'Timeout') {
    problems.push('no RequestErrorType.Timeout (the code of a timed-out request)')
  }
  // The patch: the exported session-crypto hook and the protocol id.
  for (const name of ['getDiscv5Crypto', 'setDiscv5Crypto']) {
    if (!isFunction(entry[name])) problems.push(`the package exports no ${name} (not patched)`)
  }
  if (!isFunction(packet['assertProtocolId']) || packet['DEFAULT_PROTOCOL_ID'] !== 'discv5') problems.push('@chainsafe/discv5/packet has no protocol id (not patched)')
  if (!isFunction(packet['encodePacket'])) problems.push('@chainsafe/discv5/packet exports no encodePacket')
  let probe = shape.probe
  if (probe === undefined) {
    try {
      probe = makeProbe(entry)
    } catch (error) {
      problems.push(`cannot create a node to inspect (${(error as Error).message})`)
      return problems
    }
  }
  if (field(probe, 'sessionService', 'protocolId') !== PROBE_PROTOCOL_ID || field(probe, 'sessionService', 'transport', 'protocolId') !== PROBE_PROTOCOL_ID) {
    problems.push('a node ignores config.protocolId (not patched)')
  }
  for (const {check} of MEMBER_CHECKS) {
    const problem = check(probe)
    if (problem !== undefined) problems.push(problem)
  }
  return problems
}

/** Throws ConfigError DISCV5_ADAPTER_MISMATCH when `shape` does not fit the adapter. */
export function checkDiscv5Shape(shape: Discv5Shape): void {
  const problems = discv5AdapterProblems(shape)
  if (problems.length === 0) return
  throw new ConfigError(DISCV5_ADAPTER_MISMATCH, `@chainsafe/discv5 does not match the adapter written for ${PINNED_DISCV5_VERSION}: ${problems.join('; ')}`, {
    hint: `install @chainsafe/discv5 ${PINNED_DISCV5_VERSION} with its lifecycle scripts on (npm install runs patch-package, which applies ${PATCH_FILE})`,
    details: {pinned: PINNED_DISCV5_VERSION, installed: shape.version ?? null, problems},
  })
}

let verdict: {error?: unknown} | undefined

/** Checks the installed library once per process (later calls repeat the first verdict). */
export function assertDiscv5Adapter(): void {
  verdict ??= (() => {
    try {
      checkDiscv5Shape(installedDiscv5Shape())
      return {}
    } catch (error) {
      return {error}
    }
  })()
  if (verdict.error !== undefined) throw verdict.error
}
