// Error codes: one convention (UPPER_SNAKE), the old dotted ENR/RLP/key codes kept as aliases in
// toJSON() and by hasCode, and a scan of src/ so a dotted (or otherwise non-UPPER_SNAKE) code
// cannot come back.
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

import {parseEnr} from '../../src/lib/enr/index.js'
import {
  BadInputError,
  CheckFailedError,
  ConfigError,
  LEGACY_CODE_ALIASES,
  UnreachableError,
  codeAliases,
  hasCode,
  upperSnakeCode,
} from '../../src/lib/errors.js'
import {privateKeyFromHex} from '../../src/lib/keys/index.js'
import {decodeRlpItem} from '../../src/lib/rlp/index.js'

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/
const DOTTED = /^[a-z][a-z0-9]*\.[a-z0-9]+(?:-[a-z0-9]+)*$/

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

describe('legacy aliases', () => {
  it('derives each new code mechanically from the dotted one', () => {
    expect(upperSnakeCode('enr.base64-padding')).toBe('ENR_BASE64_PADDING')
    expect(upperSnakeCode('rlp.canon-int')).toBe('RLP_CANON_INT')
    expect(upperSnakeCode('secp256k1.bad-length')).toBe('SECP256K1_BAD_LENGTH')
    expect(LEGACY_CODE_ALIASES.size).toBe(105)
    for (const [code, old] of LEGACY_CODE_ALIASES) {
      expect(code).toMatch(UPPER_SNAKE)
      expect(old).toMatch(DOTTED)
      expect(upperSnakeCode(old)).toBe(code)
    }
    // the examples of the rename, including computed codes (seq.*, <port>.*)
    for (const old of ['enr.base64-padding', 'enr.keys-unsorted', 'rlp.canon-int', 'seq.canon-int', 'id.unknown-scheme', 'secp256k1.bad-length',
      'key.invalid', 'key.file-permissions', 'sign.digest-length', 'size.over-limit', 'waku2.unknown-capability', 'seq.overflow', 'tcp6.out-of-range',
      'quic6.non-canonical', 'enode.discport', 'shards.malformed']) {
      expect(LEGACY_CODE_ALIASES.get(upperSnakeCode(old)), old).toBe(old)
    }
  })

  it('toJSON() lists the alias of a renamed code, and nothing for codes that were never renamed', () => {
    const err = new BadInputError('ENR_BASE64_PADDING', "ENR base64 has '=' padding", {hint: 'h'})
    expect(err.toJSON()).toEqual({name: 'BadInputError', code: 'ENR_BASE64_PADDING', aliases: ['enr.base64-padding'], exitCode: 2, message: "ENR base64 has '=' padding", hint: 'h'})
    expect(Object.keys(err.toJSON())).toEqual(['name', 'code', 'aliases', 'exitCode', 'message', 'hint'])
    expect(JSON.parse(JSON.stringify(new ConfigError('KEY_FILE_PERMISSIONS', 'x')))).toMatchObject({code: 'KEY_FILE_PERMISSIONS', aliases: ['key.file-permissions'], exitCode: 6})
    const plain = new UnreachableError('DNS_NO_RESOLVER', 'no resolver')
    expect(plain.toJSON()).not.toHaveProperty('aliases')
    expect(codeAliases('DNS_NO_RESOLVER')).toEqual([])
    // not fooled by Object.prototype names
    expect(codeAliases('constructor')).toEqual([])
  })

  it('the library throws the new codes with their aliases', () => {
    const rlp = thrown(() => decodeRlpItem(new Uint8Array(0))) as BadInputError
    expect(rlp.toJSON()).toMatchObject({code: 'RLP_EMPTY_INPUT', aliases: ['rlp.empty-input']})
    const key = thrown(() => privateKeyFromHex('zz')) as BadInputError
    expect(key.toJSON()).toMatchObject({code: 'KEY_HEX_FORMAT', aliases: ['key.hex-format']})
    const seq = thrown(() => parseEnr('0x' + 'c8' + '80' + '820001' + '826964' + '00')) as BadInputError
    expect(seq.toJSON()).toMatchObject({code: 'SEQ_CANON_INT', aliases: ['seq.canon-int']})
  })
})

describe('hasCode', () => {
  const err = new CheckFailedError('SIGNATURE_INVALID', 'signature does not verify')

  it('matches the current code and its alias', () => {
    expect(hasCode(err, 'SIGNATURE_INVALID')).toBe(true)
    expect(hasCode(err, 'signature.invalid')).toBe(true)
    expect(hasCode(err, 'SIZE_OVER_LIMIT')).toBe(false)
    expect(hasCode(err, 'size.over-limit')).toBe(false)
  })

  it('works on error JSON, also JSON written before the rename, and on codes without aliases', () => {
    expect(hasCode(err.toJSON(), 'signature.invalid')).toBe(true)
    expect(hasCode({code: 'signature.invalid', message: 'old output'}, 'SIGNATURE_INVALID')).toBe(true)
    expect(hasCode(new UnreachableError('TIMEOUT', 't'), 'TIMEOUT')).toBe(true)
    expect(hasCode(new UnreachableError('TIMEOUT', 't'), 'timeout')).toBe(false)
  })

  it('is false for anything without a string code', () => {
    for (const v of [undefined, null, 'SIGNATURE_INVALID', 42, {}, {code: 3}, new Error('x')]) expect(hasCode(v, 'SIGNATURE_INVALID')).toBe(false)
  })
})

describe('every error code in src/ is UPPER_SNAKE', () => {
  const root = fileURLToPath(new URL('../../src/', import.meta.url))
  const files: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.ts')) files.push(p)
    }
  }
  walk(root)
  const sources = files.map((f) => ({file: relative(root, f), text: readFileSync(f, 'utf8')}))

  // Our error classes: WakuDiscError and everything deriving from it, wherever it is declared.
  const classes = new Set(['WakuDiscError'])
  for (let grew = true; grew; ) {
    grew = false
    for (const {text} of sources) {
      for (const m of text.matchAll(/class (\w+) extends (\w+)/g)) {
        if (classes.has(m[2]!) && !classes.has(m[1]!)) {
          classes.add(m[1]!)
          grew = true
        }
      }
    }
  }

  // A string, double-quoted or template literal; `${…}` parts of a template become X.
  const LITERAL = String.raw`(?:'([^'\n]*)'|"([^"\n]*)"|\x60([^\x60]*)\x60)`
  const literalOf = (m: RegExpMatchArray, from: number) => (m[from] ?? m[from + 1] ?? m[from + 2]!).replace(/\$\{[^}]*\}/g, 'X')

  function codesIn(file: string, text: string): Array<{where: string; code: string}> {
    const out: Array<{where: string; code: string}> = []
    const at = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`
    // new SomeError('CODE', …)
    for (const m of text.matchAll(new RegExp(String.raw`new (${[...classes].join('|')})\(\s*${LITERAL}`, 'g'))) out.push({where: at(m.index!), code: literalOf(m, 2)})
    // same-file helpers taking the code first (structural('CODE', …), badInput(…), fail(…)) …
    for (const d of text.matchAll(/function (\w+)(?:<[^>]*>)?\(code: string/g)) {
      for (const m of text.matchAll(new RegExp(String.raw`(?<![\w.])${d[1]}\(\s*${LITERAL}`, 'g'))) out.push({where: at(m.index!), code: literalOf(m, 1)})
    }
    // … or last (fail(message, 'CODE'): never), default codes and options such as permissionsCode
    for (const d of text.matchAll(/function (\w+)\([^)]*, code(?:: string)?(?: = [^)]*)?\): never/g)) {
      for (const m of text.matchAll(new RegExp(String.raw`(?<![\w.])${d[1]}\(.*,\s*'([^'\s]*)'\)`, 'g'))) out.push({where: at(m.index!), code: m[1]!})
    }
    for (const m of text.matchAll(/\bcode(?:: string)?\s*=\s*'([^'\s]*)'|\b\w+Code:\s*'([^'\s]*)'/g)) out.push({where: at(m.index!), code: m[1] ?? m[2]!})
    return out
  }

  const all = sources.flatMap(({file, text}) => codesIn(file, text))
  // Codec errors whose first argument is a message, not a code, are not error codes.
  const codes = all.filter((c) => !/\s/.test(c.code))

  it('finds the error classes and hundreds of codes (the scan is not vacuous)', () => {
    expect([...classes]).toEqual(expect.arrayContaining(['BadInputError', 'CheckFailedError', 'UnreachableError', 'ProtocolError', 'ConfigError', 'InterruptedError', 'SecretFileError']))
    expect(codes.length).toBeGreaterThan(400)
    for (const file of ['lib/enr/text.ts', 'lib/enr/parse.ts', 'lib/enr/enode.ts', 'lib/enr/encode.ts', 'lib/rlp/index.ts', 'lib/keys/index.ts', 'lib/keys/files.ts']) {
      expect(codes.some((c) => c.where.startsWith(`${file}:`)), file).toBe(true)
    }
    expect(codes.filter((c) => c.where.startsWith('lib/keys/files.ts:')).map((c) => c.code)).toEqual(expect.arrayContaining(['KEY_KEYSTORE_KDF', 'KEY_KEYSTORE_FORMAT', 'KEY_FILE_PERMISSIONS']))
  })

  it('has no code in any other form', () => {
    expect(codes.filter((c) => !UPPER_SNAKE.test(c.code)).map((c) => `${c.where}: ${c.code}`)).toEqual([])
  })
})
