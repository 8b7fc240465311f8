import {BadInputError} from '../errors.js'

/** Which discovery DHT to speak. Waku's is a separate DHT with its own packet protocol id. */
export type DiscoveryNetwork = 'waku' | 'ethereum'

/** 6-byte protocol ids of the discv5 static header. */
export const PROTOCOL_IDS: Readonly<Record<DiscoveryNetwork, string>> = {
  /** 33/WAKU2-DISCV5: nwaku (-d:discv5_protocol_id=d5waku), go-waku (V5ProtocolID). */
  waku: 'd5waku',
  /** Ethereum's discv5 (https://github.com/ethereum/devp2p/blob/master/discv5/discv5-wire.md). */
  ethereum: 'discv5',
}

/** The protocol id for a network, or the explicit one (must be exactly 6 ASCII bytes). */
export function resolveProtocolId(network: DiscoveryNetwork = 'waku', explicit?: string): string {
  if (explicit === undefined) return PROTOCOL_IDS[network]
  if (!/^[\x21-\x7e]{6}$/.test(explicit)) {
    throw new BadInputError('BAD_PROTOCOL_ID', `protocol id must be exactly 6 printable ASCII characters: ${JSON.stringify(explicit)}`, {
      hint: "use 'd5waku' (Waku) or 'discv5' (Ethereum)",
    })
  }
  return explicit
}
