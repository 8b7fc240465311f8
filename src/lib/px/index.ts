// 34/WAKU2-PEER-EXCHANGE: codec, client (`px query`) and responder (`px serve`).
export * from './codec.js'
export * from './query.js'
export * from './server.js'
