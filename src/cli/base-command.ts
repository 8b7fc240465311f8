import {Command, Flags, Interfaces} from '@oclif/core'

import {ExitCode, InterruptedError, isWakuDiscError, type ErrorJson} from '../lib/errors.js'
import {ndjsonLine} from '../ui/ndjson.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Every waku-disc command extends this. It owns the run's one AbortController (SIGINT, SIGTERM and
 * --timeout abort it), maps our typed errors to the exit codes in the README (0 ok, 2 bad input, 3 check failed, 4 unreachable, 5 protocol, 6 config, 130 interrupted), and prints errors as one line
 * (or `{"error": …}` under --json). Commands parse flags, call one library function with
 * `this.signal`, render the result with src/ui, and return it so --json prints the same object.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Print only results: no progress or status lines on stderr.', helpGroup: 'GLOBAL'}),
    verbose: Flags.boolean({char: 'v', description: 'Print more detail, including debug information on stderr.', helpGroup: 'GLOBAL'}),
    timeout: Flags.integer({
      description: 'Abort the whole command after this many seconds (0 = no limit).',
      env: 'WAKU_DISC_TIMEOUT',
      helpGroup: 'GLOBAL',
      min: 0,
    }),
  }

  /**
   * Whether --timeout aborts the whole run (the default). A command whose --timeout is a budget per
   * target (e.g. `caps`) sets this to false and applies the value itself.
   */
  static timeoutCoversWholeRun = true

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected readonly abortController = new AbortController()
  /** Exit code to use after a successful run() that still reports a failed check (e.g. 3). */
  protected resultExitCode: number = ExitCode.ok
  private interrupts = 0
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.interrupts++
    if (this.interrupts > 1) {
      // Second Ctrl-C: the user wants out now, even if flushing is slow.
      process.stderr.write('\nInterrupted again: exiting without waiting.\n')
      process.exit(ExitCode.interrupted)
    }
    this.abortController.abort(new InterruptedError('INTERRUPTED', `interrupted by ${sig}`))
  }
  private timer?: NodeJS.Timeout

  get signal(): AbortSignal {
    return this.abortController.signal
  }

  /** True when human progress may be written to stderr. */
  protected get showProgress(): boolean {
    return !this.flags.quiet && !this.jsonEnabled()
  }

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
    const seconds = this.flags.timeout
    if ((this.ctor as unknown as typeof BaseCommand).timeoutCoversWholeRun && seconds !== undefined && seconds > 0) {
      this.timer = setTimeout(() => {
        const err = new Error(`--timeout ${seconds}s reached`)
        err.name = 'TimeoutError'
        this.abortController.abort(err)
      }, seconds * 1000)
      this.timer.unref()
    }
  }

  /** Writes a progress or log line to stderr unless --quiet or --json. */
  protected progress(line: string): void {
    if (this.showProgress) process.stderr.write(line.endsWith('\n') ? line : line + '\n')
  }

  /** Writes a result line to stdout unless --json is on (oclif then prints the returned object). */
  protected out(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /** Writes one NDJSON line `{"type": type, …value}` to stdout (the shape every --ndjson stream shares). */
  protected ndjson(type: string, value: object): void {
    process.stdout.write(ndjsonLine(type, value))
  }

  /** Writes an object that already names its kind (`{type, …}`, e.g. a server event) as one NDJSON line. */
  protected ndjsonEvent(event: {type: string}): void {
    const {type, ...rest} = event
    this.ndjson(type, rest)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (isWakuDiscError(err)) {
      if (this.jsonEnabled()) {
        this.logJson({error: err.toJSON()})
      } else {
        const hint = err.hint ? `\n  hint: ${err.hint}` : ''
        process.stderr.write(`Error [${err.code}]: ${err.message}${hint}\n`)
        if (process.env.DEBUG) process.stderr.write(`${err.stack}\n`)
      }
      process.exitCode = err.exitCode
      return undefined
    }
    // oclif's own exit() and parse errors carry oclif.exit; everything else is our bug (exit 1).
    if (err.oclif?.exit !== undefined && err.oclif.exit !== 1 && err.message.startsWith('EEXIT')) throw err
    if (err.oclif?.exit !== undefined && err.oclif.exit !== ExitCode.internal) {
      // Flag and argument errors: one line like our own errors, not oclif's multi-line block.
      const message = err.message
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('See more help'))
        .join(' ')
      const hint = `see: ${[this.config.bin, this.id?.replaceAll(':', ' '), '--help'].filter(Boolean).join(' ')}`
      // The arguments were parsed and rejected; don't let oclif's dev mode warn that they weren't.
      this.parsed = true
      if (this.jsonEnabled()) {
        const json: ErrorJson = {name: 'BadInputError', code: 'USAGE', exitCode: err.oclif.exit, message, hint}
        this.logJson({error: json})
      } else {
        process.stderr.write(`Error [USAGE]: ${message}\n  hint: ${hint}\n`)
      }
      process.exitCode = err.oclif.exit
      return undefined
    }
    if (this.jsonEnabled()) {
      const json: ErrorJson = {name: 'InternalError', code: 'INTERNAL', exitCode: ExitCode.internal, message: err.message}
      this.logJson({error: json})
      process.exitCode = ExitCode.internal
      return undefined
    }
    if (!process.env.DEBUG) {
      process.stderr.write(`Internal error: ${err.message}\n  (set DEBUG=1 for a stack trace; please report this)\n`)
      process.exitCode = ExitCode.internal
      return undefined
    }
    throw err
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    if (this.timer) clearTimeout(this.timer)
    if (!err && this.resultExitCode !== ExitCode.ok) process.exitCode = this.resultExitCode
    return super.finally(err)
  }
}
