/**
 * The sinks and the alert hook of the pipeline, built from the resolved
 * configuration (DESIGN §3, §5, §6, §9): exporters in pipeline order (the
 * first is the primary: receipts and the stream head), the SQLite store when
 * `sqlite` is used, the OTLP sink from `otlp-sink.ts`, and the processor's
 * `onSealed` hook running the built-in and configured alert rules with
 * their notifiers.
 */
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import type { Resource } from '@opentelemetry/resources';
import type { AuditSink } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import {
  AlertConfigError,
  AlertDispatcher,
  AlertEngine,
  ConsoleNotifier,
  WebhookNotifier,
  alertNotifyFailureEvent,
  builtinAlertRules,
  createAlertHook,
  registerAlertMetrics,
  type AlertNotifier,
  type AuditLogRecordProcessorOptions,
} from '@otel-audit/processor';
import type { AlertsProcessorConfig, AuditConfig, OtlpHttpExporterConfig, SqliteExporterConfig } from '../config-types.js';
import { ConfigError } from '../errors.js';
import { createOtlpSink } from '../otlp-sink.js';
import { builtinOptions, durationMillis } from './options-mapping.js';
import type { ResolvedPipeline } from './pipeline.js';
import { resolvePath, type ResolvedSecrets } from './secrets.js';

/**
 * The sinks of the pipeline and the store among them.
 *
 * @example
 * const { sinks, store }: BuiltSinks = buildSinks(config, pipeline, secrets, resource);
 */
export interface BuiltSinks {
  sinks: AuditSink[];
  store: SqliteAuditStore | undefined;
}

/**
 * Open every exporter of the pipeline, in order. On a failure the sinks
 * opened so far are closed again.
 *
 * @example
 * const { sinks, store } = buildSinks(config, pipeline, secrets, resource);
 */
export function buildSinks(config: AuditConfig, pipeline: ResolvedPipeline, secrets: ResolvedSecrets, resource: Resource, onWarning?: (message: string) => void): BuiltSinks {
  const sinks: AuditSink[] = [];
  let store: SqliteAuditStore | undefined;
  try {
    for (const c of pipeline.exporters) {
      if (c.type === 'sqlite') {
        const s = c.config as SqliteExporterConfig;
        const opened = new SqliteAuditStore(resolvePath(config, s.path), {
          ...(s.synchronous !== undefined ? { synchronous: s.synchronous } : {}),
          ...(s.busy_timeout !== undefined ? { busyTimeoutMillis: durationMillis(s.busy_timeout)! } : {}),
          ...(secrets.encryption.has(c.key) ? { encryption: secrets.encryption.get(c.key)! } : {}),
        });
        store ??= opened;
        sinks.push(opened);
      } else if (c.type === 'otlphttp') {
        sinks.push(createOtlpSink(c.config as OtlpHttpExporterConfig, { resource, config, key: c.key, ...(onWarning !== undefined ? { onWarning } : {}) }));
      }
    }
  } catch (e) {
    for (const s of sinks) void s.shutdown?.().catch(() => undefined);
    throw e;
  }
  return { sinks, store };
}

/** The notifier's own option names, as the YAML writes them. */
const YAML_KEYS: Readonly<Record<string, string>> = { allowedUrls: 'allowed_urls', secret: 'secret_file', timeoutMillis: 'timeout', maxAttempts: 'max_attempts' };

/** `build()`, with an AlertConfigError restated as a ConfigError at `path` in the YAML's names. */
function inConfigTerms<T>(path: string, source: string | undefined, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof AlertConfigError)) throw e;
    const key = e.path.replace(/^[A-Za-z]+/, (k) => YAML_KEYS[k] ?? k);
    const fix = e.fix.replace(/allowedUrls/g, 'allowed_urls');
    throw new ConfigError([{ path: `${path}.${key}`, value: e.value, message: e.problem, fix }], source);
  }
}

/**
 * The alert hook and its dispatcher (undefined when alerts are off or not in the pipeline).
 *
 * @example
 * const alerts = buildAlerts({ builtins: { failed_logins: 3 } }, secrets, () => logs.getLogger('otel-audit'));
 */
export function buildAlerts(
  alerts: AlertsProcessorConfig | undefined,
  secrets: ResolvedSecrets,
  logger: () => Logger,
  source?: string,
): { onSealed: AuditLogRecordProcessorOptions['onSealed']; dispatcher: AlertDispatcher | undefined; stopMetrics: () => void } | undefined {
  if (alerts === undefined || alerts.enabled === false) return undefined;
  const engine = new AlertEngine({
    rules: [...builtinAlertRules(builtinOptions(alerts)), ...(alerts.rules ?? [])],
    ...(alerts.max_clock_skew !== undefined ? { maxClockSkewMillis: durationMillis(alerts.max_clock_skew)! } : {}),
    ...(alerts.max_groups_per_rule !== undefined ? { maxGroupsPerRule: alerts.max_groups_per_rule } : {}),
  });
  const notifiers: AlertNotifier[] = (alerts.notifiers ?? []).map((n, i) =>
    n.type === 'webhook'
      ? inConfigTerms(`processors.alerts.notifiers[${i}]`, source, () => new WebhookNotifier({
          url: n.url,
          allowedUrls: n.allowed_urls ?? [n.url],
          secret: secrets.webhookSecrets.get(i)!,
          ...(n.timeout !== undefined ? { timeoutMillis: durationMillis(n.timeout)! } : {}),
          ...(n.max_attempts !== undefined ? { maxAttempts: n.max_attempts } : {}),
        }))
      : new ConsoleNotifier({ ...(n.output !== undefined ? { output: n.output } : {}), ...(n.format !== undefined ? { format: n.format } : {}) }),
  );
  const dispatcher = notifiers.length > 0 ? new AlertDispatcher({ notifiers, onError: (e) => logger().emit({ body: alertNotifyFailureEvent(e) as never, context: ROOT_CONTEXT }) }) : undefined;
  const withDispatcher = dispatcher !== undefined ? { dispatcher } : {};
  // otel_audit.alerts.fired / groups_evicted / notifier_failures on the global MeterProvider.
  const stopMetrics = registerAlertMetrics({ engine, ...withDispatcher });
  return { onSealed: createAlertHook({ engine, ...withDispatcher }) as AuditLogRecordProcessorOptions['onSealed'], dispatcher, stopMetrics };
}

/** True when `promise` settles within `millis`; the timer never holds the process open. */
async function settlesWithin(promise: Promise<unknown>, millis: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), Math.max(0, millis));
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Let pending alert notifications finish within `budgetMillis` (the
 * pipeline's shutdown timeout), so that a webhook retrying after a long
 * `Retry-After` cannot hold back the final checkpoint: half of it to
 * deliver, then the notifiers stop retrying, with the rest of the budget as
 * the dispatcher's own shutdown timeout — each delivery given up (by the
 * notifier, or abandoned by the dispatcher at that timeout because the
 * receiver never answered) is sealed as a `system/alert_notify_failed`
 * record while the pipeline still runs. A notification given up is said on
 * `print`: it is no audit record lost, the alert record is in the chain.
 *
 * @example
 * await stopAlertDelivery(alerts.dispatcher, 30_000, (line) => process.stderr.write(`${line}\n`));
 */
export async function stopAlertDelivery(dispatcher: AlertDispatcher, budgetMillis: number, print: (line: string) => void): Promise<void> {
  // Monotonic: a wall-clock step during shutdown must neither stretch nor cut the budget.
  const started = performance.now();
  if (await settlesWithin(dispatcher.flush(), budgetMillis / 2)) return;
  // Counted from the dispatcher's failures, not from what was pending then: some are delivered in the second half.
  const { failed, dropped } = dispatcher.counts;
  // Bounded by the dispatcher: what is still pending at the end of the budget is abandoned and reported to onError.
  await dispatcher.shutdown({ timeoutMillis: Math.max(0, budgetMillis - (performance.now() - started)) });
  const after = dispatcher.counts;
  const givenUp = after.failed - failed + (after.dropped - dropped);
  if (givenUp === 0) return;
  const n = (k: number) => `${k} alert notification${k === 1 ? '' : 's'}`;
  print(`otel-audit: ${n(givenUp)} not delivered within the shutdown timeout (${budgetMillis} ms, processors.chain.delivery.shutdown_timeout) given up, recorded as system/alert_notify_failed; `
    + 'the alerts themselves are in the audit chain (type alert); fix: check the webhook receiver, or raise delivery.shutdown_timeout');
}
