/**
 * The argv parser of the `otel-audit` command (DESIGN §7): parses a verb's
 * arguments against its declared {@link OptionSpec}s, so every verb gets the
 * same `--opt value`, `--opt=value`, `-a value`, `--no-flag`, `--` handling,
 * and the same messages for unknown options (with the ones they are close
 * to), missing values and wrong types.
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

/**
 * `unknown option --kye`, with the options it is close to. `--db` given to
 * a verb that takes the database as its argument (verify: `DB, BUNDLE or
 * FILE.jsonl`) is told so, with the command to run.
 */
function unknownOption(command: Command, token: string, value: string | undefined): CliError {
  const help = `run \`otel-audit ${command.name} --help\` for the options`;
  const positional = command.positionals?.[0];
  if (token === '--db' && positional !== undefined && /\bDB\b/.test(positional.description) && !command.options.some((o) => o.name === 'db')) {
    const file = value !== undefined && value !== '' && !value.startsWith('-') ? shellWord(value) : 'audit.db';
    return new CliError('AUDIT_CLI_USAGE', `unknown option --db: ${command.name} takes the database as an argument, not as --db`, `pass the file as the argument: \`otel-audit ${command.name} ${file}\` (see \`otel-audit ${command.name} --help\`)`);
  }
  const near = token.startsWith('--') ? suggest(token.slice(2), command.options.map((o) => o.name)) : [];
  const fix = near.length > 0 ? `did you mean ${orList(near.map((n) => `--${n}`))}? (${help})` : help;
  return new CliError('AUDIT_CLI_USAGE', `unknown option ${token}`, fix);
}

/** `value` as one shell word: quoted unless it is plain path characters. */
function shellWord(value: string): string {
  return /^[\w./:@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
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
    // A filter value outside the vocabulary would match nothing: "no records" would read as "none happened".
    const close = closestChoice(raw, spec.choices);
    throw new CliError(
      'AUDIT_CLI_USAGE',
      `--${spec.name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`,
      close !== undefined ? `did you mean --${spec.name} ${close}?` : `pass one of ${spec.choices.join(', ')} (see \`otel-audit ${command.name} --help\`)`,
    );
  }
  return raw;
}

/** Edit distance (insert, delete, substitute, swap two neighbours) between two short strings. */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) next[j] = Math.min(next[j]!, before[j - 2]! + 1);
    }
    before = row;
    row = next;
  }
  return row[b.length]!;
}

/**
 * The words of `candidates` the user likely meant by `word`: the nearest
 * within two edits (fewer than `word` has letters), else those it begins
 * (`ver` → verify, verify-proof) or that it extends (`verifyy`), as the
 * config loader suggests keys.
 *
 * @example
 * suggest('verfy', ['keygen', 'verify', 'verify-proof']) // ['verify']
 */
export function suggest(word: string, candidates: readonly string[]): string[] {
  const w = word.toLowerCase();
  if (w.length > 64) return [];
  const scored = candidates.map((c) => ({ c, d: distance(w, c.toLowerCase()) }));
  const best = Math.min(...scored.map((x) => x.d));
  if (best <= Math.min(2, w.length - 1)) return scored.filter((x) => x.d === best).map((x) => x.c);
  if (w.length < 2) return [];
  return candidates.filter((c) => c.toLowerCase().startsWith(w) || (c.length >= 3 && w.startsWith(c.toLowerCase())));
}

/**
 * `a`, `a or b`, `a, b or c`.
 *
 * @example
 * orList(['--since', '--stream']) // '--since or --stream'
 */
export function orList(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]!}`;
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * The choice the user most likely meant: the same word in another case, one
 * within two edits (`failur`), or the only one sharing a stem of at least
 * three letters (`warn` → warning, `failed` → failure).
 */
function closestChoice(raw: string, choices: readonly string[]): string | undefined {
  const value = raw.trim().toLowerCase();
  const exact = choices.find((c) => c.toLowerCase() === value);
  if (exact !== undefined) return exact;
  const near = choices.map((c) => ({ c, d: distance(value, c.toLowerCase()) })).filter((x) => x.d <= 2).sort((x, y) => x.d - y.d);
  if (near.length > 0 && (near.length === 1 || near[0]!.d < near[1]!.d)) return near[0]!.c;
  const stems = choices.filter((c) => commonPrefix(value, c.toLowerCase()) >= Math.min(3, value.length) && value.length >= 2);
  return stems.length === 1 ? stems[0] : undefined;
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
    if (spec === undefined) throw unknownOption(command, token, inline ?? args[i + 1]);
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
