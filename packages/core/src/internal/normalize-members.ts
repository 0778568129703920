/**
 * `actor`, `target` and `request` of a record (DESIGN §4.1): objects of
 * known string members only, read by the normalisation walk and built in
 * canonical (RFC 8785) order; absent when every member is.
 */
import { maskedId, maskedText } from './normalize-mask.js';
import { fail, hex, plainObject, text, textOrId, type Walk } from './normalize-walk.js';

// Member names in RFC 8785 order: objects are built in this order so that
// their insertion order is already the canonical order (see canonical.ts).
const ACTOR_KEYS = ['id', 'ip', 'type', 'user_agent'] as const;
const TARGET_KEYS = ['id', 'name', 'type'] as const;
const REQUEST_KEYS = ['endpoint', 'id', 'method', 'session_id', 'span_id', 'trace_id'] as const;
const ACTOR_SET = new Set<string>(ACTOR_KEYS);
const TARGET_SET = new Set<string>(TARGET_KEYS);
const REQUEST_SET = new Set<string>(REQUEST_KEYS);

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
function field(obj: Record<string, unknown>, key: string, walk: Walk, kind: 0 | 1 | 2 | 3 | 4 | 16 | 8): string | undefined {
  const v = obj[key];
  if (v === null || v === undefined) return undefined;
  walk.path.push(key);
  // kind: 0 text, 1 text or safe integer (request.id), 2 free text (masked
  // like a string of details: a name or an endpoint can quote a
  // credential), 3 free text that repeats across records (a user agent), 4
  // an id of actor/target (text or safe integer, credential forms masked),
  // 16/8 hex of that many bytes.
  const s = kind === 0 ? text(v, walk) : kind === 1 ? textOrId(v, walk) : kind <= 3 ? maskedText(text(v, walk), walk, kind === 3) : kind === 4 ? maskedId(textOrId(v, walk), walk) : hex(v, kind, walk);
  walk.path.pop();
  return s;
}

// actor / target / request are built member by member with constant names,
// in RFC 8785 order: named stores keep V8 on monomorphic paths where a loop
// of keyed stores did not (a fifth of normalisation time, bench/core-append).

export function actorOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('actor');
  const obj = plainObject(input, walk);
  onlyMembers(obj, ACTOR_KEYS, ACTOR_SET, walk);
  const id = field(obj, 'id', walk, 4);
  const ip = field(obj, 'ip', walk, 0);
  const type = field(obj, 'type', walk, 0);
  const ua = field(obj, 'user_agent', walk, 3);
  walk.path.pop();
  if (id === undefined && ip === undefined && type === undefined && ua === undefined) return undefined;
  const out: Record<string, string> = {};
  if (id !== undefined) out.id = id;
  if (ip !== undefined) out.ip = ip;
  if (type !== undefined) out.type = type;
  if (ua !== undefined) out.user_agent = ua;
  return walk.freeze ? Object.freeze(out) : out;
}

export function targetOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('target');
  const obj = plainObject(input, walk);
  onlyMembers(obj, TARGET_KEYS, TARGET_SET, walk);
  const id = field(obj, 'id', walk, 4);
  const name = field(obj, 'name', walk, 2);
  const type = field(obj, 'type', walk, 0);
  walk.path.pop();
  if (id === undefined && name === undefined && type === undefined) return undefined;
  const out: Record<string, string> = {};
  if (id !== undefined) out.id = id;
  if (name !== undefined) out.name = name;
  if (type !== undefined) out.type = type;
  return walk.freeze ? Object.freeze(out) : out;
}

export function requestOf(input: unknown, walk: Walk): Record<string, string> | undefined {
  if (input === null || input === undefined) return undefined;
  walk.path.push('request');
  const obj = plainObject(input, walk);
  onlyMembers(obj, REQUEST_KEYS, REQUEST_SET, walk);
  const endpoint = field(obj, 'endpoint', walk, 2);
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
