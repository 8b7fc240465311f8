import {BadInputError, ConfigError} from '../errors.js'
import {readSecretFileSync} from '../secrets.js'
import {parseStunUrl, parseTurnUrl, splitList, stunIceServer, turnIceServer, type IceServerSpec, type StunServerUrl, type TurnServerUrl} from './ice.js'

export interface TurnInput {
  turn?: string
  user?: string
  passwordFile?: string
  /** Value of WAKU_DISC_TURN_PASSWORD (passed in so the library never reads the environment itself). */
  passwordEnv?: string
}

export interface TurnConfig {
  server: TurnServerUrl
  username: string
  password: string
}

/**
 * Builds the TURN settings from flags. The password only ever comes from the environment or a file
 * (never a flag, which would show in `ps` and shell history) and is never echoed back.
 */
export function loadTurnConfig(input: TurnInput): TurnConfig | undefined {
  if (!input.turn) {
    if (input.user) throw new BadInputError('TURN_USER_WITHOUT_TURN', '--turn-user given without --turn')
    return undefined
  }
  const server = parseTurnUrl(input.turn)
  if (!input.user) throw new BadInputError('TURN_NEEDS_USER', '--turn needs --turn-user (TURN servers require long-term credentials)')
  if (input.user.length > 256 || /[\x00-\x1f]/.test(input.user)) throw new BadInputError('BAD_TURN_USER', '--turn-user must be at most 256 printable characters')
  let password: string | undefined
  // lib/secrets.ts rules (first line, size cap); permissions not checked: no warning channel here yet.
  if (input.passwordFile) password = readSecretFileSync(input.passwordFile, {what: '--turn-password-file', code: 'TURN_PASSWORD_FILE', permissions: 'ignore'})
  else password = input.passwordEnv
  if (password === undefined || password === '') {
    throw new ConfigError('TURN_NO_PASSWORD', 'no TURN password: set WAKU_DISC_TURN_PASSWORD or pass --turn-password-file', {
      hint: 'export WAKU_DISC_TURN_PASSWORD=… (the password is never accepted as a flag)',
    })
  }
  if (/[\x00-\x1f]/.test(password)) throw new ConfigError('TURN_BAD_PASSWORD', 'the TURN password contains control characters')
  return {server, username: input.user, password}
}

/** Most STUN servers one run takes: libjuice needs one PeerConnection (and socket) per server. */
export const MAX_STUN_SERVERS = 8

export function checkStunCount(count: number): void {
  if (count > MAX_STUN_SERVERS) throw new BadInputError('TOO_MANY_STUN', `at most ${MAX_STUN_SERVERS} --stun servers (got ${count})`)
}

export function iceServersFrom(stun: string[] | undefined, turn: TurnConfig | undefined): {stun: StunServerUrl[]; iceServers: IceServerSpec[]} {
  const parsed = splitList(stun).map(parseStunUrl)
  checkStunCount(parsed.length)
  const iceServers: IceServerSpec[] = parsed.map(stunIceServer)
  if (turn) {
    if (!turn.server.supported) {
      throw new BadInputError('TURN_TRANSPORT_UNSUPPORTED', `${turn.server.url}: node-datachannel (libjuice) supports TURN over UDP only, not ${turn.server.transport.toUpperCase()}`)
    }
    iceServers.push(turnIceServer(turn.server, turn.username, turn.password))
  }
  return {stun: parsed, iceServers}
}
