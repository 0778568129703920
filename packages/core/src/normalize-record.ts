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
import { describe, escapePointerToken, freezeInCanonicalOrder } from './canonical.js';
import { actorOf, requestOf, targetOf } from './internal/normalize-members.js';
import {
  checkBudget, endWalk, fail, failAt, hex, json, MAX_SAFE, oneOf, plainObject, startWalk, text, time, truncate, type Walk,
} from './internal/normalize-walk.js';
import { maskedText } from './internal/normalize-mask.js';
import type { RedactionHook } from './redaction-hook.js';
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

export type { RedactionHook } from './redaction-hook.js';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

const EVENT_KEYS = new Set([
  'id', 'time', 'type', 'action', 'outcome', 'severity', 'actor', 'target', 'request',
  'details', 'error', 'old', 'new', 'redacted',
]);
const RECORD_KEYS = new Set([...EVENT_KEYS, 'v', 'alg', 'stream', 'seq', 'prev']);

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
      error = maskedText(text(e, walk), walk);
      walk.path.pop();
    }
  }
  const newValue = optionalJson(input.new, 'new', walk);
  const oldValue = optionalJson(input.old, 'old', walk);
  const outcome = enumMember(input, 'outcome', AUDIT_OUTCOMES, 'unknown', walk);
  const request = requestOf(input.request, walk);
  const severity = enumMember(input, 'severity', AUDIT_SEVERITIES, 'info', walk);
  const target = targetOf(input.target, walk);
  // Last of the members that can be masked, so that it lists them all.
  const redacted = redactedList(input.redacted, walk);
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

/**
 * Why `stream` cannot be a stream id — it is the checkpoint origin, one line
 * of the signed note — or undefined when it can (length and type are the
 * record's text rules, checked apart).
 *
 * @example
 * streamIdProblem('billing-api/pod-7') // undefined
 * streamIdProblem('evil\n999')         // 'must be one line without control characters ...'
 */
export function streamIdProblem(stream: string): string | undefined {
  return CONTROL.test(stream) || stream.trim() !== stream ? 'must be one line without control characters or surrounding spaces (it is the checkpoint origin)' : undefined;
}

function buildRecord(obj: Record<string, unknown>, chainInput: Record<string, unknown>, walk: Walk): AuditRecord {
  if (chainInput.v !== undefined && chainInput.v !== FORMAT_VERSION) failAt('/v', `format version ${String(chainInput.v)} is not supported; this library writes and reads version ${FORMAT_VERSION}`);
  const alg = chainInput.alg;
  if (typeof alg !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(alg)) {
    failAt('/alg', `must be one of ${HASH_ALGORITHMS.join(', ')}; got ${typeof alg === 'string' ? `"${truncate(alg)}"` : describe(alg)}`);
  }
  const stream = textMember(chainInput, 'stream', walk);
  const problem = streamIdProblem(stream);
  if (problem !== undefined) failAt('/stream', problem);
  let seq = chainInput.seq;
  if (typeof seq === 'bigint' && seq >= 0n && seq <= MAX_SAFE) seq = Number(seq);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) failAt('/seq', `must be a non-negative safe integer; got ${String(seq)}`);
  walk.path.push('prev');
  const prev = hex(chainInput.prev, digestLength(alg as HashAlgorithm), walk);
  walk.path.pop();
  return build(obj, walk, { v: FORMAT_VERSION, alg: alg as HashAlgorithm, stream, seq, prev }) as AuditRecord;
}
