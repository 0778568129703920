/**
 * @otel-audit/cli — the `otel-audit` command (DESIGN §1, §7): a thin shell
 * over core, exporter-sqlite, node and server. `main(argv, io)` runs it
 * in-process and returns the exit code; `bin/otel-audit.js` calls it.
 */
export { main } from './main.js';
export type { MainIo } from './main.js';
export { commands } from './commands/index.js';
export { CliError } from './errors.js';
export type { CliErrorCode } from './errors.js';
export { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, JSON_OPTION, DB_OPTION } from './command.js';
export type {
  Command,
  CommandContext,
  OptionSpec,
  OptionType,
  OptionValues,
  PositionalSpec,
  ProgressReporter,
  Writer,
} from './command.js';
