/**
 * @otel-audit/processor — the audit LogRecordProcessor of otel-audit
 * (DESIGN §3, §4.5, §4.6, §5): selects audit records, redacts, sequences,
 * hash-chains, checkpoints and delivers them to sinks without losing one.
 */
export { AuditLogRecordProcessor } from './audit-log-record-processor.js';
export type { AuditLogRecordProcessorOptions, AuditProcessorWarning, OverflowPolicy } from './audit-log-record-processor-options.js';
export { InMemoryAuditSink } from './in-memory-audit-sink.js';
export type { CheckpointSource } from './internal/key-change.js';
export { LogRecordExporterSink } from './log-record-exporter-sink.js';
export type { LogRecordExporterSinkOptions } from './log-record-exporter-sink.js';
export { DEFAULT_REDACTION_PATTERNS, DEFAULT_REDACTION_WORDS, DEFAULT_REDACTION_WORD_PAIRS, REDACTION_MASK } from './redaction.js';
export type { RedactionOptions, RedactionMode } from './redaction.js';
export { AuditQueueFullError, AuditSinkError, AuditRecordRejectedError, AuditShutdownError } from './errors.js';
export {
  AUDIT_SCOPE_NAME,
  AUDIT_EVENT_PREFIX,
  AUDIT_CHECKPOINT_EVENT,
  ATTR_AUDIT_RECORD_ID,
  ATTR_AUDIT_TYPE,
  ATTR_AUDIT_ACTION,
  ATTR_AUDIT_OUTCOME,
  ATTR_AUDIT_SEVERITY,
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_ACTOR_TYPE,
  ATTR_AUDIT_TARGET_TYPE,
  ATTR_AUDIT_TARGET_ID,
  ATTR_AUDIT_TARGET_NAME,
  ATTR_AUDIT_SEQUENCE_NUMBER,
  ATTR_AUDIT_PREV_HASH,
  ATTR_AUDIT_RECORD_HASH,
  ATTR_AUDIT_STREAM,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_ALGORITHM,
  METRIC_RECORDS_SEALED,
  METRIC_RECORDS_COMMITTED,
  METRIC_RECORDS_DROPPED,
  METRIC_RECORDS_INVALID,
  METRIC_QUEUE_DEPTH,
  METRIC_BATCH_DURATION,
  METRIC_CHECKPOINTS,
  METRIC_SINK_ERRORS,
  METRIC_ALERTS_FIRED,
  METRIC_ALERT_GROUPS_EVICTED,
  METRIC_ALERT_NOTIFIER_FAILURES,
  ATTR_ALERT_RULE,
  ATTR_ALERT_OUTCOME,
  METRIC_ATTR_SINK,
  METRIC_ATTR_DROP_REASON,
} from './semconv.js';

// Alerts (DESIGN §9): rules engine, built-in rules, notifiers and the onSealed hook.
export { AlertEngine, DEFAULT_MAX_GROUPS_PER_RULE, DEFAULT_MAX_RECORD_IDS_PER_ALERT } from './alerts/alert-engine.js';
export type { AlertEngineOptions, AlertEngineStats, AlertRuleStats } from './alerts/alert-engine.js';
export { compileRules, MAX_ALERT_THRESHOLD, MAX_SEQUENCE_RECORDS, MAX_GROUP_BY_FIELDS, MAX_ALERT_RULES } from './alerts/alert-rule.js';
export type {
  AlertRuleConfig,
  AlertConditionConfig,
  SequenceStepConfig,
  AlertSeverity,
  CompiledAlertRule,
  CompiledCondition,
  CompileRulesOptions,
} from './alerts/alert-rule.js';
export type { MatchSpec, MatchConfig, FieldCondition, MatchOperators, MatchScalar, OutsideHoursConfig } from './alerts/record-matcher.js';
export { parseDuration } from './alerts/duration.js';
export { builtinAlertRules, BUILTIN_ALERT_RULE_NAMES, DEFAULT_FAILED_LOGINS } from './alerts/builtin-rules.js';
export type { BuiltinAlertOptions, BuiltinThresholdOptions } from './alerts/builtin-rules.js';
export { alertRecordEvent, ALERT_RECORD_TYPE, ALERT_GROUPS_EVICTED } from './alerts/alert-event.js';
export type { AlertEvent } from './alerts/alert-event.js';
export { createAlertHook, alertNotifyFailureEvent, ACTION_ALERT_NOTIFY_FAILED } from './alerts/alert-hook.js';
export type { AlertHookOptions } from './alerts/alert-hook.js';
export { AlertDispatcher } from './alerts/alert-dispatcher.js';
export { registerAlertMetrics } from './alerts/alert-metrics.js';
export type { AlertMetricsOptions } from './alerts/alert-metrics.js';
export type { AlertDispatcherOptions } from './alerts/alert-dispatcher.js';
export type { AlertNotifier } from './alerts/alert-notifier.js';
export { WebhookNotifier, signWebhookBody, verifyWebhookSignature, parseRetryAfter, WEBHOOK_SIGNATURE_HEADER } from './alerts/webhook-notifier.js';
export type { WebhookNotifierOptions } from './alerts/webhook-notifier.js';
export { ConsoleNotifier, formatAlertLine } from './alerts/console-notifier.js';
export type { ConsoleNotifierOptions } from './alerts/console-notifier.js';
export { CallbackNotifier } from './alerts/callback-notifier.js';
export { AlertConfigError, AlertNotifyError } from './alerts/errors.js';
export { DEFAULT_SHUTDOWN_TIMEOUT_MILLIS } from './internal/resolved-options.js';
