// NAT traversal: port-mapping protocols (UPnP IGD, NAT-PMP, PCP) and the `nat portmap` report.
export * from './pcp.js'
export * from './natpmp.js'
export * from './types.js'
export {portmap, checkEnrAgainst, defaultGatewayFromRouteTable, type PortMapOptions} from './portmap.js'
export {ssdpSearch, parseSsdpAnswer, encodeMSearch, SSDP_ADDRESS, SSDP_PORT, type SsdpAnswer} from './ssdp.js'
export {describeGateway, soapAction, upnpErrorName, UPNP_ERROR, WAN_SERVICE_TYPES} from './upnp.js'
export {reach, startRelay, startPunchListener, PUNCH_OUTCOMES, DCUTR_PROTOCOL} from './holepunch.js'
export type {ReachReport, ReachOptions, PunchAttempt, PunchOutcome, DirectDialResult, RelayServer, PunchListener} from './holepunch.js'
