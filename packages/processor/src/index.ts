/**
 * @otel-audit/processor — the audit LogRecordProcessor of otel-audit
 * (DESIGN §3, §4.5, §4.6, §5): selects audit records, redacts, sequences,
 * hash-chains, checkpoints and delivers them to sinks without losing one.
 */
export { AuditLogRecordProcessor } from './audit-log-record-processor.js';
export type { AuditLogRecordProcessorOptions, OverflowPolicy } from './audit-log-record-processor-options.js';
export { InMemoryAuditSink } from './in-memory-audit-sink.js';
export { LogRecordExporterSink } from './log-record-exporter-sink.js';
export type { LogRecordExporterSinkOptions } from './log-record-exporter-sink.js';
export { DEFAULT_REDACTION_PATTERNS, REDACTION_MASK } from './redaction.js';
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
} from './semconv.js';
