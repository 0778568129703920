/**
 * The `count >= N` condition of an alert rule (DESIGN §9): per group, a
 * sliding window of the matching records' engine times and record times,
 * held in parallel number arrays with a moving head (compacted now and then,
 * not shifted per record) and at most N entries, and the ids of the last
 * `maxIds` of them in a ring — an alert lists no more. Numbers, not strings:
 * 10,000 groups of a rule with a threshold of 100 (data_exfiltration) hold a
 * million entries; as record time and id strings they took 130 MB, and
 * 529 MB with ids built by concatenation (V8 keeps those as cons strings).
 */
import type { AlertableRecord } from '../field-path.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import { RuleState, type Trigger } from './rule-state.js';

class CountWindow {
  head = 0;
  /** Engine times (µs) of the entries. */
  times: number[] = [];
  /** Each entry's record time: its microseconds and the nanoseconds beyond them. */
  micros: number[] = [];
  nanos: number[] = [];
  /** Ids of the last entries, a ring: `ids[(seen - k) % ids.length]` is the k-th newest (k ≥ 1). */
  ids: string[] = [];
  /** Entries ever added since the last reset. */
  seen = 0;
}

/**
 * The nanoseconds beyond the microseconds of record time `time` (Unix ns,
 * decimal digits), read digit by digit; the engine has read the
 * microseconds already, for its clock.
 */
function nanosOf(time: string): number {
  let ns = 0;
  for (let i = Math.max(0, time.length - 3); i < time.length; i++) ns = ns * 10 + (time.charCodeAt(i) - 48);
  return ns;
}

function joinNanos(micros: number, nanos: number): string {
  return micros === 0 ? String(nanos) : `${micros}${String(nanos).padStart(3, '0')}`;
}

/**
 * `count >= N` within the window.
 *
 * @example
 * const state = new CountRuleState(compileRules([{ name: 'fails', condition: 'count >= 5' }])[0]!, 10_000, 20);
 * state.evaluate(sealed.record, nowMicros, recordMicros); // the alert at the 5th record of a group, else undefined
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

  protected add(s: CountWindow, record: AlertableRecord, t: number, canFire: boolean, recordMicros: number): Trigger | undefined {
    const horizon = t - this.windowMicros;
    const times = s.times;
    let head = s.head;
    while (head < times.length && times[head]! <= horizon) head++;
    if (times.length - head >= this.#count) head++; // in cooldown: keep at most N
    if (head > 32 && head * 2 > times.length) {
      times.splice(0, head);
      s.micros.splice(0, head);
      s.nanos.splice(0, head);
      head = 0;
    }
    s.head = head;
    times.push(t);
    s.micros.push(recordMicros);
    s.nanos.push(nanosOf(record.time));
    const ring = s.ids;
    if (ring.length < this.maxIds) ring.push(record.id);
    else ring[s.seen % this.maxIds] = record.id;
    s.seen++;
    const n = times.length - head;
    if (n < this.#count || !canFire) return undefined;
    const listed = Math.min(n, this.maxIds);
    const ids: string[] = [];
    for (let k = listed; k >= 1; k--) ids.push(ring[(s.seen - k) % ring.length]!);
    return { count: n, firstNanos: joinNanos(s.micros[head]!, s.nanos[head]!), ids, omitted: n - listed };
  }

  protected reset(s: CountWindow): void {
    s.head = 0;
    s.times.length = 0;
    s.micros.length = 0;
    s.nanos.length = 0;
    s.ids.length = 0;
    s.seen = 0;
  }
}
