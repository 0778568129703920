/**
 * The shape every `otel-audit` verb follows (DESIGN §1, §7: the CLI is a thin
 * shell over the packages' programmatic APIs). A command declares its options
 * and positionals as data; the parser in `internal/argv.ts` validates argv
 * against that declaration and renders `--help` from it, and `run` receives a
 * {@link CommandContext} carrying the parsed values, output writers and a
 * progress reporter, and returns the process exit code.
 */

/**
 * Type of a declared option's value. `string[]` options may repeat.
 *
 * @example
 * const type: OptionType = 'string[]'; // --key a.vkey --key b.vkey → ['a.vkey', 'b.vkey']
 */
export type OptionType = 'string' | 'boolean' | 'number' | 'string[]';

/**
 * One declared option.
 *
 * @example
 * const key: OptionSpec = { name: 'key', type: 'string[]', alias: 'k',
 *   description: 'verifier key file or text', valueName: 'VKEY' }; // help adds "(repeatable)"
 */
export interface OptionSpec {
  /** Long name without dashes: `db` for `--db`. */
  readonly name: string;
  readonly type: OptionType;
  /** Single-letter short alias without the dash: `f` for `-f`. */
  readonly alias?: string;
  readonly description: string;
  /** Refuse to run (exit 2) when absent. */
  readonly required?: boolean;
  /** Placeholder shown in help, e.g. `FILE`. */
  readonly valueName?: string;
  /** Value used when the option is absent. */
  readonly default?: string | boolean | number | readonly string[];
  /** Allowed values for a string option (checked by the parser). */
  readonly choices?: readonly string[];
}

/**
 * One declared positional argument.
 *
 * @example
 * const input: PositionalSpec = { name: 'input', description: 'DB, bundle or .jsonl', required: true };
 */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
}

/**
 * Parsed option values, keyed by the option's long name.
 *
 * @example
 * const limit = ctx.options['limit'] as number;
 */
export type OptionValues = Readonly<Record<string, string | boolean | number | readonly string[] | undefined>>;

/**
 * Something text can be written to (process.stdout, a captured buffer).
 *
 * @example
 * let out = ''; const writer: Writer = { write: (s: string) => (out += s) };
 */
export interface Writer {
  write(chunk: string): unknown;
  /** True when attached to a terminal; progress bars and colours only then. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Progress of long work (verify, export, archive). Draws a bar on stderr when
 * it is a TTY and `--json` is off; does nothing otherwise.
 *
 * @example
 * ctx.progress.start('verifying', total);
 * ctx.progress.update(done, total);
 * ctx.progress.done();
 */
export interface ProgressReporter {
  start(label: string, total?: number): void;
  update(done: number, total?: number): void;
  done(): void;
}

/**
 * What a command's `run` receives.
 *
 * @example
 * async run(ctx) { ctx.stdout.write(`db is ${ctx.options['db']}\n`); return 0; }
 */
export interface CommandContext {
  /** Parsed, type-checked option values (defaults applied). */
  readonly options: OptionValues;
  /** Positional arguments, in order. */
  readonly positionals: readonly string[];
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Readable stdin when the caller provides one. */
  readonly stdin?: NodeJS.ReadableStream;
  /** True when stdout is a terminal. */
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** `--json` was given: print machine output only. */
  readonly json: boolean;
  readonly progress: ProgressReporter;
  /**
   * Aborted by the caller, or on SIGINT/SIGTERM for `longRunning` verbs (they
   * stop on it) and for verbs holding a temporary copy (see `catchSignals`).
   */
  readonly signal: AbortSignal;
  /**
   * For a verb that is not `longRunning` but holds something to clean up on
   * Ctrl-C (a temporary copy of the database): until the returned function
   * is called, SIGINT/SIGTERM abort `signal` before the process dies of
   * them. Absent when the caller supplies the signal.
   */
  readonly catchSignals?: () => () => void;
}

/**
 * One verb of the `otel-audit` command.
 *
 * @example
 * export const hello: Command = {
 *   name: 'hello', summary: 'print a greeting',
 *   options: [{ name: 'name', type: 'string', description: 'who', required: true }],
 *   async run(ctx) { ctx.stdout.write(`hello ${String(ctx.options['name'])}\n`); return 0; },
 * };
 */
export interface Command {
  readonly name: string;
  /** One line for the tool's help. */
  readonly summary: string;
  /** Longer text shown by `otel-audit <verb> --help` (examples, exit codes). */
  readonly details?: string;
  readonly options: readonly OptionSpec[];
  readonly positionals?: readonly PositionalSpec[];
  /** Accept any number of extra positionals beyond those declared. */
  readonly variadic?: boolean;
  /**
   * Runs until stopped (`tail -f`, `serve`, `collect`): when run from the bin,
   * SIGINT/SIGTERM abort `ctx.signal` instead of killing the process, and the
   * verb returns after cleaning up. Other verbs are killed by them, at once,
   * or, while they hold a temporary copy (`ctx.catchSignals`), after
   * `ctx.signal` has aborted and its listeners removed the copy.
   */
  readonly longRunning?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Exit code: done (verify: intact).
 *
 * @example
 * return report.ok ? EXIT_OK : EXIT_PROBLEMS;
 */
export const EXIT_OK = 0;
/**
 * Exit code: problems found (verify: integrity findings).
 *
 * @example
 * if (!check.ok) return EXIT_PROBLEMS;
 */
export const EXIT_PROBLEMS = 1;
/**
 * Exit code: could not run (usage error, unreadable path, bad key).
 *
 * @example
 * throw new CliError('AUDIT_CLI_INPUT', 'cannot read x.db (ENOENT)', 'check the path', EXIT_USAGE);
 */
export const EXIT_USAGE = 2;

/**
 * The `--json` option, to add to a verb's option list.
 *
 * @example
 * options: [DB_OPTION, JSON_OPTION]
 */
export const JSON_OPTION: OptionSpec = { name: 'json', type: 'boolean', description: 'machine-readable JSON output' };
/**
 * The required `--db FILE` option most verbs take.
 *
 * @example
 * const file = String(ctx.options['db']);
 */
export const DB_OPTION: OptionSpec = { name: 'db', type: 'string', valueName: 'FILE', description: 'path of the SQLite audit database', required: true };
