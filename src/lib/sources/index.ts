// Discovery sources beside the DHT (DNS trees, peer exchange, rendezvous) and their comparison.
export * from './gather.js'
export * from './compare.js'
export * from './rendezvous.js'
