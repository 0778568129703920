/**
 * Where the alert engine meets the processor (DESIGN §3, §9): a function
 * for the processor's `onSealed` option that evaluates each sealed record,
 * hands the alerts to the dispatcher (notifiers run later, off the hot
 * path) and returns their `type: alert` events for the processor to seal
 * right after the record, in the same chain. Also the event that records a
 * notifier's failure, for the dispatcher's `onError`.
 */
import { createRecordId, type AuditEventInput } from '@otel-audit/core';
import type { AlertDispatcher } from './alert-dispatcher.js';
import type { AlertEngine } from './alert-engine.js';
import { ACTION_ALERT_NOTIFY_FAILED, alertRecordEvent } from './alert-event.js';
import type { AlertNotifyError } from './errors.js';
import type { AlertableRecord } from './field-path.js';

/** Options of {@link createAlertHook}. */
export interface AlertHookOptions {
  engine: AlertEngine;
  /** Where alerts go besides the chain; none = the chain only. */
  dispatcher?: AlertDispatcher;
}

/** Action of the record that says a notifier failed (defined in alert-event.ts, where the engine reads it). */
export { ACTION_ALERT_NOTIFY_FAILED };

/**
 * The `onSealed` hook of `AuditLogRecordProcessor`: synchronous, no I/O,
 * `undefined` (no allocation) when no alert is raised.
 *
 * @example
 * const dispatcher = new AlertDispatcher({ notifiers: [webhook], onError: (e) => auditLogger.emit({ body: alertNotifyFailureEvent(e) }) });
 * const processor = new AuditLogRecordProcessor({ sinks, signerKey, onSealed: createAlertHook({ engine: new AlertEngine({ rules: builtinAlertRules() }), dispatcher }) });
 */
export function createAlertHook(options: AlertHookOptions): (record: AlertableRecord) => AuditEventInput[] | undefined {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.engine?.evaluate !== 'function') throw new TypeError('options.engine must be an AlertEngine');
  if (options.dispatcher !== undefined && typeof options.dispatcher.dispatch !== 'function') throw new TypeError('options.dispatcher must be an AlertDispatcher');
  const { engine, dispatcher } = options;
  return (record) => {
    const alerts = engine.evaluate(record);
    if (alerts.length === 0) return undefined;
    const events: AuditEventInput[] = new Array(alerts.length);
    for (let i = 0; i < alerts.length; i++) {
      events[i] = alertRecordEvent(alerts[i]!);
      // Notifiers start on a later microtask: after the processor sealed these events.
      dispatcher?.dispatch(alerts[i]!);
    }
    return events;
  };
}

/**
 * The audit event recording that a notifier failed to deliver an alert
 * (`system/alert_notify_failed`, target the alert's record id). The alert
 * itself is already in the chain. Time is now; emit it through the audit
 * logger, or seal it, from the dispatcher's `onError`.
 *
 * @example
 * new AlertDispatcher({ notifiers, onError: (e) => auditLogger.emit({ body: alertNotifyFailureEvent(e) }) });
 */
export function alertNotifyFailureEvent(error: AlertNotifyError, nowMillis: number = Date.now()): AuditEventInput {
  return {
    id: createRecordId(nowMillis),
    time: `${BigInt(Math.floor(nowMillis)) * 1_000_000n}`,
    type: 'system',
    action: ACTION_ALERT_NOTIFY_FAILED,
    outcome: 'failure',
    severity: 'error',
    actor: { id: 'otel-audit', type: 'system' },
    target: { type: 'alert', id: error.alertId, name: error.rule },
    error: error.message,
    details: { code: error.code, notifier: error.notifier, rule: error.rule, alert_id: error.alertId, attempts: error.attempts },
  };
}
