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
