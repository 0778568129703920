/**
 * The store's record filters as command-line options (DESIGN §6, the
 * exporter-sqlite `RecordFilter`), shared by query, tail and export so the
 * three verbs accept the same flags with the same meaning.
 */
import { InvalidCursorError, type RecordFilter } from '@otel-audit/exporter-sqlite';
import type { CommandContext, OptionSpec } from '../command.js';
import { CliError } from '../errors.js';

/** Option name → RecordFilter key. */
const FILTER_KEYS: readonly (readonly [string, keyof RecordFilter, string, string])[] = [
  ['stream', 'stream', 'STREAM', 'only this stream'],
  ['type', 'eventType', 'TYPE', 'event type: auth, crud, admin, security, system, ...'],
  ['action', 'eventAction', 'ACTION', 'event action: login, create, update, delete, ...'],
  ['actor', 'actorId', 'ID', 'actor id'],
  ['target-type', 'targetType', 'TYPE', 'target type'],
  ['target-id', 'targetId', 'ID', 'target id'],
  ['severity', 'severity', 'LEVEL', 'debug, info, warning, error, critical'],
  ['outcome', 'result', 'OUTCOME', 'success, failure, error, unknown'],
  ['request-id', 'requestId', 'ID', 'request id'],
  ['since', 'since', 'TIME', 'records at or after this ISO-8601 time'],
  ['until', 'until', 'TIME', 'records before this ISO-8601 time'],
  ['text', 'text', 'TEXT', 'substring of the details (not with encryption at rest)'],
];

/**
 * The filter options, to spread into a verb's option list.
 *
 * @example
 * options: [DB_OPTION, ...FILTER_OPTIONS, JSON_OPTION]
 */
export const FILTER_OPTIONS: readonly OptionSpec[] = FILTER_KEYS.map(([name, , valueName, description]) => ({ name, type: 'string', valueName, description }));

/**
 * The `RecordFilter` of the parsed options.
 *
 * @example
 * store.query({ ...filterOf(ctx), limit: 50 })
 */
export function filterOf(ctx: Pick<CommandContext, 'options'>): RecordFilter {
  const filter: Record<string, string> = {};
  for (const [name, key] of FILTER_KEYS) {
    const v = ctx.options[name];
    if (typeof v === 'string') filter[key] = v;
  }
  return filter as RecordFilter;
}

/**
 * Runs a store call, turning the store's argument errors (bad date, bad
 * limit, foreign cursor) into usage errors that name the option.
 *
 * @example
 * const page = storeCall(() => store.query(q));
 */
export function storeCall<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw asUsageError(e);
  }
}

/**
 * {@link storeCall} for promises.
 *
 * @example
 * const { records } = await storeCallAsync(() => store.exportTo(out, options));
 */
export async function storeCallAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw asUsageError(e);
  }
}

function asUsageError(e: unknown): unknown {
  if (e instanceof RangeError || e instanceof TypeError) {
    const option = optionNameIn(e.message);
    return new CliError('AUDIT_CLI_USAGE', e.message, option ? `fix ${option}; dates are ISO-8601 such as 2026-01-31T12:00:00Z` : 'check the options (see --help)');
  }
  if (e instanceof InvalidCursorError) {
    return new CliError('AUDIT_CLI_USAGE', e.message, 'pass the cursor printed by the previous page of the same query, or drop --cursor');
  }
  return e;
}

function optionNameIn(message: string): string | undefined {
  const m = /\b(?:query|options|filter)\.(\w+)/.exec(message);
  if (!m) return undefined;
  const key = m[1];
  const found = FILTER_KEYS.find(([, k]) => k === key);
  return found ? `--${found[0]}` : `--${key}`;
}
