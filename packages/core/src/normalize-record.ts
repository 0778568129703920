/**
 * Validation and normalisation of producer input into the canonical record
 * object of DESIGN §4.1. Everything that could make a record hash one way and
 * be stored or read back another is either rejected with a
 * `RecordValidationError` naming its JSON Pointer, or converted by one of the
 * documented rules below — never silently.
 *
 * Documented conversions (docs/format.md repeats them):
 * - a top-level member, or a member of `actor`/`target`/`request`, that is
 *   `null` or `undefined` is omitted; `actor`/`target`/`request` left empty
 *   are omitted;
 * - inside `details`/`old`/`new`, an object member whose value is
 *   `undefined` is omitted (as `JSON.stringify` does); `null` is kept;
 * - a `BigInt` in the safe-integer range becomes a number; a `Date` becomes
 *   its ISO-8601 string (`toISOString`); safe integers given for `actor.id`,
 *   `target.id` or `request.id` become decimal strings;
 * - `time` may be given as a `bigint` (Unix ns), a decimal string or a `Date`;
 * - hex (`id`, `prev`, `trace_id`, `span_id`) is lowercased;
 * - `error` given as an `Error` becomes its `message`;
 * - `redacted` is sorted (UTF-16 code units) and de-duplicated;
 * - symbol-keyed members are not JSON and are ignored, as JSON.stringify
 *   ignores them.
 * Rejected: NaN, ±Infinity, -0, BigInt outside the safe range, functions,
 * symbols as values, `undefined` or holes in arrays, cycles, lone
 * surrogates, objects that are not plain (Map, Set, class instances,
 * Buffers...), and input beyond the depth and size limits.
 */
import { describe, escapePointerToken, pointerOf, freezeInCanonicalOrder } from './canonical.js';
import { RecordValidationError } from './errors.js';
import { HASH_ALGORITHMS, digestLength, type HashAlgorithm } from './hash.js';
import {
  AUDIT_OUTCOMES,
  AUDIT_SEVERITIES,
  FORMAT_VERSION,
  type AuditChainFields,
  type AuditEvent,
  type AuditRecord,
  type JsonValue,
} from './record.js';

/** Producer input for the members of the event (aliases are the instrumentation's job). */
export interface AuditEventInput {
  id: string;
  time: string | bigint | Date;
  type: string;
  action: string;
  /** Defaults to `unknown`. */
  outcome?: string | null;
  /** Defaults to `info`. */
  severity?: string | null;
  actor?: { id?: string | number | null; type?: string | null; ip?: string | null; user_agent?: string | null } | null;
  target?: { type?: string | null; id?: string | number | null; name?: string | null } | null;
  request?: {
    id?: string | number | null;
    session_id?: string | null;
    endpoint?: string | null;
    method?: string | null;
    trace_id?: string | null;
    span_id?: string | null;
  } | null;
  details?: unknown;
  error?: string | Error | null;
  old?: unknown;
  new?: unknown;
  redacted?: readonly string[] | null;
}

/** Producer input for a whole record: the event plus its chain members. */
export interface AuditRecordInput extends AuditEventInput {
  v?: number;
  alg: string;
  stream: string;
  seq: number | bigint;
  prev: string;
}

/** Limits applied while normalising. */
export interface NormalizeOptions {
  /** Deepest nesting of `details`/`old`/`new` (the value itself is depth 1). Default 32. */
  maxDepth?: number;
  /**
   * Largest size of the record's JSON text, counted in UTF-16 code units of
   * names and values plus punctuation (escapes not counted). Default 1,048,576.
   */
  maxLength?: number;
  /** Longest string allowed for a top-level or actor/target/request member. Default 8192. */
  maxFieldLength?: number;
  /**
   * Redaction fused into normalisation (DESIGN §4.5): consulted for every
   * object member name at any depth of `details`/`old`/`new`. Each replaced
   * member's JSON Pointer is added to the record's `redacted` list. Absent,
   * nothing is redacted.
   */
  redact?: RedactionHook;
}

/**
 * Redaction of `details`/`old`/`new` members by name, applied while the
 * value is copied (one walk instead of two). `replace` receives the member's
 * value already validated and normalised; `null` values are left as they are.
 *
 * @example
 * const mask: RedactionHook = { matchName: (n) => /password/i.test(n), replace: () => '[REDACTED]' };
 * normalizeEvent(input, { redact: mask }).redacted // ['/details/password']
 */
export interface RedactionHook {
  /** Whether the member called `name` is replaced. Called once per member name visited. */
  matchName(name: string): boolean;
  /** The replacement of a matched (normalised, non-null) value: a well-formed string such as `[REDACTED]`. */
  replace(value: JsonValue): string;
}

const DEFAULT_MAX_DEPTH = 32;
const DEFAULT_MAX_LENGTH = 1 << 20;
const DEFAULT_MAX_FIELD_LENGTH = 8192;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX = /^[0-9a-f]*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_TIME = 2n ** 63n - 1n;
const MAX_TIME_TEXT = MAX_TIME.toString();
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

const EVENT_KEYS = new Set([
  'id', 'time', 'type', 'action', 'outcome', 'severity', 'actor', 'target', 'request',
  'details', 'error', 'old', 'new', 'redacted',
]);
const RECORD_KEYS = new Set([...EVENT_KEYS, 'v', 'alg', 'stream', 'seq', 'prev']);
// Member names in RFC 8785 order: objects are built in this order so that
// their insertion order is already the canonical order (see canonical.ts).
const ACTOR_KEYS = ['id', 'ip', 'type', 'user_agent'] as const;
const TARGET_KEYS = ['id', 'name', 'type'] as const;
const REQUEST_KEYS = ['endpoint', 'id', 'method', 'session_id', 'span_id', 'trace_id'] as const;
const ACTOR_SET = new Set<string>(ACTOR_KEYS);
const TARGET_SET = new Set<string>(TARGET_KEYS);
const REQUEST_SET = new Set<string>(REQUEST_KEYS);

/**
 * Mutable state of one normalisation: the remaining size budget, the path
 * of the value being read (turned into a JSON Pointer only for an error),
 * the objects being read (for cycle detection), and whether every object
 * built so far has insertion order equal to canonical order.
 */
interface Walk {
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
}

function fail(walk: Walk, message: string): never {
  throw new RecordValidationError(pointerOf(walk.path), message);
}

function failAt(pointer: string, message: string): never {
  throw new RecordValidationError(pointer, message);
}

function checkBudget(walk: Walk): void {
  if (walk.remaining < 0) fail(walk, 'record is larger than the maxLength limit; shorten it or raise limits.maxLength');
}

// One walk state reused by every call: normalisation is synchronous, and a
// re-entrant call (a getter that normalises) gets a fresh one. Saves three
// allocations per record on the hot path.
const shared: Walk = { remaining: 0, maxDepth: 0, maxFieldLength: 0, path: [], ancestors: [], ordered: true, freeze: true, redact: undefined, redacted: undefined };
let sharedBusy = false;

function startWalk(options: NormalizeOptions | undefined): Walk {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxFieldLength = options?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH;
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1) throw new RangeError(`options.maxDepth must be a positive integer; got ${String(maxDepth)}`);
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new RangeError(`options.maxLength must be a positive integer; got ${String(maxLength)}`);
  if (!Number.isSafeInteger(maxFieldLength) || maxFieldLength < 1) throw new RangeError(`options.maxFieldLength must be a positive integer; got ${String(maxFieldLength)}`);
  let walk: Walk;
  if (sharedBusy) {
    walk = { remaining: 0, maxDepth: 0, maxFieldLength: 0, path: [], ancestors: [], ordered: true, freeze: true, redact: undefined, redacted: undefined };
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
  walk.remaining = maxLength;
  walk.maxDepth = maxDepth;
  walk.maxFieldLength = maxFieldLength;
  return walk;
}

function endWalk(walk: Walk): void {
  if (walk === shared) {
    walk.ancestors.length = 0;
    walk.redact = undefined;
    walk.redacted = undefined;
    sharedBusy = false;
  }
}

function plainObject(value: unknown, walk: Walk): Record<string, unknown> {
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
function text(value: unknown, walk: Walk): string {
  if (typeof value !== 'string') {
    fail(walk, `must be a string; got ${describe(value)}`);
  }
  if (value.length === 0) fail(walk, 'must not be empty; omit the member instead');
  if (value.length > walk.maxFieldLength) fail(walk, `is ${value.length} characters long; the limit is ${walk.maxFieldLength} (limits.maxFieldLength)`);
  if (!value.isWellFormed()) fail(walk, 'contains a lone UTF-16 surrogate');
  walk.remaining -= value.length + 2;
  return value;
}

function textOrId(value: unknown, walk: Walk): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(walk, `must be a string or a safe integer; got ${value}`);
    return text(String(value), walk);
  }
  return text(value, walk);
}

function hex(value: unknown, bytes: number, walk: Walk): string {
  const s = text(value, walk).toLowerCase();
  if (s.length !== bytes * 2 || !HEX.test(s)) fail(walk, `must be ${bytes * 2} hex digits; got "${truncate(s)}"`);
  return s;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], walk: Walk): T {
  const s = text(value, walk);
  if (!(allowed as readonly string[]).includes(s)) fail(walk, `must be one of ${allowed.join(', ')}; got "${truncate(s)}"`);
  return s as T;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment of "__proto__" would change the prototype instead of
  // creating a member; define it as an own data property.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function json(value: unknown, depth: number, walk: Walk): JsonValue {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) fail(walk, 'string contains a lone UTF-16 surrogate');
      walk.remaining -= value.length + 2;
      checkBudget(walk);
      return value;
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
      if (depth > walk.maxDepth) fail(walk, `nesting is deeper than ${walk.maxDepth} levels (limits.maxDepth)`);
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
        const copy: Record<string, JsonValue> = {};
        walk.remaining -= 2;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const member = obj[key];
          if (member === undefined) continue;
          walk.path[at] = key;
          if (!key.isWellFormed()) fail(walk, 'member name contains a lone UTF-16 surrogate');
          // Names that look like array indexes are enumerated first by
          // JavaScript whatever their insertion order.
          const c = key.charCodeAt(0);
          if (c >= 48 && c <= 57) walk.ordered = false;
          walk.remaining -= key.length + 4;
          let v = json(member, depth + 1, walk);
          if (walk.redact !== undefined && v !== null && walk.redact.matchName(key)) {
            const r: unknown = walk.redact.replace(v);
            if (typeof r !== 'string' || !r.isWellFormed()) throw new TypeError('options.redact.replace must return a well-formed string');
            v = r;
            (walk.redacted ??= []).push(pointerOf(walk.path));
          }
          setMember(copy, key, v);
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

function time(value: unknown, walk: Walk): string {
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

/** actor / target / request: known string members only, built in canonical order. */
/** Checks that `obj` (at `name`) has only `allowed` members. */
function onlyMembers(obj: Record<string, unknown>, keys: readonly string[], allowed: Set<string>, walk: Walk): void {
  for (const key in obj) {
    if (!allowed.has(key) && Object.hasOwn(obj, key)) {
      walk.path.push(key);
      fail(walk, `unknown member; allowed: ${keys.join(', ')}`);
    }
  }
}

/** One string member of actor/target/request, or undefined when absent. */
function field(obj: Record<string, unknown>, key: string, walk: Walk, kind: 0 | 1 | 16 | 8): string | undefined {
  const v = obj[key];
  if (v === null || v === undefined) return undefined;
  walk.path.push(key);
  // kind: 0 text, 1 text or safe integer (ids), 16/8 hex of that many bytes.
  const s = kind === 0 ? text(v, walk) : kind === 1 ? textOrId(v, walk) : hex(v, kind, walk);
  walk.path.pop();
  return s;
}

// actor / target / request are built member by member with constant names,
// in RFC 8785 order: named stores keep V8 on monomorphic paths where a loop
// of keyed stores did not (a fifth of normalisation time, bench/core-append).

function actorOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('actor');
  const obj = plainObject(input, walk);
  onlyMembers(obj, ACTOR_KEYS, ACTOR_SET, walk);
  const id = field(obj, 'id', walk, 1);
  const ip = field(obj, 'ip', walk, 0);
  const type = field(obj, 'type', walk, 0);
  const ua = field(obj, 'user_agent', walk, 0);
  walk.path.pop();
  if (id === undefined && ip === undefined && type === undefined && ua === undefined) return undefined;
  const out: Record<string, string> = {};
  if (id !== undefined) out.id = id;
  if (ip !== undefined) out.ip = ip;
  if (type !== undefined) out.type = type;
  if (ua !== undefined) out.user_agent = ua;
  return walk.freeze ? Object.freeze(out) : out;
}

function targetOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('target');
  const obj = plainObject(input, walk);
  onlyMembers(obj, TARGET_KEYS, TARGET_SET, walk);
  const id = field(obj, 'id', walk, 1);
  const name = field(obj, 'name', walk, 0);
  const type = field(obj, 'type', walk, 0);
  walk.path.pop();
  if (id === undefined && name === undefined && type === undefined) return undefined;
  const out: Record<string, string> = {};
  if (id !== undefined) out.id = id;
  if (name !== undefined) out.name = name;
  if (type !== undefined) out.type = type;
  return walk.freeze ? Object.freeze(out) : out;
}

function requestOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('request');
  const obj = plainObject(input, walk);
  onlyMembers(obj, REQUEST_KEYS, REQUEST_SET, walk);
  const endpoint = field(obj, 'endpoint', walk, 0);
  const id = field(obj, 'id', walk, 1);
  const method = field(obj, 'method', walk, 0);
  const session = field(obj, 'session_id', walk, 0);
  const span = field(obj, 'span_id', walk, 8);
  const trace = field(obj, 'trace_id', walk, 16);
  walk.path.pop();
  if (endpoint === undefined && id === undefined && method === undefined && session === undefined && span === undefined && trace === undefined) {
    return undefined;
  }
  const out: Record<string, string> = {};
  if (endpoint !== undefined) out.endpoint = endpoint;
  if (id !== undefined) out.id = id;
  if (method !== undefined) out.method = method;
  if (session !== undefined) out.session_id = session;
  if (span !== undefined) out.span_id = span;
  if (trace !== undefined) out.trace_id = trace;
  return walk.freeze ? Object.freeze(out) : out;
}

function redactedList(value: unknown, walk: Walk): string[] | undefined {
  if (value === null || value === undefined) {
    if (walk.redacted === undefined) return undefined;
    value = [];
  }
  walk.path.push('redacted');
  if (!Array.isArray(value)) fail(walk, `must be an array of JSON Pointers; got ${describe(value)}`);
  const set = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    walk.path.push(i);
    const s = text(value[i], walk);
    if (!s.startsWith('/')) fail(walk, `must be a JSON Pointer starting with "/"; got "${truncate(s)}"`);
    set.add(s);
    walk.path.pop();
  }
  walk.path.pop();
  if (walk.redacted !== undefined) for (const p of walk.redacted) set.add(p);
  if (set.size === 0) return undefined;
  const list = [...set].sort();
  return walk.freeze ? (Object.freeze(list) as string[]) : list;
}

/** Reads a required string member `name` of `input`. */
function textMember(input: Record<string, unknown>, name: string, walk: Walk): string {
  walk.path.push(name);
  const v = text(input[name], walk);
  walk.path.pop();
  return v;
}

function enumMember<T extends string>(input: Record<string, unknown>, name: string, allowed: readonly T[], fallback: T, walk: Walk): T {
  const value = input[name];
  if (value === null || value === undefined) return fallback;
  walk.path.push(name);
  const v = oneOf(value, allowed, walk);
  walk.path.pop();
  return v;
}

function optionalJson(value: unknown, name: string, walk: Walk): JsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  walk.path.push(name);
  const v = json(value, 1, walk);
  walk.path.pop();
  return v;
}

/**
 * Reads the event members of `input`. When `chain` is given the record is
 * assembled with them; members are inserted in RFC 8785 order.
 */
function build(input: Record<string, unknown>, walk: Walk, chain: AuditChainFields | undefined): AuditEvent | AuditRecord {
  const id = textMember(input, 'id', walk).toLowerCase();
  if (!UUID.test(id)) failAt('/id', `must be a UUID (v7 preferred); got "${truncate(id)}"`);
  const action = textMember(input, 'action', walk);
  const actor = actorOf(input.actor, walk);
  const details = optionalJson(input.details, 'details', walk);
  let error: string | undefined;
  if (input.error !== null && input.error !== undefined) {
    const e = input.error instanceof Error ? input.error.message : input.error;
    if (e !== '') {
      walk.path.push('error');
      error = text(e, walk);
      walk.path.pop();
    }
  }
  const newValue = optionalJson(input.new, 'new', walk);
  const oldValue = optionalJson(input.old, 'old', walk);
  const outcome = enumMember(input, 'outcome', AUDIT_OUTCOMES, 'unknown', walk);
  const redacted = redactedList(input.redacted, walk);
  const request = requestOf(input.request, walk);
  const severity = enumMember(input, 'severity', AUDIT_SEVERITIES, 'info', walk);
  const target = targetOf(input.target, walk);
  walk.path.push('time');
  const timeText = time(input.time, walk);
  walk.path.pop();
  const type = textMember(input, 'type', walk);
  checkBudget(walk);

  // Insertion order below is the RFC 8785 order of the record's members.
  const out: Record<string, unknown> = { action };
  if (actor) out.actor = actor;
  if (chain) out.alg = chain.alg;
  if (details !== undefined) out.details = details;
  if (error !== undefined) out.error = error;
  out.id = id;
  if (newValue !== undefined) out.new = newValue;
  if (oldValue !== undefined) out.old = oldValue;
  out.outcome = outcome;
  if (chain) out.prev = chain.prev;
  if (redacted) out.redacted = redacted;
  if (request) out.request = request;
  if (chain) out.seq = chain.seq;
  out.severity = severity;
  if (chain) out.stream = chain.stream;
  if (target) out.target = target;
  out.time = timeText;
  out.type = type;
  if (chain) out.v = chain.v;
  if (!walk.freeze) return out as unknown as AuditEvent | AuditRecord;
  return (chain !== undefined && walk.ordered ? freezeInCanonicalOrder(out) : Object.freeze(out)) as unknown as AuditEvent | AuditRecord;
}

function checkKeys(input: Record<string, unknown>, allowed: Set<string>): void {
  // for-in over a fast-mode object uses V8's enum cache: no allocation.
  for (const key in input) {
    if (!allowed.has(key) && Object.hasOwn(input, key)) {
      failAt(`/${escapePointerToken(key)}`, 'unknown record member; put free-form data under details');
    }
  }
}

/**
 * Validate and normalise the event members of a record (everything but the
 * chain members `v`, `alg`, `stream`, `seq`, `prev`). Returns a fresh object
 * that shares nothing with the input, so it can be redacted and hashed safely
 * even if the producer mutates its input afterwards.
 *
 * @example
 * const event = normalizeEvent({ id: createRecordId(), time: new Date(), type: 'auth',
 *   action: 'login', outcome: 'failure', actor: { id: 'alice' }, details: { reason: 'bad password' } });
 */
export function normalizeEvent(input: AuditEventInput, options?: NormalizeOptions): AuditEvent {
  const walk = startWalk(options);
  try {
    const obj = plainObject(input, walk);
    checkKeys(obj, EVENT_KEYS);
    return build(obj, walk, undefined) as AuditEvent;
  } finally {
    endWalk(walk);
  }
}

/**
 * Validate and normalise a whole record, chain members included, into the
 * exact object whose canonical bytes are hashed (DESIGN §4.1). The result is
 * deeply frozen: what was validated is what gets hashed and stored.
 *
 * @example
 * const record = normalizeRecord({ alg: 'sha256', stream: 'billing/1', seq: 0,
 *   prev: genesisPrev('sha256'), id: createRecordId(), time: 1700000000000000000n,
 *   type: 'crud', action: 'update', outcome: 'success', old: { plan: 'free' }, new: { plan: 'pro' } });
 */
export function normalizeRecord(input: AuditRecordInput, options?: NormalizeOptions): AuditRecord {
  const walk = startWalk(options);
  try {
    const obj = plainObject(input, walk);
    checkKeys(obj, RECORD_KEYS);
    return buildRecord(obj, obj, walk);
  } finally {
    endWalk(walk);
  }
}

/**
 * The sealing hot path of AuditChain: {@link normalizeRecord} of `event`
 * with the chain members given apart (no copy of the event), without
 * freezing, plus whether the copy is in canonical member order (so that
 * JSON.stringify is its RFC 8785 form). Freezing every nested object was a
 * third of normalisation time (6.5 → ~4.3 µs per record, bench/core-append);
 * AuditChain serializes the copy at once and hands it out typed read-only.
 * The chain members are trusted (AuditChain validated them). Internal to the
 * package.
 */
export function sealChainedEvent(
  event: AuditEventInput,
  chain: { alg: string; stream: string; seq: number; prev: string },
  options?: NormalizeOptions,
): { record: AuditRecord; ordered: boolean } {
  const walk = startWalk(options);
  walk.freeze = false;
  try {
    const obj = plainObject(event, walk);
    checkKeys(obj, EVENT_KEYS);
    // The chain members come from AuditChain, which validated its stream
    // and algorithm at construction and computed prev itself.
    const record = build(obj, walk, { v: FORMAT_VERSION, alg: chain.alg as HashAlgorithm, stream: chain.stream, seq: chain.seq, prev: chain.prev }) as AuditRecord;
    return { record, ordered: walk.ordered };
  } finally {
    endWalk(walk);
  }
}

function buildRecord(obj: Record<string, unknown>, chainInput: Record<string, unknown>, walk: Walk): AuditRecord {
  if (chainInput.v !== undefined && chainInput.v !== FORMAT_VERSION) failAt('/v', `format version ${String(chainInput.v)} is not supported; this library writes and reads version ${FORMAT_VERSION}`);
  const alg = chainInput.alg;
  if (typeof alg !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
    failAt('/alg', `must be one of ${HASH_ALGORITHMS.join(', ')}; got ${typeof alg === 'string' ? `"${truncate(alg)}"` : describe(alg)}`);
  }
  const stream = textMember(chainInput, 'stream', walk);
  if (CONTROL.test(stream) || stream.trim() !== stream) failAt('/stream', 'must be one line without control characters or surrounding spaces (it is the checkpoint origin)');
  let seq = chainInput.seq;
  if (typeof seq === 'bigint' && seq >= 0n && seq <= MAX_SAFE) seq = Number(seq);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) failAt('/seq', `must be a non-negative safe integer; got ${String(seq)}`);
  walk.path.push('prev');
  const prev = hex(chainInput.prev, digestLength(alg as HashAlgorithm), walk);
  walk.path.pop();
  return build(obj, walk, { v: FORMAT_VERSION, alg: alg as HashAlgorithm, stream, seq, prev }) as AuditRecord;
}
