// EIP-1459 DNS discovery trees: build, sign, verify, resolve, diff, serve and publish.
export * from './tree.js'
export * from './directory.js'
export * from './resolvers.js'
export * from './client.js'
export * from './server.js'
export * from './verify.js'
export * from './publish/index.js'
