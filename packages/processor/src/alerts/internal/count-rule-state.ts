/**
 * The `count >= N` condition of an alert rule (DESIGN §9): per group, a
 * sliding window of the matching records' times, ids and nanosecond times,
 * held in parallel arrays with a moving head (compacted now and then, not
 * shifted per record) and at most N entries.
 */
import type { AlertableRecord } from '../field-path.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import { RuleState, type Trigger } from './rule-state.js';

class CountWindow {
  head = 0;
  times: number[] = [];
  ids: string[] = [];
  nanos: string[] = [];
}

/**
 * `count >= N` within the window.
 *
 * @example
 * const state = new CountRuleState(compileRules([{ name: 'fails', condition: 'count >= 5' }])[0]!, 10_000, 20);
 * state.evaluate(sealed.record, nowMicros); // the alert at the 5th record of a group, else undefined
 */
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
