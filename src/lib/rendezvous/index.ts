// Waku rendezvous (libp2p rendezvous with WakuPeerRecord): codec, signed records, client and point.
export * from './codec.js'
export * from './record.js'
export * from './client.js'
export * from './cookie.js'
export * from './registry.js'
export * from './server.js'
export * from './register.js'
