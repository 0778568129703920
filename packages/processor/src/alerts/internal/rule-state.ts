/**
 * Per-rule, per-group state of the alert engine (DESIGN §9), shared by the
 * three conditions (`count-rule-state.ts`, `distinct-rule-state.ts`,
 * `sequence-rule-state.ts`, which hold the condition's own state): groups
 * in a Map plus an intrusive doubly linked list in least-recently-used
 * order. (Not the Map's own insertion order: V8 leaves deleted entries in
 * place until it rehashes, so reading the oldest entry of a churning Map
 * costs O(deleted) — the 1,000,000-actor flood test took 56 s that way,
 * 10 s this way.) Memory is bounded: a group's state expires with its
 * window and cooldown, a rule holds at most `maxGroups` groups (the least
 * recently touched is evicted and counted), and a group holds at most
 * `threshold` entries and four request ids.
 *
 * One request counts once per rule and group: an HTTP request often leaves
 * two records (the app's own, e.g. `audit.login(...)`, and the HTTP-level
 * one sealed when the server span ends) with the same `request.id`; a
 * record whose `request.id` is that of one of the group's last four counted
 * records, about the same target (the same `target.id`, or either has
 * none), is skipped (not counted, no alert, nothing refreshed), so
 * thresholds count requests, not records, while a batch request's records
 * about different targets still count apart. The request id comes from
 * the client's `X-Request-ID` header, so an attacker can send every attempt
 * with the same one; they must not all be ignored but the first. So a twin
 * is from the other side of the request — the HTTP-level record (it has
 * `details.status_code`) for an app record, an app record for the
 * HTTP-level one — and a counted record absorbs one twin only. The ids
 * survive the reset after an alert and are forgotten when the group
 * expires. Records without a `request.id` count one by one.
 *
 * Times are Unix microseconds as doubles (exact until the year 2255): the
 * record's nanosecond string without its last three digits.
 */
import { createHash } from 'node:crypto';
import { createRecordId, type JsonValue } from '@otel-audit/core';
import type { AlertEvent } from '../alert-event.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import type { AlertableRecord, FieldGetter } from '../field-path.js';
import { normalizeGroupValue } from './normalize-group.js';

/**
 * One group of one rule. Every rule uses this one class, whatever its
 * condition, so the shared code below sees a single object shape (with a
 * shape per condition, its property accesses went megamorphic and the
 * flood ran 3× slower); the condition's own state hangs off `data`.
 */
class Group<D> {
  key: string;
  /** Neighbours in LRU order. */
  older: Group<D> | undefined = undefined;
  newer: Group<D> | undefined = undefined;
  /** Microseconds after which the state is no longer needed. */
  expiresAt = 0;
  /** Microseconds before which the group may not alert again. */
  cooldownUntil = -Infinity;
  /**
   * `request.id` (and `target.id`, `''` when none) of the last four counted
   * records that had a request id, a ring (`''`: free) in fields rather than
   * a Set or an array: nothing to allocate, one shape. On the group, not in
   * `data`, so they outlive the reset after an alert: otherwise a
   * `count >= 1` rule would alert again on the second record of the request
   * that just fired it.
   */
  request0 = '';
  request1 = '';
  request2 = '';
  request3 = '';
  target0 = '';
  target1 = '';
  target2 = '';
  target3 = '';
  /** Whether the record in each slot was the HTTP-level one of its request (`details.status_code`). */
  http0 = false;
  http1 = false;
  http2 = false;
  http3 = false;
  nextRequest = 0;
  readonly data: D;

  constructor(key: string, data: D) {
    this.key = key;
    this.data = data;
  }

  /**
   * Whether one of the last four counted records came from request `id`
   * (non-empty) about the same target: the same `target.id`, or either has
   * none (the HTTP-level record of a request that changed one tool, say);
   * if so, that counted record is used up (it absorbs one twin only).
   * Records of one request about different targets (a batch) count apart.
   */
  absorbTwin(id: string, target: string, http: boolean): boolean {
    // A twin is from the other side of the request, and absorbed once: its slot is freed,
    // so a third record with the id counts.
    if (id === this.request0 && http !== this.http0 && sameTarget(target, this.target0)) this.request0 = '';
    else if (id === this.request1 && http !== this.http1 && sameTarget(target, this.target1)) this.request1 = '';
    else if (id === this.request2 && http !== this.http2 && sameTarget(target, this.target2)) this.request2 = '';
    else if (id === this.request3 && http !== this.http3 && sameTarget(target, this.target3)) this.request3 = '';
    else return false;
    return true;
  }

  /** Note request `id` (non-empty), target and side of a record just counted, in place of the oldest. */
  remember(id: string, target: string, http: boolean): void {
    const i = this.nextRequest;
    if (i === 0) (this.request0 = id), (this.target0 = target), (this.http0 = http);
    else if (i === 1) (this.request1 = id), (this.target1 = target), (this.http1 = http);
    else if (i === 2) (this.request2 = id), (this.target2 = target), (this.http2 = http);
    else (this.request3 = id), (this.target3 = target), (this.http3 = http);
    this.nextRequest = (i + 1) & 3;
  }

  /** Forget the requests (the group expired, or its object now serves another key). */
  forget(): void {
    this.request0 = this.request1 = this.request2 = this.request3 = '';
    this.target0 = this.target1 = this.target2 = this.target3 = '';
    this.nextRequest = 0;
  }
}

/** What a triggered condition hands to the alert builder. */
export interface Trigger {
  count: number;
  firstNanos: string;
  ids: string[];
  omitted: number;
}

/**
 * Longest Map key kept as is (UTF-16 units). A longer one — a group value
 * or distinct value can be a string of 8 KiB or a `details` object of up to
 * 1 MiB — is replaced by its SHA-256, so that `maxGroups` groups hold
 * `maxGroups` small keys whatever the records carry.
 */
export const MAX_KEY_CHARS = 256;

/** A key of at most {@link MAX_KEY_CHARS}: itself, or `\u0001` + its SHA-256 (base64). */
function bounded(key: string): string {
  return key.length <= MAX_KEY_CHARS ? key : `\u0001${createHash('sha256').update(key).digest('base64')}`;
}

/**
 * A field value as a Map key: a short string as itself, anything else as
 * its JSON behind a NUL (hashed when long). A string itself starting with
 * NUL or `\u0001` takes the JSON form too, so it cannot pose as a number,
 * an object or a hashed key.
 *
 * @example
 * keyOf('alice') // 'alice'
 * keyOf(5)       // '\u00005' — and keyOf('\u00005') is '\u0000"\\u00005"'
 */
export const keyOf = (v: unknown): string =>
  typeof v === 'string' && v.length <= MAX_KEY_CHARS && v.charCodeAt(0) > 1 ? v : bounded(`\u0000${JSON.stringify(v)}`);

function groupKeyFn(fields: readonly FieldGetter[], normalize: boolean): (r: AlertableRecord) => string | undefined {
  if (fields.length === 0) return () => '';
  const getters = normalize ? fields.map((g): FieldGetter => (r) => normalizeGroupValue(g(r))) : fields;
  if (getters.length === 1) {
    const g = getters[0]!;
    return (r) => {
      const v = g(r);
      return v === undefined ? undefined : keyOf(v);
    };
  }
  return (r) => {
    let key = '';
    for (let i = 0; i < getters.length; i++) {
      const v = getters[i]!(r);
      if (v === undefined) return undefined;
      // JSON for every value, strings included: a separator inside a value
      // cannot make two different tuples share a key.
      key += (i === 0 ? '' : '\u001f') + JSON.stringify(v);
    }
    return bounded(key);
  };
}

const sameTarget = (a: string, b: string): boolean => a === b || a === '' || b === '';

/** The record's `target.id` when it is a string, else `''`. */
function targetIdOf(record: AlertableRecord): string {
  const target = record.target;
  const id = typeof target === 'object' && target !== null ? target.id : undefined;
  return typeof id === 'string' ? id : '';
}

/** Whether the record is the HTTP-level one of its request (sealed when the server span ends): it has `details.status_code`. */
function isHttpLevel(record: AlertableRecord): boolean {
  const details = record.details;
  return typeof details === 'object' && details !== null && Object.hasOwn(details, 'status_code');
}

/** The record's `request.id` when it is a string, else `''` (an empty id names no request either). */
function requestIdOf(record: AlertableRecord): string {
  const request = record.request;
  const id = typeof request === 'object' && request !== null ? request.id : undefined;
  return typeof id === 'string' ? id : '';
}

/** The state of one rule across its groups. */
export abstract class RuleState<D = unknown> {
  readonly rule: CompiledAlertRule;
  readonly groups = new Map<string, Group<D>>();
  evicted = 0;
  alerts = 0;
  /** The engine's bookkeeping of its `alert_groups_evicted` alerts (eviction-alert.ts): evictions said so far, when it may say more (µs), and since when. */
  reportedEvictions = 0;
  nextEvictionReport = -Infinity;
  evictedSince = '';
  protected readonly windowMicros: number;
  protected readonly cooldownMicros: number;
  protected readonly maxIds: number;
  readonly #maxGroups: number;
  readonly #groupKey: (r: AlertableRecord) => string | undefined;

  constructor(rule: CompiledAlertRule, maxGroups: number, maxIds: number) {
    this.rule = rule;
    this.windowMicros = rule.windowMillis * 1000;
    this.cooldownMicros = rule.cooldownMillis * 1000;
    this.maxIds = maxIds;
    this.#maxGroups = maxGroups;
    this.#groupKey = groupKeyFn(rule.groupGetters, rule.normalizeGroup === true);
  }

  /** Least and most recently touched groups. */
  #oldest: Group<D> | undefined;
  #newest: Group<D> | undefined;

  /**
   * Feed one matching record at engine time `t` (µs) — `recordMicros`, its
   * own time in µs, as the engine read it for its clock; the alert when its
   * group fires. A record of a request the group counted lately is skipped.
   */
  evaluate(record: AlertableRecord, t: number, recordMicros: number): AlertEvent | undefined {
    const key = this.#groupKey(record);
    if (key === undefined || !this.accepts(record)) return undefined;
    const id = requestIdOf(record);
    const target = id === '' ? '' : targetIdOf(record);
    // The side of the request the record comes from: the HTTP-level record
    // (`details.status_code`) is the twin of an app record and vice versa —
    // never of another record from its own side.
    const http = id !== '' && isHttpLevel(record);
    let state = this.groups.get(key);
    if (state !== undefined) {
      if (state.expiresAt <= t) {
        this.reset(state.data);
        state.forget();
      } else if (id !== '' && state.absorbTwin(id, target, http)) {
        // Another record of a request this group counted lately (the app's own
        // record, then the HTTP-level one): one request counts once.
        return undefined;
      }
      this.#unlink(state);
    } else {
      state = this.#makeRoom(t);
      if (state === undefined) state = new Group(key, this.create());
      else {
        // Reuse the evicted group's objects: under a flood of new groups this
        // avoids allocating (and promoting, then collecting) them per record.
        this.reset(state.data);
        state.forget();
        state.key = key;
        state.cooldownUntil = -Infinity;
      }
      this.groups.set(key, state);
    }
    this.#append(state);
    // In its cooldown a group keeps counting but does not fire; it fires on
    // the first record after the cooldown that finds the condition met.
    const trigger = this.add(state.data, record, t, t >= state.cooldownUntil, recordMicros);
    if (id !== '') state.remember(id, target, http);
    if (trigger !== undefined) {
      this.reset(state.data);
      state.cooldownUntil = t + this.cooldownMicros;
      state.expiresAt = Math.max(t + this.windowMicros, state.cooldownUntil);
      this.alerts++;
      return this.#alert(record, t, trigger);
    }
    state.expiresAt = Math.max(t + this.windowMicros, state.cooldownUntil);
    return undefined;
  }

  /**
   * Drop a few expired groups from the old end, then evict the least
   * recently used one if still full; returns a removed group's object for reuse.
   */
  #makeRoom(t: number): Group<D> | undefined {
    let spare: Group<D> | undefined;
    for (let budget = 4; budget > 0; budget--) {
      const oldest = this.#oldest;
      if (oldest === undefined || oldest.expiresAt > t) break;
      this.#remove(oldest);
      spare = oldest;
    }
    if (this.groups.size >= this.#maxGroups && this.#oldest !== undefined) {
      spare = this.#oldest;
      this.#remove(spare);
      this.evicted++;
    }
    return spare;
  }

  #remove(state: Group<D>): void {
    this.#unlink(state);
    this.groups.delete(state.key);
  }

  #unlink(state: Group<D>): void {
    const { older, newer } = state;
    if (older === undefined) this.#oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older;
    else newer.older = older;
    state.older = state.newer = undefined;
  }

  #append(state: Group<D>): void {
    const newest = this.#newest;
    state.older = newest;
    state.newer = undefined;
    if (newest === undefined) this.#oldest = state;
    else newest.newer = state;
    this.#newest = state;
  }

  #alert(record: AlertableRecord, t: number, trigger: Trigger): AlertEvent {
    const rule = this.rule;
    const group: Record<string, JsonValue> = {};
    for (let i = 0; i < rule.groupBy.length; i++) group[rule.groupBy[i]!] = rule.groupGetters[i]!(record) as JsonValue;
    return {
      id: createRecordId(Math.floor(t / 1000)),
      rule: rule.name,
      severity: rule.severity,
      description: rule.description,
      condition: rule.conditionText,
      group,
      count: trigger.count,
      window: rule.window,
      window_ms: rule.windowMillis,
      first_time: trigger.firstNanos,
      last_time: record.time,
      record_ids: trigger.ids,
      omitted_record_ids: trigger.omitted,
      stream: record.stream,
    };
  }

  /** False when the record lacks what the condition needs (e.g. the distinct field). */
  protected accepts(_record: AlertableRecord): boolean {
    return true;
  }

  /** Fresh condition state of a new group. */
  protected abstract create(): D;
  /** Update the state; when `canFire` and the condition holds, the trigger. */
  protected abstract add(data: D, record: AlertableRecord, t: number, canFire: boolean, recordMicros: number): Trigger | undefined;
  /** Empty the state (after an alert, on expiry, before reuse). */
  protected abstract reset(data: D): void;
}
