// Capability checks (`caps`): identify, metadata, ping, ENR cross-check, fleets.
export * from './check.js'
export * from './fleet.js'
export * from './metadata-codec.js'
export * from '../libp2p/index.js'
