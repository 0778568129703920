/**
 * What the processor writes onto the outgoing LogRecord once a record is
 * sealed (DESIGN §4.6): event name `audit.<type>.<action>`, severity, the
 * canonical text as body (the exact hashed bytes), and the search
 * attributes — every attribute the producer convention reads is overwritten
 * from the sealed (redacted) record or removed, and every other attribute is
 * redacted at any depth (`attribute-redaction.ts`: matching member names
 * replaced, credentials inside strings masked), so downstream processors and
 * exporters never see an unredacted value.
 */
import { isValidSpanId, isValidTraceId, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import type { AnyValue, LogRecord } from '@opentelemetry/api-logs';
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { SealedRecord, SealedCheckpoint } from '@otel-audit/core';
import {
  AUDIT_CHECKPOINT_EVENT,
  AUDIT_EVENT_PREFIX,
  ATTR_AUDIT_ACTION,
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_ACTOR_TYPE,
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_OUTCOME,
  ATTR_AUDIT_PREV_HASH,
  ATTR_AUDIT_RECORD_HASH,
  ATTR_AUDIT_RECORD_ID,
  ATTR_AUDIT_SEQUENCE_NUMBER,
  ATTR_AUDIT_SEVERITY,
  ATTR_AUDIT_STREAM,
  ATTR_AUDIT_TARGET_ID,
  ATTR_AUDIT_TARGET_NAME,
  ATTR_AUDIT_TARGET_TYPE,
  ATTR_AUDIT_TYPE,
  ATTR_CLIENT_ADDRESS,
  ATTR_ENDUSER_ID,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_URL_PATH,
  ATTR_USER_AGENT_ORIGINAL,
} from '../semconv.js';
import { redactAttributes } from './attribute-redaction.js';
import { SEVERITY_NUMBERS } from './log-record-event.js';
import type { Redactor } from './redactor.js';

type Rec = SealedRecord['record'];

/** Attribute → value in the sealed record, for every attribute written or read. */
const FROM_RECORD: readonly (readonly [string, (r: Rec) => string | undefined])[] = [
  [ATTR_AUDIT_RECORD_ID, (r) => r.id],
  [ATTR_AUDIT_ACTION, (r) => r.action],
  [ATTR_AUDIT_OUTCOME, (r) => r.outcome],
  [ATTR_AUDIT_ACTOR_ID, (r) => r.actor?.id],
  [ATTR_AUDIT_ACTOR_TYPE, (r) => r.actor?.type],
  [ATTR_AUDIT_TARGET_TYPE, (r) => r.target?.type],
  [ATTR_AUDIT_TARGET_ID, (r) => r.target?.id],
  [ATTR_HTTP_REQUEST_METHOD, (r) => r.request?.method],
  [ATTR_URL_PATH, (r) => r.request?.endpoint],
  [ATTR_CLIENT_ADDRESS, (r) => r.actor?.ip],
  [ATTR_USER_AGENT_ORIGINAL, (r) => r.actor?.user_agent],
  [ATTR_ENDUSER_ID, (r) => r.actor?.id],
];
/** Input-only attributes: their content is in the body, event name and severity. */
const INPUT_ONLY = [ATTR_AUDIT_TYPE, ATTR_AUDIT_SEVERITY, ATTR_AUDIT_TARGET_NAME] as const;
const OWN = new Set<string>([...FROM_RECORD.map(([k]) => k), ...INPUT_ONLY, ATTR_AUDIT_SEQUENCE_NUMBER, ATTR_AUDIT_PREV_HASH, ATTR_AUDIT_RECORD_HASH, ATTR_AUDIT_STREAM]);

/** Rewrite the live record during onEmit (see file comment). */
export function writeSealed(logRecord: ReadWriteLogRecord, sealed: SealedRecord, redactor: Redactor): void {
  const r = sealed.record;
  const attributes = logRecord.attributes as Record<string, AnyValue>;
  // Producer attributes outside the convention: names at any depth, credentials in strings.
  // The convention attributes are overwritten or removed below, so they need no check.
  redactAttributes(attributes, redactor, OWN);
  for (const key of INPUT_ONLY) if (attributes[key] !== undefined) delete attributes[key];
  for (let i = 0; i < FROM_RECORD.length; i++) {
    const [key, get] = FROM_RECORD[i]!;
    const v = get(r);
    if (v !== undefined) logRecord.setAttribute(key, v);
    else if (attributes[key] !== undefined) delete attributes[key];
  }
  logRecord.setAttribute(ATTR_AUDIT_SEQUENCE_NUMBER, r.seq);
  logRecord.setAttribute(ATTR_AUDIT_PREV_HASH, r.prev);
  logRecord.setAttribute(ATTR_AUDIT_RECORD_HASH, sealed.hash);
  logRecord.setAttribute(ATTR_AUDIT_STREAM, r.stream);
  logRecord.setEventName(AUDIT_EVENT_PREFIX + r.type + '.' + r.action);
  logRecord.setSeverityNumber(SEVERITY_NUMBERS[r.severity]);
  logRecord.setSeverityText(r.severity);
  logRecord.setBody(sealed.canonical);
}

/** Only the redaction part, for a record that cannot be sealed yet (see `AuditLogRecordProcessor`). */
export function writePending(logRecord: ReadWriteLogRecord, redactor: Redactor, bodyText: string, eventName: string): void {
  // Nothing is overwritten here: every attribute, the convention's included, is the producer's.
  redactAttributes(logRecord.attributes as Record<string, AnyValue>, redactor);
  logRecord.setEventName(eventName);
  logRecord.setBody(bodyText);
}

/**
 * The trace context a sealed record names (`request.trace_id`/`span_id`),
 * for LogRecords built from the record alone (§4.6: trace and span ids are
 * the LogRecord's own); undefined unless both are valid ids. Sampling is not
 * recorded, so the flags are 0.
 */
export function spanContextOf(r: Rec): SpanContext | undefined {
  const traceId = r.request?.trace_id;
  const spanId = r.request?.span_id;
  if (traceId === undefined || spanId === undefined || !isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  return { traceId, spanId, traceFlags: TraceFlags.NONE };
}

/** A LogRecord (api-logs) carrying a sealed record, for records the processor writes itself and for sinks. */
export function logRecordOfSealed(sealed: SealedRecord): LogRecord {
  const r = sealed.record;
  const attributes: Record<string, AnyValue> = {};
  for (let i = 0; i < FROM_RECORD.length; i++) {
    const [key, get] = FROM_RECORD[i]!;
    const v = get(r);
    if (v !== undefined) attributes[key] = v;
  }
  attributes[ATTR_AUDIT_SEQUENCE_NUMBER] = r.seq;
  attributes[ATTR_AUDIT_PREV_HASH] = r.prev;
  attributes[ATTR_AUDIT_RECORD_HASH] = sealed.hash;
  attributes[ATTR_AUDIT_STREAM] = r.stream;
  // r.time is canonical (decimal digits, no sign or leading zeros): split it as text, not through a BigInt.
  const t = r.time;
  const cut = t.length - 9;
  const sc = spanContextOf(r);
  return {
    timestamp: cut > 0 ? [Number(t.slice(0, cut)), Number(t.slice(cut))] : [0, Number(t)],
    eventName: AUDIT_EVENT_PREFIX + r.type + '.' + r.action,
    severityNumber: SEVERITY_NUMBERS[r.severity],
    severityText: r.severity,
    body: sealed.canonical,
    attributes,
    ...(sc !== undefined ? { context: trace.setSpanContext(ROOT_CONTEXT, sc) } : {}),
  };
}

/** A LogRecord (api-logs) carrying a checkpoint note (§4.3: event `audit.checkpoint`, body = note). */
export function logRecordOfCheckpoint(cp: SealedCheckpoint): LogRecord {
  return {
    timestamp: [Number(cp.timeUnixNano / 1_000_000_000n), Number(cp.timeUnixNano % 1_000_000_000n)],
    eventName: AUDIT_CHECKPOINT_EVENT,
    severityNumber: SEVERITY_NUMBERS.info,
    severityText: 'info',
    body: cp.note,
    attributes: { [ATTR_AUDIT_STREAM]: cp.stream, [ATTR_AUDIT_CHECKPOINT_SIZE]: cp.size },
  };
}
