/**
 * The engine's own alert when a rule evicts groups (DESIGN §9 "a cap on
 * groups with an LRU and a metric when it evicts"). The cap bounds memory,
 * and it is also a way past a rule: ~10,000 junk actors or addresses inside
 * one window push a victim's partial count out, and the victim's next
 * attempts start over from zero. A metric alone is seen only by whoever
 * watches dashboards; the security team watches alerts. So the first
 * eviction of a rule raises `alert_groups_evicted` at once, and further
 * evictions at most once an hour (once per window when the rule's window is
 * longer), with the number evicted since the last one — a flood raises one
 * alert, and a service busier than its cap by design one an hour per rule
 * until `max_groups_per_rule` is raised, not one per record.
 */
import { createRecordId } from '@otel-audit/core';
import { ALERT_GROUPS_EVICTED, type AlertEvent } from '../alert-event.js';
import type { AlertableRecord } from '../field-path.js';
import type { RuleState } from './rule-state.js';

const MIN_REPORT_INTERVAL_MICROS = 3_600_000_000;

/**
 * The alert for `state`'s evictions not yet reported, when its interval
 * allows one at engine time `t` (µs); else undefined. The caller checks
 * first, cheaply, that `state.evicted` differs from `state.reportedEvictions`.
 *
 * @example
 * if (s.evicted !== s.reportedEvictions) { const a = evictionAlert(s, 10_000, record, now); if (a) alerts.push(a); }
 */
export function evictionAlert(state: RuleState, maxGroups: number, record: AlertableRecord, t: number): AlertEvent | undefined {
  if (t < state.nextEvictionReport) return undefined;
  const count = state.evicted - state.reportedEvictions;
  const first = state.reportedEvictions === 0 ? record.time : state.evictedSince;
  state.reportedEvictions = state.evicted;
  state.nextEvictionReport = t + interval(state);
  state.evictedSince = record.time;
  return eventOf(state, count, maxGroups, record, first, t);
}

function interval(state: RuleState): number {
  return Math.max(state.rule.windowMillis * 1000, MIN_REPORT_INTERVAL_MICROS);
}

function eventOf(state: RuleState, count: number, maxGroups: number, record: AlertableRecord, firstTime: string, t: number): AlertEvent {
  const rule = state.rule;
  const keyed = rule.groupBy.length === 0 ? 'group' : rule.groupBy.join(', ');
  return {
    id: createRecordId(Math.floor(t / 1000)),
    rule: ALERT_GROUPS_EVICTED,
    severity: 'warning',
    description: `Rule ${rule.name} held its maximum of ${maxGroups} groups (${keyed}) within its ${rule.window} window and evicted the least recently active: their counts started over, so activity spread over that many actors or addresses — or a flood of them sent to push a victim's count out — can stay below the rule's threshold. Look for a burst of distinct ${keyed} values; a service this busy by design raises processors.alerts.max_groups_per_rule.`,
    condition: `groups > ${maxGroups}`,
    group: { rule: rule.name },
    count,
    window: rule.window,
    window_ms: rule.windowMillis,
    first_time: firstTime,
    last_time: record.time,
    record_ids: [record.id],
    omitted_record_ids: 0,
    stream: record.stream,
  };
}
