import {existsSync} from 'node:fs'
import {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {format} from 'node:util'

import {Config, type Command} from '@oclif/core'

import type {CliResult} from './cli.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
let config: Promise<Config> | undefined

export interface InProcessOptions {
  /** Text the command reads as stdin (for `-` arguments). */
  stdin?: string
  /** Environment overrides for the run (undefined deletes); restored afterwards. */
  env?: Record<string, string | undefined>
  /** Fail the test's wait after this long (the command itself cannot be killed in process). */
  timeoutMs?: number
}

type CommandClass = typeof Command & {run(argv?: string[], opts?: Config | string): Promise<unknown>}

/** The end of the last queued run: runs go one at a time because output capture is process-wide. */
let queue: Promise<unknown> = Promise.resolve()

/** The command file for `args` (`['enr', 'decode', …]` → src/commands/enr/decode.ts) and the rest of argv. */
async function findCommand(args: string[]): Promise<{command: CommandClass; argv: string[]}> {
  for (const n of [2, 1]) {
    const words = args.slice(0, n)
    if (words.length < n || words.some((w) => !/^[a-z][a-z0-9-]*$/.test(w))) continue
    for (const file of [`${words.join('/')}.ts`, `${words.join('/')}/index.ts`]) {
      if (!existsSync(`${ROOT}src/commands/${file}`)) continue
      const mod = (await import(/* @vite-ignore */ `${ROOT}src/commands/${file}`)) as {default: CommandClass}
      // oclif sets a command's id when it loads it from the manifest; loaded directly, we set it.
      mod.default.id = words.join(':')
      return {command: mod.default, argv: args.slice(n)}
    }
  }
  throw new Error(`runInProcess: no command in src/commands for ${args.slice(0, 2).join(' ')}`)
}

/**
 * Runs a command (same arguments as runCli: `['enr', 'decode', '--json', …]`) in this process and returns what a spawned CLI would have given: the exit
 * code, stdout, stderr and stdout as JSON. For tests that check output shape and exit codes; it
 * saves the ~1 s start-up of a spawned CLI. Output is captured by replacing process.stdout/stderr
 * writes and console.log/error (oclif prints through console) for the run, so runs are queued
 * and go one at a time (Promise.all of several runs works, sequentially). Tests that need signals, a real process exit, or a
 * network namespace keep using runCli.
 */
export function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  const run = queue.then(() => runNow(args, options))
  // The next run waits for this command to really finish, even if its caller stopped waiting.
  queue = run.catch(() => undefined)
  if (options.timeoutMs === undefined) return run
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`runInProcess: ${args.join(' ')} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs)
  })
  return Promise.race([run, late]).finally(() => clearTimeout(timer))
}

async function runNow(args: string[], options: InProcessOptions): Promise<CliResult> {
  const {command, argv} = await findCommand(args)
  config ??= Config.load(ROOT)
  const loaded = await config
  let stdout = ''
  let stderr = ''
  const saved = {
    out: process.stdout.write,
    err: process.stderr.write,
    log: console.log,
    error: console.error,
    exitCode: process.exitCode,
    stdin: Object.getOwnPropertyDescriptor(process, 'stdin'),
  }
  const env = {NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true', DEBUG: '', ...options.env}
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const capture =
    (sink: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined
      cb?.()
      return true
    }
  process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write
  process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write
  console.log = (...args: unknown[]) => void (stdout += format(...args) + '\n')
  console.error = (...args: unknown[]) => void (stderr += format(...args) + '\n')
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  if (options.stdin !== undefined) Object.defineProperty(process, 'stdin', {value: Readable.from([options.stdin]), configurable: true})
  process.exitCode = undefined
  let code: number
  try {
    await command.run(argv, loaded)
    code = Number(process.exitCode ?? 0)
  } catch (err) {
    // oclif's exit(n) and parse errors that escaped the base command's catch.
    const exit = (err as {oclif?: {exit?: number}}).oclif?.exit
    if (exit === undefined) throw err
    stderr += `${(err as Error).message}\n`
    code = exit
  } finally {
    process.stdout.write = saved.out
    process.stderr.write = saved.err
    console.log = saved.log
    console.error = saved.error
    process.exitCode = saved.exitCode
    if (saved.stdin) Object.defineProperty(process, 'stdin', saved.stdin)
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  let json: unknown
  try {
    json = JSON.parse(stdout)
  } catch {
    json = undefined
  }
  return {code, signal: null, stdout, stderr, json}
}
