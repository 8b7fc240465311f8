// libp2p client pieces shared by px, caps and doctor.
export * from './node.js'
export * from './protocols.js'
export {DEFAULT_TIMEOUTS, dialTarget, openStream, pingConnection, stepSignal, withPeerLock, type Dialled, type StepTimeouts} from './session.js'
export * from './stream.js'
export * from './target.js'
export {ProtobufDecodeError, encodeVarint, lengthPrefixed, readFields, readVarint} from './protobuf.js'
