// NAT traversal: port-mapping protocols (PCP, NAT-PMP).
export * from './pcp.js'
export * from './natpmp.js'
