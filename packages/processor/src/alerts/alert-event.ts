/**
 * What an alert is (DESIGN §9): the descriptor the engine produces, and the
 * `type: alert` audit event (§4.1) the processor seals for it in the same
 * chain, so alerts are as tamper-evident as the records that raised them.
 * The descriptor's member names are snake_case because it travels as JSON —
 * in the record's `details` and in webhook bodies.
 */
import type { AuditEventInput, JsonValue } from '@otel-audit/core';
import type { AlertSeverity } from './alert-rule.js';

/** One alert raised by a rule for one group. */
export interface AlertEvent {
  /** UUIDv7; also the id of the sealed alert record, so receivers can find it. */
  readonly id: string;
  /** Rule name; the alert record's `action`. */
  readonly rule: string;
  readonly severity: AlertSeverity;
  readonly description: string;
  /** The condition in words, e.g. `count >= 5`. */
  readonly condition: string;
  /** `group_by` field → value of the group that alerted (`{}` without group_by). */
  readonly group: Readonly<Record<string, JsonValue>>;
  /** Records counted (count, sequence) or distinct values seen (distinct) in the window. */
  readonly count: number;
  /** The window as configured, e.g. `5m`, and in milliseconds. */
  readonly window: string;
  readonly window_ms: number;
  /** Unix-nanosecond times of the first and last triggering records. */
  readonly first_time: string;
  readonly last_time: string;
  /** Ids of the triggering records, oldest first, the last ones when capped. */
  readonly record_ids: readonly string[];
  /** How many triggering record ids were left out of `record_ids` by the cap. */
  readonly omitted_record_ids: number;
  /** Stream of the record that completed the condition. */
  readonly stream: string;
}

/** Type of the alert records. */
export const ALERT_RECORD_TYPE = 'alert';

/**
 * Action of the `system` record that says a notifier failed to deliver an
 * alert (see `alertNotifyFailureEvent`). Like `type: alert` records, these
 * never raise alerts: otherwise a rule on failures (`outcome: failure`)
 * would alert on the failure to deliver its own alert, whose delivery fails
 * in turn — a loop that doubles with every failing notifier.
 *
 * @example
 * records.filter((r) => r.type === 'system' && r.action === ACTION_ALERT_NOTIFY_FAILED)
 */
export const ACTION_ALERT_NOTIFY_FAILED = 'alert_notify_failed';

/**
 * Rule name (the alert record's `action`) of the engine's own alert when a
 * rule, full at `maxGroupsPerRule`, evicts groups (internal/eviction-alert.ts).
 * Reserved: no configured rule may take it.
 */
export const ALERT_GROUPS_EVICTED = 'alert_groups_evicted';

/**
 * The audit event for an alert: `type: alert`, `action: <rule>`, the
 * alert's severity and id, actor `otel-audit` (system), target the rule,
 * time of the triggering record, and the descriptor in `details`. The
 * processor seals it right after the record that completed the condition.
 *
 * @example
 * for (const alert of engine.evaluate(sealed.record)) chain.append(alertRecordEvent(alert));
 */
export function alertRecordEvent(alert: AlertEvent): AuditEventInput {
  return {
    id: alert.id,
    time: alert.last_time,
    type: ALERT_RECORD_TYPE,
    action: alert.rule,
    outcome: 'success',
    severity: alert.severity,
    actor: { id: 'otel-audit', type: 'system' },
    target: { type: 'alert_rule', id: alert.rule },
    details: {
      description: alert.description,
      condition: alert.condition,
      group: alert.group,
      count: alert.count,
      window: alert.window,
      first_time: alert.first_time,
      last_time: alert.last_time,
      record_ids: alert.record_ids,
      omitted_record_ids: alert.omitted_record_ids,
    },
  };
}
