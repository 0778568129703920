/**
 * The entry of the `otel-audit` command (DESIGN §7): picks the verb from
 * argv, parses its options against the declaration, builds the
 * {@link CommandContext} and runs it, turning thrown errors into a message on
 * stderr (problem + fix) and exit code 2.
 */
import { readFileSync } from 'node:fs';
import type { Command, CommandContext, Writer } from './command.js';
import { EXIT_USAGE } from './command.js';
import { commands as registry } from './commands/index.js';
import { CliError, fixOfError } from './errors.js';
import { orList, parseArgs, suggest } from './internal/argv.js';
import { commandHelp, toolHelp } from './internal/help.js';
import { createProgress } from './internal/progress.js';
import { outputFailureOf, processStdout } from './internal/stdout-writer.js';
import { escapeControl } from './internal/table.js';

/**
 * Streams and environment `main` runs against (defaults: the process's).
 *
 * @example
 * const io: MainIo = { stdout: process.stdout, env: { ...process.env, AUDIT_LOG_ENCRYPTION: 'false' }, cwd: '/srv/app' };
 */
export interface MainIo {
  readonly stdout?: Writer;
  readonly stderr?: Writer;
  readonly stdin?: NodeJS.ReadableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Stops long-running verbs (`tail -f`, `serve`) when aborted. */
  readonly signal?: AbortSignal;
  /** Verbs to dispatch on (default: the built-in registry). */
  readonly commands?: readonly Command[];
}

/**
 * Runs `otel-audit` with `argv` (without the node and script paths) and
 * returns the exit code: 0 ok/intact, 1 problems found, 2 could not run.
 *
 * @example
 * const out: string[] = [];
 * const code = await main(['verify', 'audit.db', '--json'], { stdout: { write: (s) => out.push(s) } });
 */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? processStdout();
  const stderr = io.stderr ?? process.stderr;
  try {
    return await dispatch(argv, io, stdout, stderr);
  } catch (error) {
    // Help or version text that could not be written: no verb to name.
    const failed = outputFailureOf(stdout);
    if (failed === undefined) throw error;
    stderr.write(`otel-audit: ${failed.message}\n  fix: ${failed.fix}\n`);
    return failed.exitCode;
  }
}

async function dispatch(argv: readonly string[], io: MainIo, stdout: Writer, stderr: Writer): Promise<number> {
  const commands = io.commands ?? registry;
  const [verb, ...rest] = argv;
  if (verb === '--version' || verb === '-V') {
    stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    const target = verb === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    (verb === undefined ? stderr : stdout).write(target !== undefined ? commandHelp(target) : toolHelp(commands));
    return verb === undefined ? EXIT_USAGE : 0;
  }
  const command = commands.find((c) => c.name === verb);
  if (command === undefined) {
    const near = suggest(verb, commands.map((c) => c.name));
    const fix = near.length > 0 ? `did you mean ${orList(near.map((n) => `\`otel-audit ${n}\``))}? (run \`otel-audit --help\` for the list of commands)` : 'run `otel-audit --help` for the list of commands';
    stderr.write(`otel-audit: unknown command ${safeLines(JSON.stringify(verb))}\n  fix: ${fix}\n`);
    return EXIT_USAGE;
  }
  let stopOnSignal: (() => void) | undefined;
  try {
    const parsed = parseArgs(command, rest);
    if (parsed.help) { stdout.write(commandHelp(command)); return 0; }
    const json = parsed.options['json'] === true;
    let signal = io.signal;
    let catchSignals: (() => () => void) | undefined;
    if (signal === undefined) ({ signal, catchSignals, stop: stopOnSignal } = abortOnSignals(command.longRunning === true));
    const ctx: CommandContext = {
      options: parsed.options,
      positionals: parsed.positionals,
      stdout,
      stderr,
      ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
      isTTY: stdout.isTTY === true,
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      json,
      progress: createProgress(stderr, !json),
      signal,
      ...(catchSignals !== undefined ? { catchSignals } : {}),
    };
    const code = await command.run(ctx);
    // A verb that caught the error of a failed write still must not exit 0 with the output cut.
    const failed = outputFailureOf(stdout);
    return failed === undefined ? code : reportError(command, stderr, failed, io.env ?? process.env);
  } catch (error) {
    // Whatever a failed write led to, the failed write is what the user must hear about.
    return reportError(command, stderr, outputFailureOf(stdout) ?? error, io.env ?? process.env);
  } finally {
    stopOnSignal?.();
  }
}

/**
 * The signal of a verb run with the process's signals. A `longRunning` verb
 * has SIGINT and SIGTERM abort it (once; it stops and returns). Any other
 * verb is killed by them at once, as without a handler, except while it
 * holds something to clean up (`catchSignals`, e.g. a temporary copy of the
 * database): then the signal aborts it, the abort listeners clean up, and
 * the process dies of the signal (unless the host has listeners of its own).
 */
function abortOnSignals(longRunning: boolean): { signal: AbortSignal; catchSignals: () => () => void; stop: () => void } {
  const controller = new AbortController();
  let installed = false;
  let holders = 0;
  const install = (): void => {
    if (installed || controller.signal.aborted) return;
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  };
  const stop = (): void => {
    if (!installed) return;
    installed = false;
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  function onSignal(name: NodeJS.Signals): void {
    stop();
    controller.abort();
    if (!longRunning && process.listenerCount(name) === 0) process.kill(process.pid, name);
  }
  const catchSignals = (): (() => void) => {
    holders++;
    install();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // A signal that came during synchronous work is dispatched at the next turn of the loop: let it be, not lost.
      if (--holders === 0 && !longRunning) setImmediate(() => { if (holders === 0) stop(); });
    };
  };
  if (longRunning) install();
  const stopAfterPending = (): void => { if (installed) setImmediate(stop); };
  return { signal: controller.signal, catchSignals, stop: longRunning ? stop : stopAfterPending };
}

/** An error message with the control characters of its lines escaped (it may quote the input). */
function safeLines(text: string): string {
  return text.split('\n').map(escapeControl).join('\n');
}

function reportError(command: Command, stderr: Writer, error: unknown, env: NodeJS.ProcessEnv): number {
  const debug = env['OTEL_AUDIT_DEBUG'] === '1';
  if (error instanceof CliError) {
    stderr.write(`otel-audit ${command.name}: ${safeLines(error.message)}\n  fix: ${safeLines(error.fix)}\n`);
    return error.exitCode;
  }
  const message = safeLines(error instanceof Error ? error.message : String(error));
  const code = typeof (error as { code?: unknown })?.code === 'string' ? ` [${(error as { code: string }).code}]` : '';
  stderr.write(`otel-audit ${command.name}: ${message}${code}\n`);
  const known = fixOfError(error, env);
  if (debug && error instanceof Error && error.stack !== undefined) stderr.write(`${error.stack}\n`);
  // A fix may quote the store (a key id): escaped as the message is.
  stderr.write(`  fix: ${known !== undefined ? safeLines(known) : 'check the inputs named above; set OTEL_AUDIT_DEBUG=1 for the stack trace'}\n`);
  return EXIT_USAGE;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
