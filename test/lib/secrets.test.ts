// lib/secrets.ts: the one reader for password, token, TSIG and AWS credential files.
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'

import {ConfigError} from '../../src/lib/errors.js'
import {
  MAX_SECRET_FILE_BYTES,
  SecretFileError,
  checkSecretMode,
  decodeSecret,
  firstLine,
  readSecretFile,
  readSecretFileSync,
  resolveSecret,
  type SecretFileOptions,
} from '../../src/lib/secrets.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-secrets-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let n = 0
function secretFile(content: string | Uint8Array, mode = 0o600): string {
  const path = join(dir, `s${n++}`)
  writeFileSync(path, content, {mode})
  chmodSync(path, mode)
  return path
}

const opts = (extra: Partial<SecretFileOptions> = {}): SecretFileOptions => ({what: 'test secret', code: 'TEST_SECRET', ...extra})

async function failure(promise: Promise<unknown>): Promise<SecretFileError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SecretFileError)
  return error as SecretFileError
}

describe('the line rule', () => {
  it('is the first line without its \\n or \\r\\n; later lines are ignored; spaces are kept', async () => {
    expect(await readSecretFile(secretFile('pw\n'), opts())).toBe('pw')
    expect(await readSecretFile(secretFile('pw\r\n'), opts())).toBe('pw')
    expect(await readSecretFile(secretFile('pw'), opts())).toBe('pw')
    expect(await readSecretFile(secretFile(' p w \nsecond line\n'), opts())).toBe(' p w ')
    expect(await readSecretFile(secretFile('pässword\r\nx'), opts())).toBe('pässword')
    // only a \r right before the \n belongs to the line ending (geth: TrimRight "\r" after splitting on "\n")
    expect(await readSecretFile(secretFile('a\rb\r\r\n'), opts())).toBe('a\rb\r')
  })

  it('refuses an empty file or an empty first line, with the caller code and a reason', async () => {
    for (const content of ['', '\n', '\r\n', '\nsecret on line two\n']) {
      const error = await failure(readSecretFile(secretFile(content), opts()))
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({code: 'TEST_SECRET', reason: 'empty', exitCode: 6, name: 'ConfigError'})
      expect(error.message).not.toContain('secret on line two')
    }
  })

  it("kind 'text' is the whole file (for TSIG key blocks and AWS credentials), empty refused", async () => {
    const block = 'key "k." {\n  algorithm hmac-sha256;\n  secret "c2VjcmV0";\n};\n'
    expect(await readSecretFile(secretFile(block), opts({kind: 'text'}))).toBe(block)
    expect((await failure(readSecretFile(secretFile(''), opts({kind: 'text'})))).reason).toBe('empty')
  })
})

describe('limits and failures', () => {
  it(`reads at most ${MAX_SECRET_FILE_BYTES} bytes`, async () => {
    expect(await readSecretFile(secretFile('x'.repeat(MAX_SECRET_FILE_BYTES)), opts())).toHaveLength(MAX_SECRET_FILE_BYTES)
    const big = secretFile('x'.repeat(MAX_SECRET_FILE_BYTES + 1))
    expect((await failure(readSecretFile(big, opts()))).reason).toBe('too-large')
    expect(() => readSecretFileSync(big, opts())).toThrow(/larger than 65536 bytes/)
  })

  it('refuses bytes that are not UTF-8', async () => {
    expect((await failure(readSecretFile(secretFile(Uint8Array.of(0x70, 0xff, 0x77)), opts()))).reason).toBe('not-utf8')
  })

  it('names a missing or unreadable file and its errno, never throwing anything but SecretFileError', async () => {
    const missing = await failure(readSecretFile(join(dir, 'missing'), opts()))
    expect(missing).toMatchObject({reason: 'unreadable', code: 'TEST_SECRET', path: join(dir, 'missing'), details: {path: join(dir, 'missing'), reason: 'unreadable'}})
    expect(missing.message).toBe(`cannot read test secret ${join(dir, 'missing')} (ENOENT)`)
    expect((await failure(readSecretFile(dir, opts({permissions: 'ignore'})))).message).toContain('(EISDIR)')
    expect(() => readSecretFileSync(join(dir, 'missing'), opts())).toThrow(SecretFileError)
  })
})

describe('permissions (one check, three policies)', () => {
  it("'refuse' (default) refuses group/others access with the caller's code and hint", async () => {
    const shared = secretFile('pw\n', 0o640)
    const error = await failure(readSecretFile(shared, opts({permissionsCode: 'TEST_PERMS', permissionsHint: 'chmod it'})))
    expect(error).toMatchObject({code: 'TEST_PERMS', reason: 'permissions', hint: 'chmod it'})
    expect(error.message).toContain('mode 0640')
    expect((await failure(readSecretFile(secretFile('pw', 0o604), opts()))).hint).toMatch(/^chmod 600 /)
    expect(() => readSecretFileSync(shared, opts())).toThrow(/accessible by group or others/)
  })

  it("'warn' reads the file and tells onWarning; 'ignore' and Windows do not look", async () => {
    const shared = secretFile('pw\n', 0o644)
    const warnings: string[] = []
    expect(await readSecretFile(shared, opts({permissions: 'warn', onWarning: (w) => warnings.push(w)}))).toBe('pw')
    expect(warnings).toEqual([expect.stringMatching(/mode 0644.*chmod 600/)])
    expect(await readSecretFile(shared, opts({permissions: 'ignore'}))).toBe('pw')
    expect(readSecretFileSync(shared, opts({platform: 'win32'}))).toBe('pw')
    expect(() => checkSecretMode('/k', 0o100600, opts())).not.toThrow()
    expect(() => checkSecretMode('/k', 0o100601, opts())).toThrow(SecretFileError)
  })
})

describe('resolveSecret', () => {
  it('prefers the file, else the injected environment (verbatim, even empty), else undefined', async () => {
    const file = secretFile('from-file\n')
    expect(await resolveSecret({file, envVar: 'X', env: {X: 'from-env'}}, opts())).toEqual({value: 'from-file', from: 'file'})
    expect(await resolveSecret({envVar: 'X', env: {X: ' from-env\n'}}, opts())).toEqual({value: ' from-env\n', from: 'env'})
    expect(await resolveSecret({envVar: 'X', env: {X: ''}}, opts())).toEqual({value: '', from: 'env'})
    expect(await resolveSecret({envVar: 'X', env: {}}, opts())).toBeUndefined()
  })
})

describe('odd contents (fast-check)', () => {
  const noNewline = fc.string({unit: 'binary', minLength: 1}).filter((s) => !s.includes('\n') && !s.endsWith('\r'))

  it('a line with any ending and any tail reads back as the line', () => {
    fc.assert(
      fc.property(noNewline, fc.constantFrom('', '\n', '\r\n'), fc.string({unit: 'binary'}), (line, ending, tail) => {
        const bytes = new TextEncoder().encode(line + ending + (ending ? tail : ''))
        fc.pre(bytes.length <= MAX_SECRET_FILE_BYTES)
        expect(decodeSecret(bytes)).toEqual({ok: true, value: line})
      }),
    )
  })

  it('any bytes: a value is non-empty, has no \\n and starts the text, or a reason is given', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), fc.constantFrom('line' as const, 'text' as const), (bytes, kind) => {
        const decoded = decodeSecret(bytes, kind)
        if (!decoded.ok) {
          expect(['empty', 'not-utf8']).toContain(decoded.reason)
          return
        }
        const text = new TextDecoder('utf-8', {ignoreBOM: true}).decode(bytes)
        expect(decoded.value).not.toBe('')
        if (kind === 'text') expect(decoded.value).toBe(text)
        else {
          expect(decoded.value).not.toContain('\n')
          expect(text.startsWith(decoded.value)).toBe(true)
          expect(decoded.value).toBe(firstLine(text))
        }
      }),
    )
  })

  it('the async and sync readers agree on files, and errors never carry the content', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({unit: 'binary'}), fc.constantFrom('', '\n', '\r\n\r\n', '\uFEFFpw', 'a\u0000b')).map((s) => 'S3CR3T' + s),
        fc.boolean(),
        async (content, leadingNewline) => {
          const path = secretFile((leadingNewline ? '\n' : '') + content)
          const viaSync = ((): {value: string} | {error: SecretFileError} => {
            try {
              return {value: readSecretFileSync(path, opts())}
            } catch (error) {
              return {error: error as SecretFileError}
            }
          })()
          const viaAsync = await readSecretFile(path, opts()).then(
            (value) => ({value}),
            (error: SecretFileError) => ({error}),
          )
          expect('error' in viaAsync ? viaAsync.error.reason : viaAsync).toEqual('error' in viaSync ? viaSync.error.reason : viaSync)
          if ('error' in viaAsync) {
            expect(viaAsync.error.message).not.toContain('S3CR3T')
            expect(JSON.stringify(viaAsync.error.toJSON())).not.toContain('S3CR3T')
          } else expect(viaAsync.value.startsWith('S3CR3T')).toBe(true)
        },
      ),
      {numRuns: 50},
    )
  })
})
