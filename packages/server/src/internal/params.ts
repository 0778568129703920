/**
 * Query-string validation of the API routes (issue 7 "Input validation"):
 * each route declares its parameters as data; anything else — an unknown
 * name, a repeated name, a value of the wrong shape or out of range — is a
 * 400 that names the parameter, the value and what is accepted. Values are
 * only ever passed on as typed data (the store binds them as SQL
 * parameters), never as text to interpret.
 */
import { HttpError } from '../errors.js';

/** How one parameter is read. */
export type ParamSpec =
  | { kind: 'string'; max?: number }
  | { kind: 'time' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' };

/** The parameters of a route by name. */
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** Parsed parameters: strings, numbers and booleans by name. */
export type Params = Record<string, string | number | boolean>;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const MAX_STRING = 1024;
/** The latest time a record can carry: 2^63-1 nanoseconds, in whole milliseconds. */
const MAX_TIME_MILLIS = Number((2n ** 63n - 1n) / 1_000_000n);

function bad(message: string): HttpError {
  return new HttpError('AUDIT_HTTP_BAD_REQUEST', message);
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Reads `search` against `specs`; throws a 400 `HttpError` naming every unknown parameter. */
export function parseParams(search: URLSearchParams, specs: ParamSpecs): Params {
  const names = [...search.keys()];
  const unknown = [...new Set(names.filter((n) => !Object.hasOwn(specs, n)))];
  if (unknown.length > 0) {
    const known = Object.keys(specs);
    throw bad(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => show(n)).join(', ')}; this route accepts ${known.length ? known.join(', ') : 'no parameters'}`);
  }
  const out: Params = {};
  for (const [name, spec] of Object.entries(specs)) {
    const values = search.getAll(name);
    if (values.length === 0) continue;
    if (values.length > 1) throw bad(`parameter ${name} is given ${values.length} times; give it once`);
    out[name] = parseOne(name, values[0]!, spec);
  }
  return out;
}

function parseOne(name: string, v: string, spec: ParamSpec): string | number | boolean {
  switch (spec.kind) {
    case 'string': {
      const max = spec.max ?? MAX_STRING;
      if (v.length === 0 || v.length > max) throw bad(`${name} must be 1..${max} characters; got ${v.length}`);
      return v;
    }
    case 'time': {
      if (!ISO.test(v) || Number.isNaN(Date.parse(v.replace(/\.\d{1,9}/, '')))) throw bad(`${name} must be an ISO-8601 date or date-time such as 2026-01-31T12:00:00Z; got ${show(v)}`);
      const ms = millis(v);
      if (ms < 0 || ms > MAX_TIME_MILLIS) throw bad(`${name} must lie between 1970-01-01 and 2262-04-11 (record times are Unix nanoseconds 0..2^63-1); got ${show(v)}`);
      return v;
    }
    case 'int': {
      const n = /^-?\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) throw bad(`${name} must be an integer in ${spec.min}..${spec.max}; got ${show(v)}`);
      return n;
    }
    case 'enum': {
      if (!spec.values.includes(v)) throw bad(`${name} must be one of ${spec.values.join(', ')}; got ${show(v)}`);
      return v;
    }
    case 'bool': {
      if (v !== 'true' && v !== 'false') throw bad(`${name} must be true or false; got ${show(v)}`);
      return v === 'true';
    }
  }
}

/** The record filters shared by logs and export: HTTP name → store filter key. */
export const FILTER_PARAMS = Object.freeze({
  type: 'eventType', action: 'eventAction', outcome: 'result', severity: 'severity', actor: 'actorId',
  target_type: 'targetType', target_id: 'targetId', stream: 'stream', exclude_stream: 'excludeStream', request_id: 'requestId', since: 'since', until: 'until', q: 'text',
} as const);

/** Milliseconds of a validated ISO-8601 text (fraction beyond ms ignored). */
export function millis(iso: string): number {
  return Date.parse(iso.replace(/\.\d{1,9}/, ''));
}

/** Specs of the filter parameters. */
export const FILTER_SPECS: ParamSpecs = Object.freeze({
  type: { kind: 'string', max: 128 }, action: { kind: 'string', max: 128 }, outcome: { kind: 'enum', values: ['success', 'failure', 'error', 'unknown'] },
  severity: { kind: 'enum', values: ['debug', 'info', 'warning', 'error', 'critical'] }, actor: { kind: 'string' }, target_type: { kind: 'string', max: 128 },
  target_id: { kind: 'string' }, stream: { kind: 'string' }, exclude_stream: { kind: 'string' }, request_id: { kind: 'string' }, since: { kind: 'time' }, until: { kind: 'time' }, q: { kind: 'string', max: 256 },
});

/** Days of the default window of logs and export when no `since` is given. */
export const DEFAULT_WINDOW_DAYS = 7;

/**
 * The store filter of parsed filter parameters; without `since`, the last
 * {@link DEFAULT_WINDOW_DAYS} days before `until` (or now).
 */
export function toStoreFilter(params: Params, now = Date.now()): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const [http, key] of Object.entries(FILTER_PARAMS)) {
    const v = params[http];
    if (typeof v === 'string') filter[key] = v;
  }
  if (filter.since === undefined) {
    const end = filter.until === undefined ? now : millis(filter.until);
    filter.since = new Date(end - DEFAULT_WINDOW_DAYS * 86_400_000).toISOString();
  }
  if (filter.until !== undefined && millis(filter.since) > millis(filter.until)) throw bad('since must not be after until');
  return filter;
}
