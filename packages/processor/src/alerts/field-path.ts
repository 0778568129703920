/**
 * Field paths of alert rules (DESIGN §9 over the record of §4.1): dotted
 * names such as `outcome`, `actor.ip` or `details.export.rows`, checked
 * against the record's members once and compiled into getters. Members of
 * `details`, `old` and `new` are free-form and reached at any depth (an
 * array element by its index, `details.items.0`); keys containing a dot
 * cannot be addressed.
 */
import type { SealedRecord } from '@otel-audit/core';
import { AlertConfigError } from './errors.js';
import { didYouMean } from './internal/suggest.js';

/** A sealed record as the engine reads it (an `AuditRecord` fits too). */
export type AlertableRecord = SealedRecord['record'];

/** Reads one field of a record; `undefined` when absent. */
export type FieldGetter = (record: AlertableRecord) => unknown;

const SCALAR_MEMBERS = ['v', 'alg', 'stream', 'seq', 'prev', 'id', 'time', 'type', 'action', 'outcome', 'severity', 'error'];
const OBJECT_MEMBERS: Record<string, readonly string[]> = {
  actor: ['id', 'type', 'ip', 'user_agent'],
  target: ['type', 'id', 'name'],
  request: ['id', 'session_id', 'endpoint', 'method', 'trace_id', 'span_id'],
};
const FREE_MEMBERS = ['details', 'old', 'new', 'redacted'];
const ALL_MEMBERS = [...SCALAR_MEMBERS, ...Object.keys(OBJECT_MEMBERS), ...FREE_MEMBERS];
const FIX = 'write a record field such as "outcome", "actor.id", "actor.ip", "target.type" or "details.<key>"';

type Bag = Record<string, unknown>;
const own = Object.prototype.hasOwnProperty;

/**
 * Check a field path and compile its getter. `path` names the setting in
 * errors.
 *
 * @example
 * const ip = compileFieldPath('actor.ip');
 * ip(sealed.record) // '203.0.113.7'
 */
export function compileFieldPath(field: unknown, path = 'field'): FieldGetter {
  if (typeof field !== 'string' || field === '') throw new AlertConfigError(path, field, 'not a field name', FIX);
  const segments = field.split('.');
  const [head, ...rest] = segments;
  if (segments.some((s) => s === '')) throw new AlertConfigError(path, field, 'empty segment in a dotted path', FIX);
  if (!ALL_MEMBERS.includes(head!)) {
    throw new AlertConfigError(path, field, `"${head}" is not a record member${didYouMean(head!, ALL_MEMBERS)}`, FIX);
  }
  if (SCALAR_MEMBERS.includes(head!)) {
    if (rest.length > 0) throw new AlertConfigError(path, field, `"${head}" has no members`, `write just "${head}"`);
    const key = head!;
    return (r) => (r as unknown as Bag)[key];
  }
  const subs = OBJECT_MEMBERS[head!];
  if (subs !== undefined) {
    if (rest.length !== 1 || !subs.includes(rest[0]!)) {
      throw new AlertConfigError(path, field, `"${head}" has the members ${subs.join(', ')}${rest[0] === undefined ? '' : didYouMean(rest[0], subs)}`, `write one of ${subs.map((s) => `"${head}.${s}"`).join(', ')}`);
    }
    const a = head!;
    const b = rest[0]!;
    return (r) => {
      const o = (r as unknown as Bag)[a] as Bag | undefined;
      return o === undefined ? undefined : o[b];
    };
  }
  // Free-form JSON: own properties only, so "details.constructor" is not Object's.
  const a = head!;
  if (rest.length === 0) return (r) => (r as unknown as Bag)[a];
  if (rest.length === 1) {
    const b = rest[0]!;
    return (r) => {
      const o = (r as unknown as Bag)[a];
      return typeof o === 'object' && o !== null && own.call(o, b) ? (o as Bag)[b] : undefined;
    };
  }
  return (r) => {
    let o: unknown = (r as unknown as Bag)[a];
    for (let i = 0; i < rest.length; i++) {
      if (typeof o !== 'object' || o === null || !own.call(o, rest[i]!)) return undefined;
      o = (o as Bag)[rest[i]!];
    }
    return o;
  };
}
