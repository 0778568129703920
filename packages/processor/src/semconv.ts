/**
 * Every attribute key, event name, scope name and metric name the audit
 * processor reads or writes (DESIGN §4.6), in one place as OpenTelemetry
 * does. The producer convention (what a LogRecord must carry to be read as
 * an audit event) is documented in README.md §Producer convention.
 */

/** Instrumentation scope of audit LogRecords. */
export const AUDIT_SCOPE_NAME = 'otel-audit';
/** Event name prefix: `audit.<type>.<action>`. */
export const AUDIT_EVENT_PREFIX = 'audit.';
/** Event name of a checkpoint LogRecord (body = the note text). */
export const AUDIT_CHECKPOINT_EVENT = 'audit.checkpoint';

/** Record id (input and output). */
export const ATTR_AUDIT_RECORD_ID = 'audit.record.id';
/** Record type (input; output through the event name). */
export const ATTR_AUDIT_TYPE = 'audit.type';
export const ATTR_AUDIT_ACTION = 'audit.action';
export const ATTR_AUDIT_OUTCOME = 'audit.outcome';
/** Record severity as text (input only; output is the LogRecord severity). */
export const ATTR_AUDIT_SEVERITY = 'audit.severity';
export const ATTR_AUDIT_ACTOR_ID = 'audit.actor.id';
export const ATTR_AUDIT_ACTOR_TYPE = 'audit.actor.type';
export const ATTR_AUDIT_TARGET_TYPE = 'audit.target.type';
export const ATTR_AUDIT_TARGET_ID = 'audit.target.id';
/** Target name (input only). */
export const ATTR_AUDIT_TARGET_NAME = 'audit.target.name';
export const ATTR_AUDIT_SEQUENCE_NUMBER = 'audit.sequence.number';
export const ATTR_AUDIT_PREV_HASH = 'audit.prev.hash';
export const ATTR_AUDIT_RECORD_HASH = 'audit.record.hash';
export const ATTR_AUDIT_STREAM = 'audit.stream';
/** On checkpoint LogRecords: the tree size covered. */
export const ATTR_AUDIT_CHECKPOINT_SIZE = 'audit.checkpoint.size';
/** Resource attribute: the stream's hash algorithm. */
export const ATTR_AUDIT_INTEGRITY_ALGORITHM = 'audit.integrity.algorithm';

/** HTTP semantic-convention names, read as fallbacks and written from the sealed record. */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';
export const ATTR_ENDUSER_ID = 'enduser.id';

/** Resource attributes used for the default stream id. */
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/** Meter name of the processor's own metrics. */
export const METER_NAME = '@otel-audit/processor';
export const METRIC_RECORDS_SEALED = 'otel_audit.records.sealed';
export const METRIC_RECORDS_COMMITTED = 'otel_audit.records.committed';
export const METRIC_RECORDS_DROPPED = 'otel_audit.records.dropped';
export const METRIC_RECORDS_INVALID = 'otel_audit.records.invalid';
export const METRIC_QUEUE_DEPTH = 'otel_audit.queue.depth';
export const METRIC_BATCH_DURATION = 'otel_audit.batch.duration';
export const METRIC_CHECKPOINTS = 'otel_audit.checkpoints';
export const METRIC_SINK_ERRORS = 'otel_audit.sink.errors';
export const METRIC_ALERTS_FIRED = 'otel_audit.alerts.fired';
export const METRIC_ALERT_GROUPS_EVICTED = 'otel_audit.alerts.groups_evicted';
export const METRIC_ALERT_NOTIFIER_FAILURES = 'otel_audit.alerts.notifier_failures';
/** Metric attribute naming the alert rule. */
export const ATTR_ALERT_RULE = 'otel_audit.alert.rule';
/** Metric attribute of a notifier failure: `failed` or `dropped`. */
export const ATTR_ALERT_OUTCOME = 'otel_audit.alert.outcome';
/** Metric attribute naming the sink. */
export const METRIC_ATTR_SINK = 'otel_audit.sink';
/** Metric attribute of `records.dropped`: `queue_full` (lost from the chain) or `sink_failing` (one sink skipped them), as in the record's `details.reason`. */
export const METRIC_ATTR_DROP_REASON = 'otel_audit.drop.reason';

/** `system` records the pipeline writes into the chain itself. */
export const SYSTEM_TYPE = 'system';
export const ACTION_STREAM_STARTED = 'stream_started';
/**
 * Sealed at start into a stream whose writer process of this host ended
 * without stopping (a kill, a crash): its last records get a signed
 * checkpoint (details: pid, host, since, last_seq, adopted_by).
 */
export const ACTION_STREAM_ABANDONED = 'stream_abandoned';
export const ACTION_PIPELINE_STARTED = 'pipeline_started';
export const ACTION_PIPELINE_STOPPED = 'pipeline_stopped';
export const ACTION_RECORDS_DROPPED = 'records_dropped';
export const ACTION_RECORD_REJECTED = 'record_rejected';
/** The checkpoint signer key changed (details: old_key_ids, new_key_id, reason). */
export const ACTION_KEY_CHANGED = 'key_changed';
/** A spill file left by an earlier process was adopted and is replayed. */
export const ACTION_SPILL_REPLAYED = 'spill_replayed';
/** A spill file left by an earlier process could not be replayed (moved aside). */
export const ACTION_SPILL_NOT_REPLAYED = 'spill_not_replayed';
