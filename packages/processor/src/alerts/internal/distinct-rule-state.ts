/**
 * The `distinct(field) >= N` condition of an alert rule (DESIGN §9): per
 * group, the values seen in the window, each with the time and id of the
 * record that last carried it, in a Map kept in last-seen order (so the
 * oldest values expire from its front) and at most N entries.
 */
import type { AlertableRecord, FieldGetter } from '../field-path.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import { keyOf, RuleState, type Trigger } from './rule-state.js';

interface Seen {
  t: number;
  id: string;
  nanos: string;
}

/**
 * `distinct(field) >= N` within the window.
 *
 * @example
 * const state = new DistinctRuleState(compileRules([{ name: 'ips', group_by: ['actor.id'], condition: 'distinct(actor.ip) >= 3' }])[0]!, 10_000, 20);
 * state.evaluate(sealed.record, nowMicros, recordMicros); // the alert at an actor's 3rd IP address, else undefined
 */
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
