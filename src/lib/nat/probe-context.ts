/** What every port-mapping probe needs: where the gateway is, what to map, and the budget. */
import type {TransportProtocol} from './types.js'

export interface ProbeContext {
  /** The gateway's address (NAT-PMP and PCP go to it; UPnP uses SSDP's LOCATION). */
  gateway: string
  /** NAT-PMP and PCP server port (5351 unless --natpmp-port). */
  natPmpPort: number
  protocol: TransportProtocol
  /** Internal port to map (and the external port asked for). */
  port: number
  /** Our address as the gateway sees it; default: the local address of the route to the gateway. */
  internalAddress?: string
  /** Requested mapping lifetime in seconds. */
  lifetime: number
  /** Leave the test mapping in place. */
  keep: boolean
  /** Per exchange (one request and its retransmissions). */
  timeoutMs: number
  signal?: AbortSignal
}
