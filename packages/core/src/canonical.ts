/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), the canonical bytes of a
 * record (DESIGN §4.2). Object members are sorted by the UTF-16 code units of
 * their names, numbers use the ECMAScript Number-to-String rule, strings use
 * the ECMAScript JSON string escaping, no whitespace. Values that JCS cannot
 * represent (NaN, ±Infinity, lone surrogates, non-JSON types) are refused
 * rather than silently changed.
 */
import { RecordValidationError } from './errors.js';

/**
 * Marks objects known to be deeply frozen, to have every member inserted in
 * RFC 8785 order and no member name that JavaScript enumerates ahead of
 * insertion order (array-index-like names), and to hold only strings without
 * lone surrogates, finite numbers other than -0, booleans and null. For
 * those, JSON.stringify's output is byte-for-byte the JCS output. A
 * module-private symbol rather than a WeakSet: ephemeron tables made GC take
 * a third of the sealing time at 40k records/s (bench/core-append).
 */
const CANONICAL_ORDER = Symbol('otel-audit.canonical-order');

/**
 * Serialize a JSON value to its RFC 8785 canonical form (a JS string; its
 * UTF-8 encoding is the canonical byte sequence).
 *
 * Accepts plain objects, arrays, strings, finite numbers, booleans and null.
 * `-0` serializes as `0`, as RFC 8785 requires (note that `normalizeRecord`
 * rejects `-0` inside records so a record never hashes differently than it
 * reads). Throws `RecordValidationError` (code `AUDIT_CANONICAL_INVALID`) with
 * the JSON Pointer of anything else.
 *
 * @example
 * canonicalize({ b: [1e21, 'é'], a: null }) // '{"a":null,"b":[1e+21,"é"]}'
 */
export function canonicalize(value: unknown): string {
  // Records made by normalizeRecord are frozen and built in canonical member
  // order, so the native serializer produces their RFC 8785 form directly,
  // ~2.5x faster than the generic writer (bench/core-append).
  if (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CANONICAL_ORDER] === true && Object.isFrozen(value)) {
    return JSON.stringify(value);
  }
  return write(value, [], []);
}

/**
 * The canonical form as UTF-8 bytes.
 *
 * @example
 * canonicalBytes({ a: 1 }) // <Buffer 7b 22 61 22 3a 31 7d>
 */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/**
 * Marks a record built by normalizeRecord — every object in it has its
 * members inserted in canonical order and no array-index-like member name —
 * as serializable by JSON.stringify, then freezes it. Call before freezing
 * the record itself (its members must already be frozen). Internal to the
 * package.
 */
export function freezeInCanonicalOrder<T extends object>(record: T): T {
  Object.defineProperty(record, CANONICAL_ORDER, { value: true, enumerable: false });
  return Object.freeze(record);
}

/**
 * Escape one RFC 6901 reference token.
 *
 * @example
 * escapePointerToken('a/b~c') // 'a~1b~0c'
 */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * RFC 6901 pointer of a path of member names and array indexes.
 *
 * @example
 * pointerOf(['details', 'list', 0]) // '/details/list/0'
 */
export function pointerOf(path: readonly (string | number)[]): string {
  let out = '';
  for (const token of path) out += '/' + (typeof token === 'number' ? String(token) : escapePointerToken(token));
  return out;
}

// Strings without quotes, backslashes, control characters or surrogates
// need no escaping; testing for them first is ~2.5x faster than calling
// JSON.stringify on every string.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Path of the value being written; turned into a pointer only for an error. */
type Path = (string | number)[];

function fail(path: Path, message: string): never {
  throw new RecordValidationError(pointerOf(path), message, 'AUDIT_CANONICAL_INVALID');
}

function writeString(s: string, path: Path): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  if (!s.isWellFormed()) fail(path, 'string contains a lone UTF-16 surrogate');
  // JSON.stringify's escaping of well-formed strings is exactly RFC 8785
  // §3.2.2.2 (both follow ECMAScript's QuoteJSONString).
  return JSON.stringify(s);
}

/** Nesting beyond this is refused rather than risking the call stack. */
const MAX_DEPTH = 1000;

function write(value: unknown, path: Path, parents: object[]): string {
  switch (typeof value) {
    case 'string':
      return writeString(value, path);
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
      // ECMAScript Number::toString is the JCS number format; JSON.stringify
      // applies it and maps -0 to 0 as the RFC requires.
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      const depth = path.length;
      if (depth >= MAX_DEPTH) fail(path, `nesting is deeper than ${MAX_DEPTH} levels`);
      if (parents.includes(value)) fail(path, 'cycle: the value contains itself');
      parents.push(value);
      let out: string;
      if (Array.isArray(value)) {
        out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          path[depth] = i;
          if (!(i in value)) fail(path, 'array hole is not a JSON value');
          out += write(value[i], path, parents);
        }
        out += ']';
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          fail(path, `${describe(value)} is not a plain JSON object`);
        }
        // Default sort compares UTF-16 code units, which is the JCS order.
        const keys = Object.keys(value).sort();
        out = '{';
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const member = (value as Record<string, unknown>)[key];
          path[depth] = key;
          if (member === undefined) fail(path, 'undefined is not a JSON value');
          if (i > 0) out += ',';
          out += writeString(key, path) + ':' + write(member, path, parents);
        }
        out += '}';
      }
      path.length = depth;
      parents.pop();
      return out;
    }
    default:
      return fail(path, `${describe(value)} is not a JSON value`);
  }
}

/**
 * A short, safe description of a value's kind for error messages (never the
 * value itself, which may be a secret).
 *
 * @example
 * describe(new Map()) // 'a Map'
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'undefined') return 'undefined';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}
