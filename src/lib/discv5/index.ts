// discv5 crawling: the crawl engine, protocol ids, node factory, analysis and the Waku bootstrap.
export * from './protocol.js'
export * from './bootstrap.js'
export * from './analysis.js'
export * from './crawl.js'
export * from './view.js'
export {installDiscv5Crypto, installEnrVerifyCache, enrCacheStats} from './crypto-cache.js'
export {GuardedTransport, startNode, udpMultiaddr, makeTimeoutsLagTolerant} from './node.js'
export type {CreateNodeOptions, GuardedTransportInit, SendObservation, StartedNode, WireCounters} from './node.js'
