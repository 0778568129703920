/**
 * The store's record filters as command-line options (DESIGN §6, the
 * exporter-sqlite `RecordFilter`), shared by query, tail and export so the
 * three verbs accept the same flags with the same meaning. `--severity` and
 * `--outcome` are closed vocabularies (format §4.1): they are declared as
 * choices, so a value outside them (`--outcome failed`) is refused before the
 * store is opened instead of matching nothing. `--type`, `--action` and the
 * ids are open vocabularies, stored as written: any value is a fair query.
 */
import { AUDIT_OUTCOMES, AUDIT_SEVERITIES } from '@otel-audit/core';
import { InvalidCursorError, type RecordFilter } from '@otel-audit/exporter-sqlite';
import type { CommandContext, OptionSpec } from '../command.js';
import { CliError } from '../errors.js';

/** Option name → RecordFilter key, value name, description and, for closed vocabularies, the allowed values. */
const FILTER_KEYS: readonly (readonly [string, keyof RecordFilter, string, string, (readonly string[])?])[] = [
  ['stream', 'stream', 'STREAM', 'only this stream'],
  ['type', 'eventType', 'TYPE', 'event type: auth, crud, admin, security, system, ...'],
  ['action', 'eventAction', 'ACTION', 'event action: login, create, update, delete, ...'],
  ['actor', 'actorId', 'ID', 'actor id'],
  ['target-type', 'targetType', 'TYPE', 'target type'],
  ['target-id', 'targetId', 'ID', 'target id'],
  ['severity', 'severity', 'LEVEL', 'severity', AUDIT_SEVERITIES],
  ['outcome', 'result', 'OUTCOME', 'outcome of the action', AUDIT_OUTCOMES],
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
export const FILTER_OPTIONS: readonly OptionSpec[] = FILTER_KEYS.map(([name, , valueName, description, choices]) => ({ name, type: 'string', valueName, description, ...(choices !== undefined ? { choices } : {}) }));

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
 * How the command line names a store argument that is not a filter
 * (`query.limit` is `-n/--lines` for tail), and the fix of a bad value.
 *
 * @example
 * const names: StoreArgNames = { limit: { option: '-n/--lines', fix: 'pass -n in that range, e.g. -n 50' } };
 */
export type StoreArgNames = Readonly<Record<string, { readonly option: string; readonly fix: string }>>;

/**
 * Runs a store call, turning the store's argument errors (bad date, bad
 * limit, foreign cursor) into usage errors that name the option as typed
 * (`names` for the verb's own options, the filter options otherwise) and
 * its fix.
 *
 * @example
 * const page = storeCall(() => store.query(q), { limit: { option: '-n/--limit', fix: 'pass --limit in that range' } });
 */
export function storeCall<T>(call: () => T, names: StoreArgNames = {}): T {
  try {
    return call();
  } catch (e) {
    throw asUsageError(e, names);
  }
}

/**
 * {@link storeCall} for promises.
 *
 * @example
 * const { records } = await storeCallAsync(() => store.exportTo(out, options));
 */
export async function storeCallAsync<T>(call: () => Promise<T>, names: StoreArgNames = {}): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw asUsageError(e, names);
  }
}

/** `query.since`, `options.fromSeq`, `filter.text`: a store argument named in a store error. */
const STORE_ARG = /\b(?:query|options|filter)\.(\w+)/g;

function optionOf(key: string, names: StoreArgNames): string {
  const named = names[key];
  if (named !== undefined) return named.option;
  const filter = FILTER_KEYS.find(([, k]) => k === key);
  return `--${filter !== undefined ? filter[0] : key}`;
}

function fixOf(key: string, message: string, names: StoreArgNames): string {
  const named = names[key];
  if (named !== undefined) return named.fix;
  const option = optionOf(key, names);
  if (key === 'since' || key === 'until') {
    return /must not be after/.test(message) ? 'give a --since earlier than --until' : `write ${option} as an ISO-8601 time such as 2026-01-31T12:00:00Z`;
  }
  if (key === 'text' && /encryption/.test(message)) return 'leave out --text: the details are sealed at rest; narrow with the other filters';
  return `change ${option} as said above`;
}

function asUsageError(e: unknown, names: StoreArgNames): unknown {
  if (e instanceof RangeError || e instanceof TypeError) {
    const key = [...e.message.matchAll(STORE_ARG)][0]?.[1];
    if (key === undefined) return new CliError('AUDIT_CLI_USAGE', e.message, 'check the options (see --help)');
    return new CliError('AUDIT_CLI_USAGE', e.message.replace(STORE_ARG, (_m, k: string) => optionOf(k, names)), fixOf(key, e.message, names));
  }
  if (e instanceof InvalidCursorError) {
    return new CliError('AUDIT_CLI_USAGE', e.message, 'pass the cursor printed by the previous page of the same query, or drop --cursor');
  }
  return e;
}
