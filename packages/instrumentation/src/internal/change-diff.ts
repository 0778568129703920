/**
 * The difference between the values before and after a change, for
 * `audit.change()` (DESIGN §1 use 2: "before/after values of a change").
 * Objects are compared member by member at the top level (the granularity of
 * the seed's `old_values`/`new_values` columns), nested values by deep JSON
 * equality; anything else is compared as a whole. Member names are the
 * caller's data (often a client's JSON): a `"__proto__"` member is compared
 * and copied as a member like any other.
 */
import { setOwnMember } from '@otel-audit/core';

/** What `change()` records: the action, the changed fields, and the trimmed old/new. */
export interface ChangeDiff {
  action: 'create' | 'update' | 'delete';
  /** Top-level members that differ, sorted; `undefined` when old/new are not both objects. */
  changed: string[] | undefined;
  old: unknown;
  new: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Deep equality of JSON-like values (plain objects, arrays, primitives, Dates by time). */
export function jsonEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (Object.is(a, b)) return true;
  if (depth > 64) return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k], depth + 1)) return false;
    return true;
  }
  return false;
}

/**
 * Compare `before` and `after`. A missing side (`undefined` or `null`) makes
 * the change a `create` or `delete` and keeps the other side whole; two
 * objects give an `update` restricted to the members that differ (a member
 * removed appears in `old` only, one added in `new` only).
 *
 * @throws RangeError when both sides are missing.
 */
export function diffChange(before: unknown, after: unknown): ChangeDiff {
  const hasOld = before !== undefined && before !== null;
  const hasNew = after !== undefined && after !== null;
  if (!hasOld && !hasNew) throw new RangeError('change: at least one of old and new must be given');
  if (!hasOld) return { action: 'create', changed: undefined, old: undefined, new: after };
  if (!hasNew) return { action: 'delete', changed: undefined, old: before, new: undefined };
  if (!isPlainObject(before) || !isPlainObject(after)) {
    return { action: 'update', changed: undefined, old: before, new: after };
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  const o: Record<string, unknown> = {};
  const n: Record<string, unknown> = {};
  for (const k of keys) {
    // Own members only: `before.__proto__` of an object without that member is its prototype.
    const a = Object.hasOwn(before, k) ? before[k] : undefined;
    const b = Object.hasOwn(after, k) ? after[k] : undefined;
    if (jsonEqual(a, b)) continue;
    changed.push(k);
    if (a !== undefined) setOwnMember(o, k, a);
    if (b !== undefined) setOwnMember(n, k, b);
  }
  changed.sort();
  return { action: 'update', changed, old: o, new: n };
}
