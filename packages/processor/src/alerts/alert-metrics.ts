/**
 * Metrics of the alert engine and its notifiers (DESIGN §9; issue 8 "a
 * metric when it evicts") through `@opentelemetry/api` metrics — no-op when
 * no MeterProvider is registered. Observable counters read the engine's and
 * the dispatcher's own counts at collection time, so nothing is added to
 * the per-record path: alerts fired and groups evicted per rule, notifier
 * deliveries failed or dropped.
 */
import { metrics, type BatchObservableCallback, type MeterProvider } from '@opentelemetry/api';
import {
  ATTR_ALERT_OUTCOME,
  ATTR_ALERT_RULE,
  METER_NAME,
  METRIC_ALERTS_FIRED,
  METRIC_ALERT_GROUPS_EVICTED,
  METRIC_ALERT_NOTIFIER_FAILURES,
} from '../semconv.js';
import type { AlertDispatcher } from './alert-dispatcher.js';
import type { AlertEngine } from './alert-engine.js';

/**
 * Options of {@link registerAlertMetrics}.
 *
 * @example
 * const options: AlertMetricsOptions = { engine, dispatcher, meterProvider };
 */
export interface AlertMetricsOptions {
  engine: AlertEngine;
  /** Its failed and dropped deliveries are counted too. */
  dispatcher?: AlertDispatcher;
  /** Default: the global MeterProvider. */
  meterProvider?: MeterProvider;
}

/**
 * Register the alert instruments; returns a function that unregisters them.
 *
 * @example
 * const stop = registerAlertMetrics({ engine, dispatcher });
 * // otel_audit.alerts.fired{otel_audit.alert.rule="failed_logins"} 3
 * stop();
 */
export function registerAlertMetrics(options: AlertMetricsOptions): () => void {
  if (typeof options !== 'object' || options === null || typeof options.engine?.stats !== 'function') throw new TypeError('options.engine must be an AlertEngine');
  const { engine, dispatcher } = options;
  const meter = (options.meterProvider ?? metrics).getMeter(METER_NAME);
  const fired = meter.createObservableCounter(METRIC_ALERTS_FIRED, { description: 'Alerts raised, per rule' });
  const evicted = meter.createObservableCounter(METRIC_ALERT_GROUPS_EVICTED, { description: 'Alert groups evicted (least recently used) because a rule held its maximum of groups' });
  const failures = meter.createObservableCounter(METRIC_ALERT_NOTIFIER_FAILURES, { description: 'Alert deliveries to notifiers that failed, or were dropped at the pending cap or after shutdown' });
  const attrs = new Map<string, { [ATTR_ALERT_RULE]: string }>();
  const ruleAttrs = (name: string) => {
    let a = attrs.get(name);
    if (a === undefined) attrs.set(name, (a = { [ATTR_ALERT_RULE]: name }));
    return a;
  };
  const failed = { [ATTR_ALERT_OUTCOME]: 'failed' };
  const dropped = { [ATTR_ALERT_OUTCOME]: 'dropped' };
  const callback: BatchObservableCallback = (result) => {
    for (const r of engine.stats().rules) {
      result.observe(fired, r.alerts, ruleAttrs(r.name));
      result.observe(evicted, r.evictedGroups, ruleAttrs(r.name));
    }
    if (dispatcher !== undefined) {
      const c = dispatcher.counts;
      result.observe(failures, c.failed, failed);
      result.observe(failures, c.dropped, dropped);
    }
  };
  meter.addBatchObservableCallback(callback, [fired, evicted, failures]);
  return () => meter.removeBatchObservableCallback(callback, [fired, evicted, failures]);
}
