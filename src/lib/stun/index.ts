// STUN (RFC 5389/8489, RFC 5780): message codec, a small Binding client, NAT behaviour discovery
// and a server.
export * from './message.js'
export {formatHostPort, parseHostPort as parseListenAddress, type HostPort as ListenAddress} from './endpoint.js'
export * from './client.js'
export * from './behavior.js'
export * from './server.js'
