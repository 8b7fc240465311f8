import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))
const NETWORK_GUARD = fileURLToPath(new URL('./loopback-guard.ts', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (undefined when it is not JSON). */
  json: any
}

export interface CliOptions {
  stdin?: string
  env?: Record<string, string | undefined>
  cwd?: string
  timeoutMs?: number
  /** Called with the child once spawned (e.g. to send SIGINT). */
  onSpawn?: (child: ReturnType<typeof spawn>) => void
  /** Leave stdin open for the caller (who writes to it from onSpawn) instead of closing it. */
  keepStdinOpen?: boolean
  /** Run inside this network namespace (`ip netns exec`; needs root). */
  netns?: string
}

/**
 * Runs the CLI exactly as a user would (a separate process, real exit code), from the TypeScript
 * sources through bin/dev.js so tests never depend on a stale build.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Outside a namespace the CLI gets the same loopback-only guard as the tests themselves.
    const guard = options.netns ? [] : ['--import', NETWORK_GUARD]
    const nodeArgs = ['--require', 'tsx/cjs', '--import', 'tsx', ...guard, '--disable-warning=ExperimentalWarning', DEV_BIN, ...args]
    const [command, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs]
    const child = spawn(command, argv, {
      cwd: options.cwd ?? ROOT,
      env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true', DEBUG: '', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      let json: any
      try {
        json = JSON.parse(stdout)
      } catch {
        json = undefined
      }
      resolve({code, signal, stdout, stderr, json})
    })
    options.onSpawn?.(child)
    if (options.stdin !== undefined) child.stdin.end(options.stdin)
    else if (!options.keepStdinOpen) child.stdin.end()
  })
}

/** Parses NDJSON output into objects, failing loudly on a malformed line. */
export function parseNdjson(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

/**
 * The lines of one `type` from a command's --ndjson output (every line must carry a string
 * `type`: the one NDJSON shape all streaming commands share).
 */
export function ndjsonOf(text: string, type: string): any[] {
  const lines = parseNdjson(text)
  for (const l of lines) if (typeof l?.type !== 'string') throw new Error(`NDJSON line without a type: ${JSON.stringify(l).slice(0, 200)}`)
  return lines.filter((l) => l.type === type)
}

export interface LongCli<T> {
  /** Resolves with what `ready` found in stdout; rejects if the process exits first. */
  ready: Promise<T>
  /** SIGINT, then the finished result. */
  stop(): Promise<CliResult>
}

/**
 * Starts a long-running command (testnet, serve) and waits until `ready` recognises its stdout
 * (the first JSON document, the listening line), for tests that talk to it from another process.
 */
export function startCli<T>(args: string[], ready: (stdout: string) => T | undefined, options: Omit<CliOptions, 'onSpawn'> = {}): LongCli<T> {
  let kill: () => void = () => {}
  let found: ((value: T) => void) | undefined
  const readyPromise = new Promise<T>((resolve) => (found = resolve))
  const done = runCli(args, {
    timeoutMs: 300_000,
    ...options,
    onSpawn: (child) => {
      kill = () => child.kill('SIGINT')
      let buffer = ''
      child.stdout!.on('data', (d: Buffer | string) => {
        buffer += d.toString()
        if (!found) return
        const value = ready(buffer)
        if (value !== undefined) {
          found(value)
          found = undefined
        }
      })
    },
  })
  return {
    ready: Promise.race([readyPromise, done.then((r) => Promise.reject(new Error(`${args.join(' ')} exited ${r.code} before it was ready: ${r.stderr}`)))]),
    async stop() {
      kill()
      return done
    },
  }
}

/** `ready` for commands that print one JSON document first (testnet --json). */
export function firstJson(stdout: string): any {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}

/** `ready` for commands that print NDJSON: the first complete line. */
export function firstLine(stdout: string): any {
  const nl = stdout.indexOf('\n')
  return nl < 0 ? undefined : JSON.parse(stdout.slice(0, nl))
}
