/**
 * The event a producer hands to `audit.log()` (DESIGN §4.1 members), and the
 * seed service's flat field names accepted as aliases so code written against
 * the seed ports over (`event_type` → `type`, `actor_id` → `actor.id`,
 * `old_values` → `old`, …). `toEventInput` folds the aliases into the §4.1
 * shape; a member given both ways with different values is refused, never
 * silently resolved one way (the error quotes both, credentials masked).
 */
import { RecordValidationError, redactSecrets, setOwnMember, type AuditEventInput } from '@otel-audit/core';

/** Who acted (§4.1 `actor`). */
export interface AuditActorInput {
  id?: string | number | null;
  /** `user`, `service`, `api_key`, `system`, `anonymous`, … */
  type?: string | null;
  ip?: string | null;
  user_agent?: string | null;
}

/** What was acted upon (§4.1 `target`). */
export interface AuditTargetInput {
  type?: string | null;
  id?: string | number | null;
  name?: string | null;
}

/** The request the action belongs to (§4.1 `request`); trace ids default to the active span. */
export interface AuditRequestInput {
  id?: string | number | null;
  session_id?: string | null;
  endpoint?: string | null;
  method?: string | null;
  trace_id?: string | null;
  span_id?: string | null;
}

/** The seed service's flat field names, accepted as aliases of the §4.1 members. */
export interface SeedAuditFields {
  /** Alias of `id`. */
  event_id?: string | null;
  /** Alias of `type`. */
  event_type?: string | null;
  /** Alias of `action`. */
  event_action?: string | null;
  /** Alias of `outcome`. */
  event_result?: string | null;
  /** Alias of `actor.id`. */
  actor_id?: string | number | null;
  /** Alias of `actor.type`. */
  actor_type?: string | null;
  /** Alias of `actor.ip`. */
  actor_ip?: string | null;
  /** Alias of `actor.user_agent`. */
  actor_user_agent?: string | null;
  /** Alias of `target.type`. */
  target_type?: string | null;
  /** Alias of `target.id`. */
  target_id?: string | number | null;
  /** Alias of `target.name`. */
  target_name?: string | null;
  /** Alias of `request.id`. */
  request_id?: string | number | null;
  /** Alias of `request.session_id`. */
  session_id?: string | null;
  /** Alias of `request.endpoint`. */
  api_endpoint?: string | null;
  /** Alias of `request.method`. */
  http_method?: string | null;
  /** Alias of `error`. */
  error_message?: string | null;
  /** Alias of `old`. */
  old_values?: unknown;
  /** Alias of `new`. */
  new_values?: unknown;
}

/**
 * An audit event as a producer writes it: §4.1 names, or the seed's aliases.
 * `type` and `action` are required (either way); `id` (UUIDv7) and `time`
 * default to a fresh id and now; `outcome` defaults to `unknown`, `severity`
 * to `info`.
 *
 * @example
 * const e: AuditEventFields = { type: 'auth', action: 'login', outcome: 'failure', actor: { id: 'alice' }, details: { reason: 'bad password' } };
 * const seed: AuditEventFields = { event_type: 'auth', event_action: 'login', event_result: 'failure', actor_id: 'alice' };
 */
export interface AuditEventFields extends SeedAuditFields {
  id?: string | null;
  time?: string | bigint | Date | null;
  type?: string | null;
  action?: string | null;
  /** `success`, `failure`, `error`, `unknown`. */
  outcome?: string | null;
  /** `debug`, `info`, `warning`, `error`, `critical`. */
  severity?: string | null;
  /** Who acted; a string is the actor's id (`actor: 'alice'`). */
  actor?: AuditActorInput | string | null;
  target?: AuditTargetInput | null;
  request?: AuditRequestInput | null;
  details?: unknown;
  error?: string | Error | null;
  old?: unknown;
  new?: unknown;
}

type Sub = 'actor' | 'target' | 'request';
const TOP_ALIASES: readonly (readonly [keyof SeedAuditFields, string])[] = [
  ['event_id', 'id'], ['event_type', 'type'], ['event_action', 'action'], ['event_result', 'outcome'],
  ['error_message', 'error'], ['old_values', 'old'], ['new_values', 'new'],
];
const SUB_ALIASES: readonly (readonly [keyof SeedAuditFields, Sub, string])[] = [
  ['actor_id', 'actor', 'id'], ['actor_type', 'actor', 'type'], ['actor_ip', 'actor', 'ip'], ['actor_user_agent', 'actor', 'user_agent'],
  ['target_type', 'target', 'type'], ['target_id', 'target', 'id'], ['target_name', 'target', 'name'],
  ['request_id', 'request', 'id'], ['session_id', 'request', 'session_id'], ['api_endpoint', 'request', 'endpoint'], ['http_method', 'request', 'method'],
];
const ALIAS_KEYS = new Set<string>([...TOP_ALIASES.map((a) => a[0]), ...SUB_ALIASES.map((a) => a[0])]);

function given(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/**
 * Fold `event` (§4.1 names and/or seed aliases) and `defaults` into core's
 * event input, with `id` and `time` filled in. Returns fresh objects at the
 * top level and for `actor`/`target`/`request`; nested values stay the
 * caller's until core normalises them.
 *
 * @throws TypeError when `event` is not an object; RecordValidationError
 * (code `AUDIT_RECORD_INVALID`, pointer of the canonical member, e.g. `/type`
 * or `/actor/id`) when a member is given under both names with different
 * values — like any other invalid event.
 */
export function toEventInput(event: AuditEventFields, defaults: AuditEventFields | undefined, newId: () => string, now: () => string): AuditEventInput {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError(`event must be an object; got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`);
  }
  const out: Record<string, unknown> = {};
  const subs: Record<Sub, Record<string, unknown> | undefined> = { actor: undefined, target: undefined, request: undefined };
  const apply = (src: AuditEventFields, isDefault: boolean): void => {
    for (const key of Object.keys(src)) {
      if (ALIAS_KEYS.has(key)) continue;
      const v = (src as Record<string, unknown>)[key];
      if (v === undefined) continue;
      if (key === 'actor' || key === 'target' || key === 'request') {
        if (v === null) continue;
        // `actor: 'alice'` is the actor's id, as the helpers take it.
        if (key === 'actor' && (typeof v === 'string' || typeof v === 'number')) {
          subs.actor = { ...(subs.actor ?? {}), id: v };
          continue;
        }
        if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`event.${key} must be an object${key === 'actor' ? ' or the actor id' : ''}; got ${Array.isArray(v) ? 'an array' : typeof v}`);
        subs[key] = { ...(subs[key] ?? {}), ...stripUndefined(v as Record<string, unknown>) };
      } else if (!isDefault || !given(Object.hasOwn(out, key) ? out[key] : undefined)) {
        // A "__proto__" member stays one, and core refuses it by name as an unknown member.
        setOwnMember(out, key, v);
      }
    }
    for (const [alias, member] of TOP_ALIASES) {
      const v = src[alias];
      if (!given(v)) continue;
      const mine = (src as Record<string, unknown>)[member];
      if (given(mine) && mine !== v) throw new RecordValidationError(`/${member}`, `event.${alias} (${show(v, member)}) disagrees with event.${member} (${show(mine, member)}): give one of them`);
      out[member] = v;
    }
    for (const [alias, sub, member] of SUB_ALIASES) {
      const v = src[alias];
      if (!given(v)) continue;
      const obj = (subs[sub] ??= {});
      const mine = (src as Record<string, Record<string, unknown> | undefined>)[sub]?.[member];
      if (given(mine) && mine !== v) throw new RecordValidationError(`/${sub}/${member}`, `event.${alias} (${show(v, member)}) disagrees with event.${sub}.${member} (${show(mine, member)}): give one of them`);
      obj[member] = v;
    }
  };
  if (defaults !== undefined) apply(defaults, true);
  apply(event, false);
  for (const sub of ['actor', 'target', 'request'] as const) if (subs[sub] !== undefined) out[sub] = subs[sub];
  if (!given(out.id)) out.id = newId();
  if (!given(out.time)) out.time = now();
  return out as unknown as AuditEventInput;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (o[k] !== undefined) setOwnMember(r, k, o[k]);
  return r;
}

/**
 * A value as an error message quotes it: credentials masked (core's
 * `redactSecrets`, before the cut, which would hide one from it), cut at 40
 * characters; a session id, a credential by nature, not quoted at all.
 */
function show(v: unknown, member: string): string {
  if (member === 'session_id') return typeof v === 'string' ? `a session id of ${v.length} characters` : typeof v;
  if (typeof v !== 'string') return typeof v === 'object' ? 'an object' : String(v);
  const t = redactSecrets(v);
  return JSON.stringify(t.length > 40 ? t.slice(0, 40) + '…' : t);
}
