// Test records: real signed ENRs made with the project's encoder from deterministic keys.
import {encodeEnr, type EnrRecord, type WakuCapability} from '../../../src/lib/enr/index.js'
import {keccak256} from '../../../src/lib/keys/index.js'

/** A deterministic valid secp256k1 private key for index i. */
export function testKey(i: number): Uint8Array {
  return keccak256(new TextEncoder().encode(`waku-disc dns test key ${i}`))
}

export interface RecordSpec {
  waku2?: WakuCapability[]
  cluster?: number
  shards?: number[]
  seq?: bigint
}

/** A signed record for node i (127.0.0.x address, udp/tcp ports). */
export function testRecord(i: number, spec: RecordSpec = {}): EnrRecord {
  return encodeEnr({
    privateKey: testKey(i),
    seq: spec.seq ?? 1n,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    udp: 9000 + (i % 1000),
    tcp: 60000,
    ...(spec.waku2 ? {waku2: spec.waku2} : {}),
    ...(spec.cluster !== undefined ? {cluster: spec.cluster, shards: spec.shards ?? [0]} : {}),
  })
}

export function testRecords(n: number, spec: (i: number) => RecordSpec = () => ({})): EnrRecord[] {
  return Array.from({length: n}, (_, i) => testRecord(i, spec(i)))
}

import {encodeRlp} from '../../../src/lib/rlp/index.js'
import {publicKeyOf, signDigest} from '../../../src/lib/keys/index.js'
import {base64urlnopad} from '@scure/base'
import {formatLink, formatRoot, rootSigningHash, subdomainOf} from '../../../src/lib/dns/tree.js'

/** A correctly signed v4 record whose RLP is over 300 bytes (encoders refuse to make one). */
export function oversizeRecordText(i: number): string {
  const key = testKey(i)
  const kv: [string, Uint8Array][] = [
    ['id', new TextEncoder().encode('v4')],
    ['secp256k1', publicKeyOf(key)],
    ['z', new Uint8Array(260).fill(7)],
  ]
  const content = [1n, ...kv.flatMap(([k, v]) => [k, v])] as any[]
  const digest = keccak256(encodeRlp(content))
  const sig = new Uint8Array(signDigest(digest, key).subarray(0, 64))
  return 'enr:' + base64urlnopad.encode(encodeRlp([sig, ...content]))
}

/**
 * A hand-assembled signed zone: `entries` are TXT texts stored under their own hashes (or under
 * the name given in `at`), the root points at `eroot`/`lroot` hashes. For broken-tree tests.
 */
export function handZone(options: {key: Uint8Array; domain: string; seq: bigint; eroot: string; lroot: string; entries: string[]; at?: Record<string, string>}): {url: string; txt: Record<string, string>} {
  const root: {eroot: string; lroot: string; seq: bigint; signature: Uint8Array} = {eroot: options.eroot, lroot: options.lroot, seq: options.seq, signature: new Uint8Array()}
  root.signature = signDigest(rootSigningHash(root), options.key)
  const txt: Record<string, string> = {[options.domain]: formatRoot(root)}
  for (const e of options.entries) txt[`${subdomainOf(e)}.${options.domain}`] = e
  for (const [hash, e] of Object.entries(options.at ?? {})) txt[`${hash}.${options.domain}`] = e
  return {url: formatLink(publicKeyOf(options.key), options.domain), txt}
}
