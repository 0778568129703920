/**
 * Digest mode of a rule (DESIGN §9; issue 8 "one alert per change or a
 * digest"): instead of one alert per firing, the firings of a rule within a
 * digest window are folded into one alert that counts them and lists their
 * records. The engine's clock is record time, so a digest is emitted by the
 * first record evaluated at or after its window's end (whatever its type);
 * a digest still open when the process stops is not emitted (its firings'
 * records are in the chain regardless).
 */
import type { AlertEvent } from '../alert-event.js';
import type { CompiledAlertRule } from '../alert-rule.js';

/** The open digest of one rule. */
export class AlertDigest {
  readonly rule: CompiledAlertRule;
  readonly #micros: number;
  readonly #maxIds: number;
  /** Microseconds at which the open digest is due; Infinity when none is open. */
  dueAt = Infinity;
  #firings = 0;
  #records = 0;
  #ids: string[] = [];
  #omitted = 0;
  #first = '';
  #last = '';
  #stream = '';
  #id = '';

  constructor(rule: CompiledAlertRule, maxIds: number) {
    this.rule = rule;
    this.#micros = rule.digestMillis * 1000;
    this.#maxIds = maxIds;
  }

  /** Fold one firing (at engine time `t`) into the open digest, opening one if none. */
  add(alert: AlertEvent, t: number): void {
    if (this.dueAt === Infinity) {
      this.dueAt = t + this.#micros;
      this.#first = alert.first_time;
      this.#id = alert.id;
    }
    this.#firings++;
    this.#records += alert.count;
    this.#last = alert.last_time;
    this.#stream = alert.stream;
    this.#omitted += alert.omitted_record_ids;
    for (const id of alert.record_ids) {
      if (this.#ids.length < this.#maxIds) this.#ids.push(id);
      else this.#omitted++;
    }
  }

  /** The digest alert, closing the digest. */
  take(): AlertEvent {
    const rule = this.rule;
    const alert: AlertEvent = {
      id: this.#id,
      rule: rule.name,
      severity: rule.severity,
      description: `${rule.description} (digest: ${this.#firings} alert(s) within ${rule.digest})`,
      condition: `digest of ${rule.conditionText} per ${rule.digest}`,
      group: {},
      count: this.#firings,
      window: rule.digest,
      window_ms: rule.digestMillis,
      first_time: this.#first,
      last_time: this.#last,
      record_ids: this.#ids,
      omitted_record_ids: this.#omitted,
      stream: this.#stream,
    };
    this.dueAt = Infinity;
    this.#firings = this.#records = this.#omitted = 0;
    this.#ids = [];
    return alert;
  }
}
