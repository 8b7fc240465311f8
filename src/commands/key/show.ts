import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyFileFlags} from '../../cli/flags.js'
import {showKeyFile, type KeyFileInfo} from '../../lib/keys/index.js'
import {renderKeyInfo} from '../../ui/key.js'

export default class KeyShow extends BaseCommand<typeof KeyShow> {
  static override description = `Show the public identity of a key file (hex or keystore JSON): compressed public key, node id, libp2p peer id, the enrtree:// public key form and the Ethereum address. The secret is never printed.`

  static override examples = ['<%= config.bin %> <%= command.id %> node.key', '<%= config.bin %> <%= command.id %> signer.json --password-file ./password.txt']

  static override args = {file: Args.string({description: 'Hex key file or keystore v3 JSON.', required: true})}
  static override flags = {
    ...keyFileFlags,
  }

  async run(): Promise<KeyFileInfo> {
    const info = await showKeyFile(this.args.file, {passwordFile: this.flags['password-file'], insecurePermissions: this.flags['insecure-key-permissions']})
    this.out(renderKeyInfo(info))
    return info
  }
}
