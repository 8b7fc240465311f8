// discv5 crawling: the crawl engine, protocol ids, node factory, analysis and the Waku bootstrap.
export * from './protocol.js'
export * from './bootstrap.js'
export * from './presets.js'
export * from './analysis.js'
export * from './crawl.js'
export * from './view.js'
export {
  DISCV5_ADAPTER_MISMATCH,
  PINNED_DISCV5_VERSION,
  assertDiscv5Adapter,
  discv5CryptoBackend,
  enrCacheStats,
  installDiscv5Crypto,
  installEnrVerifyCache,
  isRequestTimeout,
  makeTimeoutsLagTolerant,
} from './adapter/index.js'
export type {RequestTimerOptions, TimeoutPhase} from './adapter/index.js'
export {GuardedTransport, startNode, udpMultiaddr} from './node.js'
export type {CreateNodeOptions, GuardedTransportInit, SendObservation, StartedNode, WireCounters} from './node.js'
export * from './output.js'
export * from './state.js'
export * from './monitor.js'
