/**
 * Domain errors of the alert rules engine (DESIGN §9). Configuration
 * problems — a bad rule in `processors.alerts.rules`, a webhook URL that is
 * not on the allow-list — throw {@link AlertConfigError} naming the key
 * path, the value and the fix. Notifier failures never throw into the
 * pipeline: they reach the dispatcher's `onError` as {@link AlertNotifyError}.
 */
import { AuditError } from '@otel-audit/core';

/** Longest rendering of an offending value in an error message. */
const MAX_VALUE_CHARS = 80;

/** Render a configuration value for an error message, shortened. */
function describeValue(value: unknown): string {
  let text: string;
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  // Large values are summarised, not serialised: an error must stay cheap.
  if (Array.isArray(value) && value.length > 20) return `a list of ${value.length} items`;
  if (typeof value === 'string' && value.length > MAX_VALUE_CHARS) text = `${JSON.stringify(value.slice(0, MAX_VALUE_CHARS))}`;
  else if (typeof value === 'bigint') text = `${value}n`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/**
 * An alert rule or notifier setting is invalid. `path` is the key path
 * (`processors.alerts.rules[2].window`), `value` the offending value and
 * `fix` what to write instead; the message contains all three.
 *
 * @example
 * try { compileRules([{ name: 'x', window: '5 minutes', condition: 'count >= 3' }]) } catch (e) {
 *   if (e instanceof AlertConfigError) console.error(e.path, e.fix); // rules[0].window  write a duration such as "30s", "5m" or "1h"
 * }
 */
export class AlertConfigError extends AuditError {
  /** Key path of the offending setting. */
  readonly path: string;
  /** The offending value (as given). */
  readonly value: unknown;
  /** What is wrong with it. */
  readonly problem: string;
  /** What to write instead. */
  readonly fix: string;

  constructor(path: string, value: unknown, problem: string, fix: string) {
    super('AUDIT_CONFIG_INVALID', `${path}: ${problem} (got ${describeValue(value)}); ${fix}`);
    this.name = 'AlertConfigError';
    this.path = path;
    this.value = value;
    this.problem = problem;
    this.fix = fix;
  }
}

/**
 * A notifier failed to deliver an alert (after its own retries), or the
 * dispatcher dropped the alert because too many deliveries were pending.
 * The alert itself is already sealed in the chain; this error is what the
 * processor records as the notifier's failure.
 *
 * @example
 * new AlertDispatcher({ notifiers, onError: (e) => { if (e.code === 'AUDIT_ALERT_NOTIFY_FAILED') recordFailure(e.notifier, e.alertId) } });
 */
export class AlertNotifyError extends AuditError {
  /** Name of the notifier that failed (`webhook`, `console`, …). */
  readonly notifier: string;
  /** Rule of the alert that was not delivered. */
  readonly rule: string;
  /** Id of the alert (and of its sealed `type: alert` record). */
  readonly alertId: string;
  /** Delivery attempts made (0 when the alert was dropped before any). */
  readonly attempts: number;

  constructor(
    code: 'AUDIT_ALERT_NOTIFY_FAILED' | 'AUDIT_ALERT_QUEUE_FULL',
    notifier: string,
    alert: { rule: string; id: string },
    attempts: number,
    message: string,
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.name = 'AlertNotifyError';
    this.notifier = notifier;
    this.rule = alert.rule;
    this.alertId = alert.id;
    this.attempts = attempts;
  }
}
