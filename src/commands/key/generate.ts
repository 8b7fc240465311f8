import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {generateKeyFile, type KeyFileInfo} from '../../lib/keys/index.js'
import {renderKeyInfo} from '../../ui/key.js'

export default class KeyGenerate extends BaseCommand<typeof KeyGenerate> {
  static override description = `Generate a secp256k1 key and write it with mode 0600: a geth-format hex key file (64 hex characters), or with --keystore an encrypted keystore v3 JSON (scrypt, aes-128-ctr) as geth and ethkey write.

The keystore password is read from --password-file (first line) or WAKU_DISC_KEY_PASSWORD, never from the command line. The secret is never printed.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --out node.key',
    'WAKU_DISC_KEY_PASSWORD=… <%= config.bin %> <%= command.id %> --out signer.json --keystore',
    '<%= config.bin %> <%= command.id %> --out signer.json --keystore --password-file ./password.txt',
  ]

  static override flags = {
    out: Flags.string({char: 'o', description: 'File to write (refuses to overwrite an existing file).', required: true}),
    keystore: Flags.boolean({description: 'Write an encrypted keystore v3 JSON instead of a hex key file.'}),
    'password-file': Flags.string({description: 'File whose first line is the keystore password (else WAKU_DISC_KEY_PASSWORD); it must not be readable by group or others.', dependsOn: ['keystore']}),
    'insecure-key-permissions': Flags.boolean({description: 'Accept a password file that group or others can read (refused by default).', dependsOn: ['keystore']}),
    'light-kdf': Flags.boolean({description: 'Use scrypt N=4096 (geth --lightkdf) instead of N=262144: fast, weaker.', dependsOn: ['keystore']}),
  }

  async run(): Promise<KeyFileInfo> {
    const info = await generateKeyFile(this.flags.out, {
      keystore: this.flags.keystore,
      passwordFile: this.flags['password-file'],
      scryptN: this.flags['light-kdf'] ? 4096 : undefined,
      insecurePermissions: this.flags['insecure-key-permissions'],
    })
    this.out(renderKeyInfo(info, undefined, 'wrote '))
    return info
  }
}
