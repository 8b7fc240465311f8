/** The `nat portmap` report: plain JSON-safe objects, one per port-mapping protocol. */

export type PortMapProtocolName = 'upnp' | 'natpmp' | 'pcp'
export const PORTMAP_PROTOCOLS: readonly PortMapProtocolName[] = ['upnp', 'natpmp', 'pcp']

export type TransportProtocol = 'udp' | 'tcp'

export interface PortMapError {
  /** Our error code (GATEWAY_TIMEOUT, UPNP_SOAP_FAULT, NATPMP_RESULT, PCP_RESULT, …). */
  code: string
  message: string
  /** The protocol's own code: UPnP errorCode, NAT-PMP or PCP result code. */
  resultCode?: number
  /** Its name: 718 → ConflictInMappingEntry, NAT-PMP 2 → NOT_AUTHORIZED, PCP 8 → NO_RESOURCES. */
  resultName?: string
}

export interface MappingReadBack {
  /** The gateway still knows the mapping, with the same external port. */
  ok: boolean
  /** How it was read: UPnP GetSpecificPortMappingEntry, NAT-PMP/PCP a renewal of the same request. */
  method: 'GetSpecificPortMappingEntry' | 'renewal'
  internalAddress?: string
  internalPort?: number
  externalPort?: number
  lifetime?: number
  error?: PortMapError
}

export interface MappingReport {
  protocol: TransportProtocol
  internalAddress: string
  internalPort: number
  /** The external port the gateway assigned (may differ from the one asked for). */
  externalPort: number
  requestedExternalPort: number
  /** Seconds granted (0 = the gateway gave a permanent mapping, UPnP only). */
  lifetime: number
  requestedLifetime: number
  readBack?: MappingReadBack
  /** true = removed after the test, false = removal failed (see removeError), 'kept' = --keep. */
  removed: boolean | 'kept'
  removeError?: PortMapError
}

export interface UpnpDevice {
  /** The LOCATION of the description the gateway announced. */
  location: string
  server?: string
  searchTarget?: string
  friendlyName?: string
  manufacturer?: string
  modelName?: string
  /** WANIPConnection:1/2 or WANPPPConnection:1. */
  serviceType?: string
  controlUrl?: string
}

export interface ProtocolReport {
  protocol: PortMapProtocolName
  /** false when left out by --protocols: nothing of this protocol was sent. */
  tried: boolean
  /** null when not tried. */
  supported: boolean | null
  /** host:port that answered (NAT-PMP/PCP) or the description URL (UPnP). */
  server?: string
  /** The external address the gateway reported, verbatim. */
  externalAddress?: string
  /** NAT-PMP/PCP seconds since the gateway's mapping state began. */
  epoch?: number
  /** PCP answered with version 0 (a NAT-PMP-only gateway) or the reverse. */
  versionNote?: string
  device?: UpnpDevice
  mapping?: MappingReport
  error?: PortMapError
  /** Round trip of the first answer. */
  rttMs?: number
  /** Wall time of this protocol's whole probe. */
  ms: number
}

export interface EnrAddressCheck {
  enr: {ip?: string; tcp?: number; udp?: number; ip6?: string}
  /** The external address the gateways reported (first that answered). */
  externalAddress?: string
  externalPort?: number
  findings: Array<{level: 'ok' | 'warn' | 'error'; message: string}>
  /** What a peer dials: discv5 uses ip:udp, libp2p uses ip:tcp (unless `multiaddrs` say otherwise). */
  peersWillUse: {discv5?: string; libp2p?: string}
}

export interface PortMapReport {
  gateway: string
  /** How the gateway was found: --gateway, the default route, or SSDP. */
  gatewaySource: 'flag' | 'default-route' | 'ssdp' | 'none'
  request: {protocol: TransportProtocol; port: number; lifetime: number; keep: boolean; internalAddress?: string}
  protocols: Record<PortMapProtocolName, ProtocolReport>
  enrCheck?: EnrAddressCheck
  verdict: string
  /** 0 at least one protocol mapped the port, 3 none did, 4 no gateway answered. */
  exitCode: 0 | 3 | 4
  ms: number
}
