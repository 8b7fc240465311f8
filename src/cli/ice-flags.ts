import {Flags} from '@oclif/core'

import {loadTurnConfig, type TurnConfig} from '../lib/webrtc/credentials.js'

/** The STUN/TURN flags of every WebRTC command (`webrtc probe|pair|listen|dial`). */
export const iceServerFlags = {
  stun: Flags.string({description: 'STUN server URL stun:HOST[:PORT] (repeatable or comma-separated, at most 8).', multiple: true}),
  turn: Flags.string({description: 'TURN server URL turn:HOST[:PORT][?transport=udp] (node-datachannel cannot use TURN over TCP/TLS).'}),
  'turn-user': Flags.string({description: 'TURN username (the password comes from WAKU_DISC_TURN_PASSWORD or --turn-password-file).'}),
  'turn-password-file': Flags.string({description: 'File holding the TURN password (first line).'}),
}

export interface IceServerFlagValues {
  stun?: string[]
  turn?: string
  'turn-user'?: string
  'turn-password-file'?: string
}

/** The TURN configuration the flags describe (password from the file or WAKU_DISC_TURN_PASSWORD). */
export function turnFromFlags(flags: IceServerFlagValues): TurnConfig | undefined {
  return loadTurnConfig({turn: flags.turn, user: flags['turn-user'], passwordFile: flags['turn-password-file'], passwordEnv: process.env.WAKU_DISC_TURN_PASSWORD})
}
