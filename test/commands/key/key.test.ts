// `waku-disc key generate|show`: hex and keystore files with mode 0600, passwords only from a file or
// the environment, the secret never printed.
import {chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {keyIdentity, loadPrivateKey, publicKeyOf} from '../../../src/lib/keys/index.js'
import {runCli} from '../../helpers/cli.js'
import {runInProcess} from '../../helpers/in-process.js'

const dir = mkdtempSync(join(tmpdir(), 'waku-disc-key-cmd-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('key generate / show', () => {
  it('generates a geth-format hex key (0600) and shows its identity without the secret', async () => {
    const out = join(dir, 'node.key')
    const r = await runCli(['key', 'generate', '--json', '--out', out])
    expect(r.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    const secret = readFileSync(out, 'utf8')
    expect(secret).toMatch(/^[0-9a-f]{64}$/)
    const id = keyIdentity(publicKeyOf(await loadPrivateKey(out)))
    expect(r.json).toMatchObject({path: out, format: 'hex', nodeId: id.nodeId, peerId: id.peerId, enrtreeKey: id.enrtreeKey, publicKey: id.publicKey})
    expect(r.stdout + r.stderr).not.toContain(secret)
    const show = await runInProcess(['key', 'show', out])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(id.nodeId)
    expect(show.stdout).toContain(id.peerId)
    expect(show.stdout).toContain(id.enrtreeKey)
    expect(show.stdout).not.toContain(secret)
  })

  it('refuses to overwrite an existing key file (exit 6)', async () => {
    const out = join(dir, 'keep.key')
    writeFileSync(out, 'precious')
    const r = await runInProcess(['key', 'generate', '--out', out])
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('KEY_FILE_EXISTS')
    expect(readFileSync(out, 'utf8')).toBe('precious')
  })

  it('keystore: password from --password-file or WAKU_DISC_KEY_PASSWORD, never an argument', async () => {
    const out = join(dir, 'signer.json')
    const pw = join(dir, 'pw.txt')
    writeFileSync(pw, 'correct horse\n', {mode: 0o600})
    const r = await runInProcess(['key', 'generate', '--json', '--out', out, '--keystore', '--light-kdf', '--password-file', pw])
    expect(r.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({version: 3, crypto: {kdf: 'scrypt', kdfparams: {n: 4096}}})
    // The reads are independent of each other: run them at once (each CLI start costs seconds under load).
    const [viaFile, viaEnv, wrong, none, asArg] = await Promise.all([
      runInProcess(['key', 'show', '--json', out, '--password-file', pw]),
      runInProcess(['key', 'show', '--json', out], {env: {WAKU_DISC_KEY_PASSWORD: 'correct horse'}}),
      runInProcess(['key', 'show', out], {env: {WAKU_DISC_KEY_PASSWORD: 'wrong'}}),
      runInProcess(['key', 'generate', '--out', join(dir, 'x.json'), '--keystore'], {env: {WAKU_DISC_KEY_PASSWORD: undefined}}),
      runInProcess(['key', 'show', out, '--password', 'correct horse']),
    ])
    expect(viaFile.json).toMatchObject({format: 'keystore', nodeId: r.json.nodeId})
    expect(viaEnv.json.nodeId).toBe(r.json.nodeId)
    expect(wrong.code).toBe(6)
    expect(wrong.stderr).toContain('KEY_KEYSTORE_PASSWORD')
    expect(none.code).toBe(6)
    expect(none.stderr).toContain('KEY_PASSWORD_MISSING')
    expect(asArg.code).toBe(2)
  })

  it('show refuses a world-readable hex key unless --insecure-key-permissions', async () => {
    const f = join(dir, 'open.key')
    writeFileSync(f, '7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d', {mode: 0o644})
    chmodSync(f, 0o644)
    const [r, ok] = await Promise.all([runInProcess(['key', 'show', f]), runInProcess(['key', 'show', '--json', '--insecure-key-permissions', f])])
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('Error [KEY_FILE_PERMISSIONS]')
    expect(r.stderr).toContain('hint: chmod 600')
    expect(ok.code).toBe(0)
    expect(ok.json.peerId).toMatch(/^16Uiu2/)
  })

  it('show on a file that is not a key exits 6 with one line', async () => {
    const f = join(dir, 'junk')
    writeFileSync(f, 'hello', {mode: 0o600})
    const r = await runInProcess(['key', 'show', f])
    expect(r.code).toBe(6)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
