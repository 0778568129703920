/**
 * Per-rule, per-group state of the alert engine (DESIGN §9): sliding
 * windows for `count`, last-seen maps for `distinct`, and a small dynamic
 * programme for `sequence`, held in a Map plus an intrusive doubly linked
 * list in least-recently-used order. (Not the Map's own insertion order:
 * V8 leaves deleted entries in place until it rehashes, so reading the
 * oldest entry of a churning Map costs O(deleted) — the 1,000,000-actor
 * flood test took 56 s that way, 10 s this way.) Memory is bounded: a
 * group's state expires with its window and cooldown, a rule holds at most
 * `maxGroups` groups (the least recently touched is evicted and counted),
 * and a group holds at most `threshold` entries.
 *
 * Times are Unix microseconds as doubles (exact until the year 2255): the
 * record's nanosecond string without its last three digits.
 */
import { createRecordId, type JsonValue } from '@otel-audit/core';
import type { AlertEvent } from '../alert-event.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import type { AlertableRecord, FieldGetter } from '../field-path.js';

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
  readonly data: D;

  constructor(key: string, data: D) {
    this.key = key;
    this.data = data;
  }
}

class CountWindow {
  head = 0;
  times: number[] = [];
  ids: string[] = [];
  nanos: string[] = [];
}

interface Seen {
  t: number;
  id: string;
  nanos: string;
}

class SequenceProgress {
  /** Per unit j: the latest start time of a partial match that completed units 0..j. */
  readonly best: number[];
  readonly ids: (string[] | undefined)[];
  readonly omitted: number[];
  readonly first: string[];

  constructor(m: number) {
    this.best = new Array<number>(m).fill(-Infinity);
    this.ids = new Array<string[] | undefined>(m).fill(undefined);
    this.omitted = new Array<number>(m).fill(0);
    this.first = new Array<string>(m).fill('');
  }
}

/** What a triggered condition hands to the alert builder. */
interface Trigger {
  count: number;
  firstNanos: string;
  ids: string[];
  omitted: number;
}

const keyOf = (v: unknown): string => (typeof v === 'string' ? v : `\u0000${JSON.stringify(v)}`);

function groupKeyFn(getters: readonly FieldGetter[]): (r: AlertableRecord) => string | undefined {
  if (getters.length === 0) return () => '';
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
    return key;
  };
}

/** The state of one rule across its groups. */
export abstract class RuleState<D = unknown> {
  readonly rule: CompiledAlertRule;
  readonly groups = new Map<string, Group<D>>();
  evicted = 0;
  alerts = 0;
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
    this.#groupKey = groupKeyFn(rule.groupGetters);
  }

  /** Least and most recently touched groups. */
  #oldest: Group<D> | undefined;
  #newest: Group<D> | undefined;

  /** Feed one matching record at engine time `t` (µs); the alert when its group fires. */
  evaluate(record: AlertableRecord, t: number): AlertEvent | undefined {
    const key = this.#groupKey(record);
    if (key === undefined || !this.accepts(record)) return undefined;
    let state = this.groups.get(key);
    if (state !== undefined) {
      this.#unlink(state);
      if (state.expiresAt <= t) this.reset(state.data);
    } else {
      state = this.#makeRoom(t);
      if (state === undefined) state = new Group(key, this.create());
      else {
        // Reuse the evicted group's objects: under a flood of new groups this
        // avoids allocating (and promoting, then collecting) them per record.
        this.reset(state.data);
        state.key = key;
        state.cooldownUntil = -Infinity;
      }
      this.groups.set(key, state);
    }
    this.#append(state);
    // In its cooldown a group keeps counting but does not fire; it fires on
    // the first record after the cooldown that finds the condition met.
    const trigger = this.add(state.data, record, t, t >= state.cooldownUntil);
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
  protected abstract add(data: D, record: AlertableRecord, t: number, canFire: boolean): Trigger | undefined;
  /** Empty the state (after an alert, on expiry, before reuse). */
  protected abstract reset(data: D): void;
}

/** `count >= N` within the window. */
export class CountRuleState extends RuleState<CountWindow> {
  readonly #count: number;

  constructor(rule: CompiledAlertRule, maxGroups: number, maxIds: number) {
    super(rule, maxGroups, maxIds);
    this.#count = (rule.condition as { count: number }).count;
  }

  protected create(): CountWindow {
    return new CountWindow();
  }

  protected add(s: CountWindow, record: AlertableRecord, t: number, canFire: boolean): Trigger | undefined {
    const horizon = t - this.windowMicros;
    const times = s.times;
    let head = s.head;
    while (head < times.length && times[head]! <= horizon) head++;
    if (times.length - head >= this.#count) head++; // in cooldown: keep at most N
    if (head > 32 && head * 2 > times.length) {
      times.splice(0, head);
      s.ids.splice(0, head);
      s.nanos.splice(0, head);
      head = 0;
    }
    s.head = head;
    times.push(t);
    s.ids.push(record.id);
    s.nanos.push(record.time);
    const n = times.length - head;
    if (n < this.#count || !canFire) return undefined;
    const from = Math.max(head, times.length - this.maxIds);
    return { count: n, firstNanos: s.nanos[head]!, ids: s.ids.slice(from), omitted: from - head };
  }

  protected reset(s: CountWindow): void {
    s.head = 0;
    s.times.length = 0;
    s.ids.length = 0;
    s.nanos.length = 0;
  }
}

/** `distinct(field) >= N` within the window. */
export class DistinctRuleState extends RuleState<Map<string, Seen>> {
  readonly #count: number;
  readonly #get: FieldGetter;

  constructor(rule: CompiledAlertRule, maxGroups: number, maxIds: number) {
    super(rule, maxGroups, maxIds);
    const c = rule.condition as { count: number; get: FieldGetter };
    this.#count = c.count;
    this.#get = c.get;
  }

  protected override accepts(record: AlertableRecord): boolean {
    return this.#get(record) !== undefined;
  }

  protected create(): Map<string, Seen> {
    return new Map();
  }

  protected add(values: Map<string, Seen>, record: AlertableRecord, t: number, canFire: boolean): Trigger | undefined {
    const horizon = t - this.windowMicros;
    for (const [k, seen] of values) {
      if (seen.t > horizon) break;
      values.delete(k);
    }
    const key = keyOf(this.#get(record));
    values.delete(key);
    values.set(key, { t, id: record.id, nanos: record.time });
    if (values.size > this.#count) values.delete(values.keys().next().value!);
    if (values.size < this.#count || !canFire) return undefined;
    const all = [...values.values()];
    const from = Math.max(0, all.length - this.maxIds);
    return { count: all.length, firstNanos: all[0]!.nanos, ids: all.slice(from).map((v) => v.id), omitted: from };
  }

  protected reset(values: Map<string, Seen>): void {
    values.clear();
  }
}

/**
 * An ordered `sequence`. Expanded into units (a step of count 3 is three
 * units); `best[j]` is the latest start among partial matches that
 * completed units 0..j, which dominates every other such partial match.
 * A record advances each partial match by at most one unit (units are
 * visited last to first), so a record is never counted twice in one match.
 */
export class SequenceRuleState extends RuleState<SequenceProgress> {
  readonly #units: readonly ((r: AlertableRecord) => boolean)[];

  constructor(rule: CompiledAlertRule, maxGroups: number, maxIds: number) {
    super(rule, maxGroups, maxIds);
    this.#units = (rule.condition as { units: readonly ((r: AlertableRecord) => boolean)[] }).units;
  }

  protected create(): SequenceProgress {
    return new SequenceProgress(this.#units.length);
  }

  protected add(s: SequenceProgress, record: AlertableRecord, t: number, canFire: boolean): Trigger | undefined {
    const horizon = t - this.windowMicros;
    const units = this.#units;
    const last = units.length - 1;
    const { best, ids, omitted, first } = s;
    let completed = false;
    for (let j = last; j >= 0; j--) {
      if (!units[j]!(record)) continue;
      if (j === 0) {
        best[0] = t;
        ids[0] = [record.id];
        omitted[0] = 0;
        first[0] = record.time;
      } else if (best[j - 1]! > horizon && best[j - 1]! >= best[j]!) {
        best[j] = best[j - 1]!;
        const prior = ids[j - 1]!;
        const drop = prior.length >= this.maxIds ? 1 : 0;
        ids[j] = [...(drop ? prior.slice(1) : prior), record.id];
        omitted[j] = omitted[j - 1]! + drop;
        first[j] = first[j - 1]!;
        if (j === last) completed = true;
      }
    }
    if (!completed || !canFire) return undefined;
    return { count: units.length, firstNanos: first[last]!, ids: ids[last]!, omitted: omitted[last]! };
  }

  protected reset(s: SequenceProgress): void {
    s.best.fill(-Infinity);
    s.ids.fill(undefined);
  }
}
