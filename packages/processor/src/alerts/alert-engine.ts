/**
 * The alert rules engine (DESIGN §9): evaluates sealed records in emit
 * order against compiled rules and returns the alerts they raise. The
 * record's own `time` is the clock, so replaying a stream raises the same
 * alerts and tests need no fake timers; the wall clock only guards it (a
 * record dated more than `maxClockSkewMillis` ahead of it counts as of that
 * bound, and a backward step of it shifts later record times), so that
 * neither a future-dated record nor an NTP correction stops time for every
 * rule (internal/engine-clock.ts).
 * Synchronous — no I/O, no timers — so the processor can call it right
 * after sealing each record; notifiers run elsewhere (`AlertDispatcher`).
 */
import type { AlertEvent } from './alert-event.js';
import { AlertDigest } from './internal/alert-digest.js';
import { ACTION_ALERT_NOTIFY_FAILED, ALERT_RECORD_TYPE } from './alert-event.js';
import { compileRules, type AlertRuleConfig, type CompiledAlertRule } from './alert-rule.js';
import type { AlertableRecord } from './field-path.js';
import { CountRuleState } from './internal/count-rule-state.js';
import { DistinctRuleState } from './internal/distinct-rule-state.js';
import { EngineClock } from './internal/engine-clock.js';
import { evictionAlert } from './internal/eviction-alert.js';
import type { RuleState } from './internal/rule-state.js';
import { SequenceRuleState } from './internal/sequence-rule-state.js';

/** Options of {@link AlertEngine}. */
export interface AlertEngineOptions {
  /** Rules as configured (validated here) or already compiled by `compileRules`. */
  rules: readonly AlertRuleConfig[] | readonly CompiledAlertRule[];
  /**
   * Most groups one rule keeps; beyond, the least recently active is
   * evicted, and an `alert_groups_evicted` alert says so (the first eviction
   * of a rule at once, then at most once an hour or once per the rule's
   * window if longer, with the number evicted since). Default 10,000.
   */
  maxGroupsPerRule?: number;
  /** Most record ids listed in one alert (the most recent ones). Default 20. */
  maxRecordIdsPerAlert?: number;
  /**
   * How far ahead of the wall clock a record's time may move the engine's
   * clock, in ms. Default 300,000 (5 minutes). A record dated further ahead
   * counts as of wall clock + this: without the cap, one record dated in the
   * year 2200 (a client-supplied timestamp, a broken clock) would move the
   * clock there for good — every window frozen, every group that alerts
   * silenced by a cooldown that never ends, every digest never due. Also the
   * smallest backward step of the wall clock the engine shifts record times
   * for: after a smaller one, records count as of the engine's clock for at
   * most that long.
   */
  maxClockSkewMillis?: number;
  /**
   * The wall clock, in Unix ms. Default `Date.now`. Read only when a record is
   * dated past the last reading + skew, or more than the skew before the
   * engine's clock: when the wall clock is then behind the engine's clock too,
   * it was stepped back (NTP), and later record times count on from where the
   * engine's clock would be had it not stepped (the time since the last
   * reading measured on `performance.now()`), not as of a frozen time.
   */
  clock?: () => number;
}

/** Counters of one rule. */
export interface AlertRuleStats {
  readonly name: string;
  /** Groups currently held. */
  readonly groups: number;
  /** Groups evicted (LRU) because the rule held `maxGroupsPerRule`. */
  readonly evictedGroups: number;
  /** Alerts raised. */
  readonly alerts: number;
}

/** Counters of the engine, for metrics. */
export interface AlertEngineStats {
  readonly groups: number;
  readonly evictedGroups: number;
  readonly alerts: number;
  readonly rules: readonly AlertRuleStats[];
}

/** Default of {@link AlertEngineOptions.maxGroupsPerRule}. */
export const DEFAULT_MAX_GROUPS_PER_RULE = 10_000;
/** Default of {@link AlertEngineOptions.maxRecordIdsPerAlert}. */
export const DEFAULT_MAX_RECORD_IDS_PER_ALERT = 20;
/** Default of {@link AlertEngineOptions.maxClockSkewMillis}. */
export const DEFAULT_MAX_CLOCK_SKEW_MILLIS = 300_000;

const NO_ALERTS: readonly AlertEvent[] = Object.freeze([]);

/** A rule that can match records of one type and action, and its match narrowed to them. */
interface Candidate {
  readonly state: RuleState;
  readonly test: (record: AlertableRecord) => boolean;
}
/** Most (type, action) pairs whose candidate rules the engine keeps. */
const MAX_INDEXED_PAIRS = 4096;

function isCompiled(rules: readonly unknown[]): rules is readonly CompiledAlertRule[] {
  return rules.every((r) => typeof (r as CompiledAlertRule)?.match?.test === 'function' && typeof (r as CompiledAlertRule).conditionText === 'string');
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) throw new RangeError(`${name} must be a whole number from 1 to 10000000, got ${value}`);
  return value;
}

/**
 * Evaluates records against alert rules with bounded memory. Rules count
 * requests, not records: a record with the same `request.id` as one of the
 * last four records counted in its group (the HTTP-level record of a
 * request whose app already logged it, say) is not counted again for that
 * rule and group — once, and only the HTTP-level record (with
 * `details.status_code`) as the twin of an app record or the reverse: the id
 * is the client's `X-Request-ID`, so attempts that all send one id still
 * count one by one. Records without a `request.id` count one by one.
 *
 * @example
 * const engine = new AlertEngine({ rules: builtinAlertRules({ failedLogins: 5 }) });
 * const sealed = chain.append(event);
 * for (const alert of engine.evaluate(sealed.record)) {
 *   chain.append(alertRecordEvent(alert)); // sealed in the same chain
 *   dispatcher.dispatch(alert);            // notifiers, off the hot path
 * }
 */
export class AlertEngine {
  readonly #states: RuleState[];
  readonly #maxGroups: number;
  /** Digests of rules in digest mode, by rule name; `#digestList` for the due check. */
  readonly #digests = new Map<string, AlertDigest>();
  readonly #digestList: AlertDigest[] = [];
  /** Earliest due time of an open digest (µs); Infinity when none is open. */
  #nextDigest = Infinity;
  /**
   * The rules a record of a type and action can match (those that pin
   * neither, or pin these), in rule order, by type then action: built on
   * first use, at most {@link MAX_INDEXED_PAIRS} pairs (then rebuilt).
   * Most records match no rule; this skips the rules that cannot match them
   * without testing a field (a realistic mix: 1.96 → ~0.9 µs per record).
   */
  readonly #candidates = new Map<string, Map<string, readonly Candidate[]>>();
  #indexedPairs = 0;
  /** Record time guarded by the wall clock; also the last record's own time, which the count rules keep for `first_time`. */
  readonly #clock: EngineClock;

  constructor(options: AlertEngineOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (!Array.isArray(options.rules)) throw new TypeError('options.rules must be an array of alert rules');
    const maxGroups = positiveInteger(options.maxGroupsPerRule, 'options.maxGroupsPerRule', DEFAULT_MAX_GROUPS_PER_RULE);
    const maxIds = positiveInteger(options.maxRecordIdsPerAlert, 'options.maxRecordIdsPerAlert', DEFAULT_MAX_RECORD_IDS_PER_ALERT);
    const skew = options.maxClockSkewMillis ?? DEFAULT_MAX_CLOCK_SKEW_MILLIS;
    if (typeof skew !== 'number' || !Number.isInteger(skew) || skew < 0 || skew > 31_536_000_000) {
      throw new RangeError(`options.maxClockSkewMillis must be a whole number of milliseconds from 0 to 31536000000 (a year), got ${String(skew)}; the default is ${DEFAULT_MAX_CLOCK_SKEW_MILLIS}`);
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') throw new TypeError(`options.clock must be a function returning Unix milliseconds (e.g. Date.now), got ${typeof options.clock}`);
    this.#maxGroups = maxGroups;
    this.#clock = new EngineClock(skew * 1000, options.clock ?? Date.now);
    const rules = isCompiled(options.rules) ? options.rules : compileRules(options.rules);
    const names = new Set<string>();
    for (const r of rules) {
      if (names.has(r.name)) throw new RangeError(`options.rules has two rules named "${r.name}"`);
      names.add(r.name);
    }
    this.#states = rules.map((rule): RuleState => {
      const kind = rule.condition.kind;
      if (kind === 'count') return new CountRuleState(rule, maxGroups, maxIds);
      if (kind === 'distinct') return new DistinctRuleState(rule, maxGroups, maxIds);
      return new SequenceRuleState(rule, maxGroups, maxIds);
    });
    for (const r of rules) {
      if (r.digestMillis > 0) {
        const d = new AlertDigest(r, maxIds);
        this.#digests.set(r.name, d);
        this.#digestList.push(d);
      }
    }
  }

  /** Names of the active rules, in order. */
  get ruleNames(): string[] {
    return this.#states.map((s) => s.rule.name);
  }

  /** Groups evicted so far because a rule held `maxGroupsPerRule` (a metric). */
  get evictedGroups(): number {
    let n = 0;
    for (const s of this.#states) n += s.evicted;
    return n;
  }

  /**
   * Evaluate one sealed record, in emit order, and return the alerts it
   * raises (usually none: a shared empty array). Records of type `alert`,
   * and `system/alert_notify_failed` records, are ignored so that alerts
   * (and failures to deliver them) never raise alerts. The clock is the largest
   * record `time` seen so far: a record dated earlier counts as of now; one
   * dated past the wall clock + `maxClockSkewMillis` counts as of that; after
   * the wall clock stepped back, record times count on from where the clock would be. A
   * record whose group pushed another out of a full rule may also raise the
   * engine's own `alert_groups_evicted` alert.
   *
   * @example
   * const alerts = engine.evaluate(sealed.record); // [] or [{ rule: 'failed_logins', group: { 'actor.id': 'alice' }, count: 5, … }]
   */
  evaluate(record: AlertableRecord): readonly AlertEvent[] {
    const type = record.type;
    let now = NaN; // parsed only when a rule matches (or a digest is open): it costs more than most matches
    let out: AlertEvent[] | undefined;
    if (this.#nextDigest !== Infinity) {
      now = this.#clock.advance(record.time);
      if (now >= this.#nextDigest) out = this.#dueDigests(now);
    }
    if (type === ALERT_RECORD_TYPE || (type === 'system' && record.action === ACTION_ALERT_NOTIFY_FAILED)) return out ?? NO_ALERTS;
    const candidates = this.#rulesFor(type, record.action);
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (!c.test(record)) continue;
      const s = c.state;
      if (now !== now) now = this.#clock.advance(record.time);
      const alert = s.evaluate(record, now, this.#clock.recordMicros);
      if (s.evicted !== s.reportedEvictions) {
        const evicted = evictionAlert(s, this.#maxGroups, record, now);
        if (evicted !== undefined) (out ??= []).push(evicted);
      }
      if (alert === undefined) continue;
      const digest = s.rule.digestMillis > 0 ? this.#digests.get(s.rule.name) : undefined;
      if (digest === undefined) (out ??= []).push(alert);
      else {
        digest.add(alert, now);
        if (digest.dueAt < this.#nextDigest) this.#nextDigest = digest.dueAt;
      }
    }
    return out ?? NO_ALERTS;
  }

  /** The rules a record of this type and action can match, in rule order. */
  #rulesFor(type: string, action: string): readonly Candidate[] {
    let byAction = this.#candidates.get(type);
    const hit = byAction?.get(action);
    if (hit !== undefined) return hit;
    if (this.#indexedPairs >= MAX_INDEXED_PAIRS) {
      // Free-text actions can be many: start over rather than grow without bound.
      this.#candidates.clear();
      this.#indexedPairs = 0;
      byAction = undefined;
    }
    const rules: Candidate[] = [];
    for (const state of this.#states) {
      const match = state.rule.match;
      const { types, actions } = match;
      if ((types !== undefined && !types.has(type)) || (actions !== undefined && !actions.has(action))) continue;
      // A match compiled elsewhere may not narrow: its whole test then (called on it: it may be a class).
      const narrowed = match.narrow === undefined ? (r: AlertableRecord) => match.test(r) : match.narrow(type, action);
      if (narrowed !== undefined) rules.push({ state, test: narrowed });
    }
    if (byAction === undefined) this.#candidates.set(type, (byAction = new Map()));
    byAction.set(action, rules);
    this.#indexedPairs++;
    return rules;
  }

  /** Close the digests due at `now`; recompute the next due time. */
  #dueDigests(now: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    let next = Infinity;
    for (const d of this.#digestList) {
      if (d.dueAt <= now) out.push(d.take());
      else if (d.dueAt < next) next = d.dueAt;
    }
    this.#nextDigest = next;
    return out;
  }

  /**
   * Counters for metrics and `stats()` endpoints.
   *
   * @example
   * meter.createObservableCounter('otel_audit.alerts.groups_evicted').addCallback((r) => r.observe(engine.stats().evictedGroups));
   */
  stats(): AlertEngineStats {
    const rules = this.#states.map((s) => ({ name: s.rule.name, groups: s.groups.size, evictedGroups: s.evicted, alerts: s.alerts }));
    return {
      groups: rules.reduce((n, r) => n + r.groups, 0),
      evictedGroups: rules.reduce((n, r) => n + r.evictedGroups, 0),
      alerts: rules.reduce((n, r) => n + r.alerts, 0),
      rules,
    };
  }
}
