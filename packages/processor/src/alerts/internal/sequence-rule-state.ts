/**
 * The `sequence` condition of an alert rule (DESIGN §9): ordered steps,
 * each matched a number of times, within the window. Expanded into units
 * (a step of count 3 is three units); `best[j]` is the latest start among
 * partial matches that completed units 0..j, which dominates every other
 * such partial match. A record advances each partial match by at most one
 * unit (units are visited last to first), so a record is never counted
 * twice in one match.
 */
import type { AlertableRecord } from '../field-path.js';
import type { CompiledAlertRule } from '../alert-rule.js';
import { RuleState, type Trigger } from './rule-state.js';

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

/**
 * An ordered `sequence` within the window.
 *
 * @example
 * const state = new SequenceRuleState(compileRules([{ name: 'brute', group_by: ['actor.id'], condition: { sequence: [{ match: { outcome: 'failure' }, count: 5 }, { match: { outcome: 'success' } }] } }])[0]!, 10_000, 20);
 * state.evaluate(sealed.record, nowMicros, recordMicros); // the alert at a success after 5 failures, else undefined
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
