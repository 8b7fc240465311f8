// Visits: dial every crawled peer over libp2p (identify, metadata, ping) and check its ENR's claims.
export * from './classes.js'
export * from './findings.js'
export * from './visitor.js'
export * from './summary.js'
