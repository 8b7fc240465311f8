/**
 * Network presets: the clusters nwaku (now logos-delivery) ships in `waku/factory/networks_config.nim`,
 * as of its 2026 version: The Waku Network (cluster 1, 8 autoshards, discv5 bootstrap records),
 * the Logos dev and test networks (cluster 2, 8 autoshards; they bootstrap from libp2p entry
 * nodes, not discv5 records, so a crawl needs --bootnode), and Status's production fleet
 * (cluster 16, its boot.prod DNS tree). A preset sets bootstrap, cluster and the expected shards;
 * `presetFinding` says why a record is outside it.
 */
import type {RecordView} from './view.js'

export interface NetworkPreset {
  name: string
  description: string
  cluster: number
  /** Autosharding: valid shards are 0…numShards-1; undefined = not checked (static sharding). */
  numShards?: number
  /** discv5 bootstrap records, when the network publishes them. */
  bootnodes: readonly string[]
  /** An EIP-1459 tree of the fleet, when published. */
  enrtree?: string
  /** Where the values come from. */
  source: string
}

// logos-delivery waku/factory/networks_config.nim, TheWakuNetworkConf (fleet re-keyed in 2026).
const TWN_BOOTNODES = [
  'enr:-QESuED0qW1BCmF-oH_ARGPr97Nv767bl_43uoy70vrbah3EaCAdK3Q0iRQ6wkSTTpdrg_dU_NC2ydO8leSlRpBX4pxiAYJpZIJ2NIJpcIRA4VDAim11bHRpYWRkcnO4XAArNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwAtNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOTd-h5owwj-cx7xrmbvQKU8CV3Fomfdvcv1MBc-67T5oN0Y3CCdl-DdWRwgiMohXdha3UyDw',
  'enr:-QEkuED9X80QF_jcN9gA2ZRhhmwVEeJnsg_Hyg7IFCTYnZD0BDI7a8HArE61NhJZFwygpHCWkgwSt2vqiABXkBxzIqZBAYJpZIJ2NIJpcIQiQlleim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQPFAS8zz2cg1QQhxMaK8CzkGQ5wdHvPJcrgLzJGOiHpwYN0Y3CCdl-DdWRwgiMohXdha3UyDw',
  'enr:-QEkuEBfEzJm_kigJ2HoSS_RBFJYhKHocGdkhhBr6jSUAWjLdFPp6Pj1l4yiTQp7TGHyu1kC6FyaU573VN8klLsEm-XuAYJpZIJ2NIJpcIQI2SVcim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOwsS69tgD7u1K50r5-qG5hweuTwa0W26aYPnvivpNlrYN0Y3CCdl-DdWRwgiMohXdha3UyDw',
]

export const NETWORK_PRESETS: Record<string, NetworkPreset> = {
  twn: {
    name: 'twn',
    description: 'The Waku Network: cluster 1, 8 autoshards, RLN',
    cluster: 1,
    numShards: 8,
    bootnodes: TWN_BOOTNODES,
    enrtree: 'enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im',
    source: 'logos-delivery waku/factory/networks_config.nim TheWakuNetworkConf',
  },
  'logos-dev': {
    name: 'logos-dev',
    description: 'Logos Dev Network: cluster 2, 8 autoshards, mix (bootstraps from libp2p entry nodes: give --bootnode)',
    cluster: 2,
    numShards: 8,
    bootnodes: [],
    source: 'logos-delivery waku/factory/networks_config.nim LogosDevConf',
  },
  'logos-test': {
    name: 'logos-test',
    description: 'Logos Test Network: cluster 2, 8 autoshards, mix (bootstraps from libp2p entry nodes: give --bootnode)',
    cluster: 2,
    numShards: 8,
    bootnodes: [],
    source: 'logos-delivery waku/factory/networks_config.nim LogosTestConf',
  },
  status: {
    name: 'status',
    description: "Status's production fleet (status.prod): cluster 16, static shards (not checked)",
    cluster: 16,
    bootnodes: [],
    enrtree: 'enrtree://AMOJVZX4V6EXP7NTJPMAYJYST2QP6AJXYW76IU6VGJS7UVSNDYZG4@boot.prod.status.nodes.status.im',
    source: 'status-im/infra-status README (boot.prod tree); cluster 16 from nwaku/Nebula presets',
  },
}

export const PRESET_NAMES = Object.keys(NETWORK_PRESETS)

/** Why a record is outside a preset: no Waku shards, another cluster, or a shard past the cluster's count. */
export type PresetFindingCode = 'NO_SHARDS' | 'WRONG_CLUSTER' | 'SHARD_OUT_OF_RANGE'

export function presetFinding(view: Pick<RecordView, 'waku'>, preset: NetworkPreset): {code: PresetFindingCode; message: string} | undefined {
  const w = view.waku
  if (w?.cluster === undefined) return {code: 'NO_SHARDS', message: `no rs/rsv field: not announced on cluster ${preset.cluster}`}
  if (w.cluster !== preset.cluster) return {code: 'WRONG_CLUSTER', message: `cluster ${w.cluster}, not ${preset.name}'s ${preset.cluster}`}
  if (preset.numShards !== undefined) {
    const out = (w.shards ?? []).filter((s) => s >= preset.numShards!)
    if (out.length > 0) return {code: 'SHARD_OUT_OF_RANGE', message: `shards ${out.join(',')} are outside ${preset.name}'s 0–${preset.numShards - 1}`}
  }
  return undefined
}
