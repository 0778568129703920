/**
 * The record filters shared by query, export and stats (the seed API's
 * filters, DESIGN §6): each becomes one parameterised SQL term, never
 * interpolated text. Free text is a `LIKE` over `details` with `%`, `_` and
 * the escape character escaped, so user input is always matched literally.
 * (FTS5 would index every word of every row on the insert path, which the
 * insert-rate budget of §6 does not allow; the text filter runs after the
 * indexed filters have narrowed the rows.)
 */
import { toNanos, type TimeInput } from './time-input.js';

/** Filters of query and export. All are optional and combine with AND. */
export interface RecordFilter {
  stream?: string;
  /** Records of every stream but this one (a query server leaves its own access records out). */
  excludeStream?: string;
  eventType?: string;
  eventAction?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  severity?: string;
  /** The outcome: `success`, `failure`, `error`, `unknown`. */
  result?: string;
  requestId?: string;
  /** Records at or after this time. */
  since?: TimeInput;
  /** Records before this time. */
  until?: TimeInput;
  /** Case-insensitive (ASCII) substring of the details JSON text. */
  text?: string;
}

const COLUMN_OF = {
  stream: 'stream', eventType: 'event_type', eventAction: 'event_action', actorId: 'actor_id', targetType: 'target_type',
  targetId: 'target_id', severity: 'severity', result: 'event_result', requestId: 'request_id',
} as const;

const FILTER_KEYS = new Set<string>([...Object.keys(COLUMN_OF), 'excludeStream', 'since', 'until', 'text']);
const MAX_VALUE = 1024;

/** SQL terms and their parameters. */
export interface SqlWhere {
  terms: string[];
  params: unknown[];
}

/** Escape `%`, `_` and `\` for `LIKE ... ESCAPE '\'`. */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Validate `filter` (unknown keys and non-strings refused, so a typo never
 * silently widens a query) and translate it to SQL terms.
 */
export function filterToSql(filter: Record<string, unknown>, name: string, allowed: ReadonlySet<string>, encrypted: boolean): SqlWhere {
  const terms: string[] = [];
  const params: unknown[] = [];
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.has(key) && !allowed.has(key)) throw new RangeError(`${name}.${key} is not a known option; filters are ${[...FILTER_KEYS].join(', ')}`);
  }
  for (const [key, column] of Object.entries(COLUMN_OF)) {
    const v = filter[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new TypeError(`${name}.${key} must be a string; got ${v === null ? 'null' : typeof v}`);
    if (v.length > MAX_VALUE) throw new RangeError(`${name}.${key} must be at most ${MAX_VALUE} characters`);
    terms.push(`${column} = ?`);
    params.push(v);
  }
  const excluded = filter.excludeStream;
  if (excluded !== undefined) {
    if (typeof excluded !== 'string') throw new TypeError(`${name}.excludeStream must be a string; got ${excluded === null ? 'null' : typeof excluded}`);
    if (excluded.length > MAX_VALUE) throw new RangeError(`${name}.excludeStream must be at most ${MAX_VALUE} characters`);
    terms.push('stream <> ?');
    params.push(excluded);
  }
  const since = toNanos(filter.since as TimeInput | undefined, `${name}.since`);
  const until = toNanos(filter.until as TimeInput | undefined, `${name}.until`);
  if (since !== undefined && until !== undefined && since > until) throw new RangeError(`${name}.since must not be after ${name}.until`);
  if (since !== undefined) {
    terms.push('time_unix_nano >= ?');
    params.push(since);
  }
  if (until !== undefined) {
    terms.push('time_unix_nano < ?');
    params.push(until);
  }
  const text = filter.text;
  if (text !== undefined) {
    if (typeof text !== 'string') throw new TypeError(`${name}.text must be a string; got ${text === null ? 'null' : typeof text}`);
    if (text.length === 0 || text.length > MAX_VALUE) throw new RangeError(`${name}.text must be 1..${MAX_VALUE} characters`);
    if (encrypted) throw new RangeError(`${name}.text cannot search details: encryption at rest is on and details are stored sealed`);
    terms.push("details LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscape(text)}%`);
  }
  return { terms, params };
}
