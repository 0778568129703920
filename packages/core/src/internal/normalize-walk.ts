/**
 * The walk that normalisation makes over producer input (see
 * normalize-record.ts for the rules): its state (size budget, JSON Pointer
 * path, cycle detection, canonical-order tracking, redaction), the errors
 * it raises, and the readers of one value — strings, hex, enums, times and
 * free-form JSON (`details`, `old`, `new`). The record's members and their
 * order are normalize-record.ts's.
 */
import { describe, pointerOf } from '../canonical.js';
import { RecordValidationError } from '../errors.js';
import type { NormalizeOptions, RedactionHook } from '../normalize-record.js';
import type { JsonValue } from '../record.js';
import { maskedName, maskedText } from './normalize-mask.js';
import { setOwnMember } from '../own-member.js';

const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_LENGTH = 1 << 20;
const DEFAULT_MAX_FIELD_LENGTH = 8192;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX = /^[0-9a-f]*$/;
const MAX_TIME = 2n ** 63n - 1n;
const MAX_TIME_TEXT = MAX_TIME.toString();
export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * Mutable state of one normalisation: the remaining size budget, the path
 * of the value being read (turned into a JSON Pointer only for an error),
 * the objects being read (for cycle detection), and whether every object
 * built so far has insertion order equal to canonical order.
 */
export interface Walk {
  remaining: number;
  maxDepth: number;
  maxFieldLength: number;
  path: (string | number)[];
  ancestors: object[];
  ordered: boolean;
  /** Freeze what is built; off only for the sealing hot path (see sealChainedEvent). */
  freeze: boolean;
  redact: RedactionHook | undefined;
  /** Pointers replaced by `redact` during this walk. */
  redacted: string[] | undefined;
  /** Above 0 inside a member whose name is redacted: its value is replaced whole, so its strings are not masked first. */
  maskOff: number;
}

export function fail(walk: Walk, message: string): never {
  throw new RecordValidationError(pointerOf(walk.path), message);
}

export function failAt(pointer: string, message: string): never {
  throw new RecordValidationError(pointer, message);
}

export function checkBudget(walk: Walk): void {
  if (walk.remaining < 0) fail(walk, 'record is larger than the maxLength limit; shorten it or raise limits.maxLength (processors.chain.limits.max_length in otel-config.yaml)');
}

// One walk state reused by every call: normalisation is synchronous, and a
// re-entrant call (a getter that normalises) gets a fresh one. Saves three
// allocations per record on the hot path.
const shared: Walk = { remaining: 0, maxDepth: 0, maxFieldLength: 0, path: [], ancestors: [], ordered: true, freeze: true, redact: undefined, redacted: undefined, maskOff: 0 };
let sharedBusy = false;

export function startWalk(options: NormalizeOptions | undefined): Walk {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxFieldLength = options?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) throw new RangeError(`options.maxDepth must be a positive integer; got ${String(maxDepth)}`);
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new RangeError(`options.maxLength must be a positive integer; got ${String(maxLength)}`);
  if (!Number.isSafeInteger(maxFieldLength) || maxFieldLength < 1) throw new RangeError(`options.maxFieldLength must be a positive integer; got ${String(maxFieldLength)}`);
  let walk: Walk;
  if (sharedBusy) {
    walk = { remaining: 0, maxDepth: 0, maxFieldLength: 0, path: [], ancestors: [], ordered: true, freeze: true, redact: undefined, redacted: undefined, maskOff: 0 };
  } else {
    sharedBusy = true;
    walk = shared;
    walk.path.length = 0;
    walk.ancestors.length = 0;
    walk.ordered = true;
    walk.freeze = true;
  }
  const redact = options?.redact;
  if (redact !== undefined && (typeof redact !== 'object' || redact === null || typeof redact.matchName !== 'function' || typeof redact.replace !== 'function')) {
    throw new TypeError('options.redact must be an object with matchName(name) and replace(value) functions');
  }
  walk.redact = redact;
  walk.redacted = undefined;
  walk.maskOff = 0;
  walk.remaining = maxLength;
  walk.maxDepth = maxDepth;
  walk.maxFieldLength = maxFieldLength;
  return walk;
}

export function endWalk(walk: Walk): void {
  if (walk === shared) {
    walk.ancestors.length = 0;
    walk.redact = undefined;
    walk.redacted = undefined;
    sharedBusy = false;
  }
}

export function plainObject(value: unknown, walk: Walk): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(walk, `must be an object; got ${describe(value)}`);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) fail(walk, `must be a plain object; got ${describe(value)}`);
  // Symbol-keyed members are not JSON: ignored, as JSON.stringify ignores
  // them (receipts ride on the event under a symbol, see audit-receipt.ts).
  // Checking for them cost 12% of normalisation time.
  return value as Record<string, unknown>;
}

/** A required non-empty string member (`name` is pushed on the path). */
export function text(value: unknown, walk: Walk): string {
  if (typeof value !== 'string') {
    fail(walk, `must be a string; got ${describe(value)}`);
  }
  if (value.length === 0) fail(walk, 'must not be empty; omit the member instead');
  if (value.length > walk.maxFieldLength) fail(walk, `is ${value.length} characters long; the limit is ${walk.maxFieldLength} (limits.maxFieldLength; processors.chain.limits.max_field_length in otel-config.yaml)`);
  if (!value.isWellFormed()) fail(walk, 'contains a lone UTF-16 surrogate');
  walk.remaining -= value.length + 2;
  return value;
}

export function textOrId(value: unknown, walk: Walk): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(walk, `must be a string or a safe integer; got ${value}`);
    return text(String(value), walk);
  }
  return text(value, walk);
}

export function hex(value: unknown, bytes: number, walk: Walk): string {
  const s = text(value, walk).toLowerCase();
  if (s.length !== bytes * 2 || !HEX.test(s)) fail(walk, `must be ${bytes * 2} hex digits; got "${truncate(s)}"`);
  return s;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], walk: Walk): T {
  const s = text(value, walk);
  if (!(allowed as readonly string[]).includes(s)) fail(walk, `must be one of ${allowed.join(', ')}; got "${truncate(s)}"`);
  return s as T;
}

export function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function json(value: unknown, depth: number, walk: Walk): JsonValue {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) fail(walk, 'string contains a lone UTF-16 surrogate');
      if (walk.redact !== undefined) value = maskedText(value, walk);
      walk.remaining -= (value as string).length + 2;
      checkBudget(walk);
      return value as string;
    case 'number':
      if (Number.isNaN(value)) fail(walk, 'NaN is not a JSON number');
      if (!Number.isFinite(value)) fail(walk, `${value} is not a JSON number`);
      if (value === 0 && 1 / value < 0) fail(walk, '-0 cannot be told apart from 0 once serialized; use 0');
      walk.remaining -= 8;
      return value;
    case 'boolean':
      walk.remaining -= 5;
      return value;
    case 'bigint':
      if (value > MAX_SAFE || value < MIN_SAFE) {
        fail(walk, 'BigInt outside the safe-integer range cannot be a JSON number; pass it as a string');
      }
      walk.remaining -= 8;
      return Number(value);
    case 'object': {
      if (value === null) {
        walk.remaining -= 4;
        return null;
      }
      if (depth > walk.maxDepth) fail(walk, `nesting is deeper than ${walk.maxDepth} levels (limits.maxDepth; processors.chain.limits.max_depth in otel-config.yaml)`);
      if (walk.ancestors.includes(value)) fail(walk, 'cycle: the value contains itself');
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) fail(walk, 'invalid Date');
        walk.remaining -= 26;
        return value.toISOString();
      }
      const at = walk.path.length;
      walk.ancestors.push(value);
      let out: JsonValue;
      if (Array.isArray(value)) {
        const n = value.length;
        walk.remaining -= 2 + n;
        checkBudget(walk);
        // One path slot for this level, set per item and popped at the end:
        // cheaper than truncating the path with length = at.
        walk.path.push(0);
        const arr: JsonValue[] = new Array(n);
        for (let i = 0; i < n; i++) {
          walk.path[at] = i;
          const item: unknown = value[i];
          if (item === undefined) fail(walk, 'undefined or a hole in an array is not a JSON value');
          arr[i] = json(item, depth + 1, walk);
        }
        out = walk.freeze ? (Object.freeze(arr) as JsonValue[]) : arr;
      } else {
        const obj = plainObject(value, walk);
        walk.path.push('');
        // Sorted here so the copy's insertion order is the canonical order.
        const keys = Object.keys(obj).sort();
        let copy: Record<string, JsonValue> = {};
        let renamed = false;
        walk.remaining -= 2;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const member = obj[key];
          if (member === undefined) continue;
          walk.path[at] = key;
          if (!key.isWellFormed()) fail(walk, 'member name contains a lone UTF-16 surrogate');
          // A name can hold a credential too (`{ "Bearer abc": 1 }`): masked like a string.
          const name = walk.redact === undefined ? key : maskedName(key, obj, copy, walk);
          if (name !== key) renamed = true;
          // Names that look like array indexes are enumerated first by
          // JavaScript whatever their insertion order.
          const c = name.charCodeAt(0);
          if (c >= 48 && c <= 57) walk.ordered = false;
          walk.remaining -= name.length + 4;
          // Inside a member that is replaced whole nothing is replaced or listed
          // first: `replace` (hmac) sees the original, `redacted` no inner names.
          const named = walk.redact !== undefined && walk.maskOff === 0 && walk.redact.matchName(key);
          if (named) walk.maskOff++;
          let v = json(member, depth + 1, walk);
          if (named) walk.maskOff--;
          if (named && v !== null) {
            const r: unknown = walk.redact!.replace(v);
            if (typeof r !== 'string' || !r.isWellFormed()) throw new TypeError('options.redact.replace must return a well-formed string');
            v = r;
            (walk.redacted ??= []).push(pointerOf(walk.path));
          }
          setOwnMember(copy, name, v);
        }
        if (renamed) {
          // A masked name sorts elsewhere: rebuild so insertion order stays canonical order.
          const sorted: Record<string, JsonValue> = {};
          for (const k of Object.keys(copy).sort()) setOwnMember(sorted, k, copy[k]);
          copy = sorted;
        }
        out = walk.freeze ? Object.freeze(copy) : copy;
      }
      walk.path.pop();
      walk.ancestors.pop();
      checkBudget(walk);
      return out;
    }
    default:
      return fail(walk, `${describe(value)} is not a JSON value`);
  }
}

export function time(value: unknown, walk: Walk): string {
  let ns: bigint;
  if (typeof value === 'string') {
    if (!DECIMAL.test(value) || value.length > 19) fail(walk, `must be Unix nanoseconds in decimal digits; got "${truncate(value)}"`);
    walk.remaining -= value.length + 2;
    // Digits without leading zeros and of equal length compare as numbers:
    // no BigInt for the 19-digit times of every record since 2001.
    if (value.length < 19 || value <= MAX_TIME_TEXT) return value;
    ns = BigInt(value);
  } else if (typeof value === 'bigint') {
    ns = value;
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) fail(walk, 'invalid Date');
    ns = BigInt(ms) * 1_000_000n;
  } else {
    fail(walk, `must be a bigint of Unix nanoseconds, a decimal string or a Date; got ${describe(value)}`);
  }
  if (ns < 0n || ns > MAX_TIME) fail(walk, 'must be between 0 and 2^63-1 nanoseconds');
  walk.remaining -= 21;
  return ns.toString();
}
