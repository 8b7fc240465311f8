import {Args, Flags} from '@oclif/core'
import {fileURLToPath} from 'node:url'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {BaseCommand} from '../../src/cli/base-command.js'
import {BadInputError, CheckFailedError, ExitCode, UnreachableError, abortError} from '../../src/lib/errors.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** A fixture command exercising the base class: behaviour chosen by its argument. */
class Fixture extends BaseCommand<typeof Fixture> {
  static override args = {mode: Args.string({required: true})}
  static override flags = {wait: Flags.integer({default: 0}), color: Flags.string({options: ['red', 'blue']})}
  async run(): Promise<unknown> {
    switch (this.args.mode) {
      case 'ok': {
        this.out('human view')
        this.progress('progress line')
        return {ok: true}
      }
      case 'bad-input': {
        throw new BadInputError('ENR_BAD_BASE64', 'argument 1: invalid base64 at offset 7', {hint: 'records start with enr:'})
      }
      case 'check-failed-result': {
        this.resultExitCode = ExitCode.checkFailed
        return {ok: false}
      }
      case 'bug': {
        throw new TypeError('cannot read x of undefined')
      }
      case 'wait': {
        await new Promise<void>((resolve) => {
          if (this.signal.aborted) resolve()
          this.signal.addEventListener('abort', () => resolve(), {once: true})
        })
        throw abortError(this.signal, 'waiting')
      }
      default: {
        throw new CheckFailedError('X', 'unknown mode')
      }
    }
  }
}

let stdout = ''
let stderr = ''
beforeEach(() => {
  stdout = ''
  stderr = ''
  process.exitCode = undefined
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  // oclif prints --json results with console.log.
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += parts.join(' ') + '\n'
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString()
    return true
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
})

describe('BaseCommand', () => {
  it('prints the human view on stdout and progress on stderr', async () => {
    await Fixture.run(['ok'], {root: ROOT})
    expect(stdout).toBe('human view\n')
    expect(stderr).toBe('progress line\n')
    expect(process.exitCode).toBeUndefined()
  })

  it('prints only the returned object under --json', async () => {
    const result = await Fixture.run(['ok', '--json'], {root: ROOT})
    expect(result).toEqual({ok: true})
    expect(JSON.parse(stdout)).toEqual({ok: true})
    expect(stderr).toBe('')
  })

  it('--quiet drops progress but keeps results', async () => {
    await Fixture.run(['ok', '--quiet'], {root: ROOT})
    expect(stdout).toBe('human view\n')
    expect(stderr).toBe('')
  })

  it('maps a typed error to its exit code with one line and the hint', async () => {
    await Fixture.run(['bad-input'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(stderr).toBe('Error [ENR_BAD_BASE64]: argument 1: invalid base64 at offset 7\n  hint: records start with enr:\n')
    expect(stdout).toBe('')
  })

  it('prints {"error": …} under --json', async () => {
    await Fixture.run(['bad-input', '--json'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(JSON.parse(stdout)).toEqual({
      error: {
        name: 'BadInputError',
        code: 'ENR_BAD_BASE64',
        exitCode: 2,
        message: 'argument 1: invalid base64 at offset 7',
        hint: 'records start with enr:',
      },
    })
  })

  it('keeps the result and exits with resultExitCode when a check fails', async () => {
    await Fixture.run(['check-failed-result', '--json'], {root: ROOT})
    expect(JSON.parse(stdout)).toEqual({ok: false})
    expect(process.exitCode).toBe(3)
  })

  it('reports an untyped error as an internal error (exit 1) without a stack trace', async () => {
    const debug = process.env.DEBUG
    delete process.env.DEBUG
    try {
      await Fixture.run(['bug'], {root: ROOT})
    } finally {
      if (debug !== undefined) process.env.DEBUG = debug
    }
    expect(process.exitCode).toBe(1)
    expect(stderr).toContain('Internal error: cannot read x of undefined')
    expect(stderr).not.toContain('    at ')
  })

  it('--timeout aborts the run signal and maps to exit 4', async () => {
    const started = Date.now()
    await Fixture.run(['wait', '--timeout', '1'], {root: ROOT})
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(process.exitCode).toBe(4)
    expect(stderr).toContain('Error [TIMEOUT]: waiting timed out')
  })

  it('SIGINT aborts the run signal and maps to exit 130', async () => {
    const run = Fixture.run(['wait'], {root: ROOT})
    await new Promise((r) => setTimeout(r, 200))
    process.emit('SIGINT', 'SIGINT')
    await run
    expect(process.exitCode).toBe(130)
    expect(stderr).toContain('Error [INTERRUPTED]: interrupted by SIGINT')
  })

  it('rejects an unknown flag as a usage error (exit 2) in one line', async () => {
    await Fixture.run(['ok', '--no-such-flag'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^Error \[USAGE\]: Nonexistent flag: --no-such-flag\n  hint: see: .*--help\n$/)
  })

  it('rejects a value outside a flag\'s options as a usage error (exit 2)', async () => {
    await Fixture.run(['ok', '--color', 'green'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(stderr).toMatch(/^Error \[USAGE\]: Expected --color=green to be one of: red, blue\n/)
  })

  it('reports a bad flag value as one line, and as {"error"} under --json', async () => {
    await Fixture.run(['ok', '--wait', 'abc'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(2)
    expect(stderr).toContain('Error [USAGE]: ')
    stderr = ''
    process.exitCode = undefined
    await Fixture.run(['ok', '--wait', 'abc', '--json'], {root: ROOT})
    expect(process.exitCode).toBe(2)
    expect(JSON.parse(stdout).error).toMatchObject({code: 'USAGE', exitCode: 2})
  })
})

describe('errors', () => {
  it('carry code, exit code and JSON form', () => {
    const err = new UnreachableError('DNS_UNREACHABLE', 'no answer from 127.0.0.1:5353', {details: {server: '127.0.0.1:5353'}})
    expect(err.exitCode).toBe(4)
    expect(err.name).toBe('UnreachableError')
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'UnreachableError',
      code: 'DNS_UNREACHABLE',
      exitCode: 4,
      message: 'no answer from 127.0.0.1:5353',
      details: {server: '127.0.0.1:5353'},
    })
  })
})
