import type {ChalkInstance} from 'chalk'

import type {KeyFileInfo} from '../lib/keys/index.js'
import {colorsFor} from './colors.js'

/** The public identity of a key file (the secret is never part of KeyFileInfo). */
export function renderKeyInfo(info: KeyFileInfo, c: ChalkInstance = colorsFor(), verb = ''): string {
  const row = (label: string, value: string) => `  ${c.dim(label.padEnd(14))}${value}`
  return [
    `${verb}${c.bold(info.path)} ${c.dim(`(${info.format === 'hex' ? 'hex key file' : 'keystore v3 JSON'})`)}`,
    row('public key', info.publicKey),
    row('node id', info.nodeId),
    row('peer id', info.peerId),
    row('enrtree key', info.enrtreeKey),
    row('address', `0x${info.address}`),
  ].join('\n')
}
