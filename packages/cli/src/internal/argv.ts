/**
 * The argv parser of the `otel-audit` command (DESIGN §7): parses a verb's
 * arguments against its declared {@link OptionSpec}s, so every verb gets the
 * same `--opt value`, `--opt=value`, `-a value`, `--no-flag`, `--` handling,
 * and the same messages for unknown options, missing values and wrong types.
 */
import type { Command, OptionSpec, OptionValues } from '../command.js';
import { CliError } from '../errors.js';

/**
 * Result of parsing one verb's arguments.
 *
 * @example
 * const { options, positionals, help }: ParsedArgs = parseArgs(command, argv);
 */
export interface ParsedArgs {
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

function usageError(command: Command, message: string): CliError {
  return new CliError('AUDIT_CLI_USAGE', message, `run \`otel-audit ${command.name} --help\` for the options`);
}

function findSpec(command: Command, token: string): OptionSpec | undefined {
  if (token.startsWith('--')) return command.options.find((o) => o.name === token.slice(2));
  return command.options.find((o) => o.alias !== undefined && o.alias === token.slice(1));
}

function coerce(command: Command, spec: OptionSpec, raw: string): string | number {
  if (spec.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw usageError(command, `--${spec.name} must be a number, got ${JSON.stringify(raw)}`);
    }
    return n;
  }
  if (spec.choices !== undefined && !spec.choices.includes(raw)) {
    throw usageError(command, `--${spec.name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * Parses `args` (everything after the verb) against `command`'s declaration.
 * Throws {@link CliError} (exit 2) naming the offending option.
 *
 * @example
 * parseArgs(verifyCommand, ['audit.db', '--key', 'a.vkey', '--json'])
 * // { options: { key: ['a.vkey'], json: true }, positionals: ['audit.db'], help: false }
 */
export function parseArgs(command: Command, args: readonly string[]): ParsedArgs {
  const values: Record<string, string | boolean | number | string[] | undefined> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (arg === '--help' || arg === '-h') { help = true; continue; }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) { positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    const token = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    let inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    let spec = findSpec(command, token);
    let negated = false;
    if (spec === undefined && token.startsWith('--no-')) {
      const base = command.options.find((o) => o.name === token.slice(5) && o.type === 'boolean');
      if (base !== undefined) { spec = base; negated = true; }
    }
    if (spec === undefined) throw usageError(command, `unknown option ${token}`);
    if (spec.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') {
        throw usageError(command, `--${spec.name} takes no value, got ${JSON.stringify(inline)}`);
      }
      values[spec.name] = negated ? false : inline !== 'false';
      continue;
    }
    if (inline === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw usageError(command, `--${spec.name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`);
      }
      inline = next;
      i++;
    }
    if (spec.type === 'string[]') {
      const list = (values[spec.name] as string[] | undefined) ?? [];
      list.push(inline);
      values[spec.name] = list;
    } else {
      values[spec.name] = coerce(command, spec, inline);
    }
  }
  if (!help) checkComplete(command, values, positionals);
  for (const spec of command.options) {
    if (values[spec.name] === undefined && spec.default !== undefined) {
      values[spec.name] = spec.default as string | boolean | number | string[];
    }
  }
  return { options: values, positionals, help };
}

function checkComplete(command: Command, values: Record<string, unknown>, positionals: readonly string[]): void {
  for (const spec of command.options) {
    if (spec.required === true && values[spec.name] === undefined) {
      throw usageError(command, `missing required option --${spec.name}${spec.valueName ? ` ${spec.valueName}` : ''}`);
    }
  }
  const declared = command.positionals ?? [];
  declared.forEach((p, index) => {
    if (p.required === true && positionals[index] === undefined) {
      throw usageError(command, `missing argument ${p.name.toUpperCase()}`);
    }
  });
  if (command.variadic !== true && positionals.length > declared.length) {
    throw usageError(command, `unexpected argument ${JSON.stringify(positionals[declared.length])}`);
  }
}
