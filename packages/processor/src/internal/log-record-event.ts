/**
 * The producer convention (README §Producer convention, DESIGN §4.6): how a
 * LogRecord of scope `otel-audit` becomes the event input of an audit record.
 * The body is the event object (members of §4.1); members it lacks are taken
 * from flat `audit.*` attributes, then from the HTTP semantic-convention
 * attributes; `time` defaults to the LogRecord's timestamp, `severity` to its
 * severity number, `id` to a fresh UUIDv7, and `request.trace_id`/`span_id`
 * to the LogRecord's own span context. The returned object is fresh at the
 * top level; nested values are still the producer's until normalised.
 */
import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { createRecordId, type AuditSeverity } from '@otel-audit/core';
import {
  ATTR_AUDIT_ACTION,
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_ACTOR_TYPE,
  ATTR_AUDIT_OUTCOME,
  ATTR_AUDIT_RECORD_ID,
  ATTR_AUDIT_SEVERITY,
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

/** OpenTelemetry severity numbers of the audit severities (§4.6). */
export const SEVERITY_NUMBERS: Readonly<Record<AuditSeverity, number>> = Object.freeze({ debug: 5, info: 9, warning: 13, error: 17, critical: 21 });

const BY_NUMBER: (AuditSeverity | undefined)[] = [
  undefined, 'debug', 'debug', 'debug', 'debug', 'debug', 'debug', 'debug', 'debug',
  'info', 'info', 'info', 'info', 'warning', 'warning', 'warning', 'warning',
  'error', 'error', 'error', 'error', 'critical', 'critical', 'critical', 'critical',
];

/** Unix nanoseconds of an HrTime as decimal digits, without BigInt. */
export function hrTimeToNanosText(t: HrTime): string {
  const s = t[0];
  const n = t[1];
  if (!(s > 0)) return String(n > 0 ? n : 0);
  const ns = String(n);
  return String(s) + '000000000'.slice(ns.length) + ns;
}

function attr(attributes: LogAttributes, key: string): AnyValue | undefined {
  const v = attributes[key];
  return v === null ? undefined : v;
}

function sub(given: unknown, attributes: LogAttributes, keys: readonly (readonly [string, string])[]): unknown {
  if (given !== undefined && given !== null) return given;
  let out: Record<string, AnyValue> | undefined;
  for (const [member, key] of keys) {
    const v = attr(attributes, key);
    if (v !== undefined) (out ??= {})[member] = v;
  }
  return out;
}

const ACTOR_ATTRS = [['id', ATTR_AUDIT_ACTOR_ID], ['type', ATTR_AUDIT_ACTOR_TYPE], ['ip', ATTR_CLIENT_ADDRESS], ['user_agent', ATTR_USER_AGENT_ORIGINAL]] as const;
const ENDUSER_ATTRS = [['id', ATTR_ENDUSER_ID], ['type', ATTR_AUDIT_ACTOR_TYPE], ['ip', ATTR_CLIENT_ADDRESS], ['user_agent', ATTR_USER_AGENT_ORIGINAL]] as const;
const TARGET_ATTRS = [['type', ATTR_AUDIT_TARGET_TYPE], ['id', ATTR_AUDIT_TARGET_ID], ['name', ATTR_AUDIT_TARGET_NAME]] as const;
const REQUEST_ATTRS = [['method', ATTR_HTTP_REQUEST_METHOD], ['endpoint', ATTR_URL_PATH]] as const;

/**
 * The event input of `logRecord` (see file comment). Reads each getter of
 * the live record once. May throw if the producer's body is hostile (a
 * throwing getter or proxy): the caller turns that into a rejected record.
 */
export function eventInputOf(logRecord: ReadWriteLogRecord): Record<string, unknown> {
  const body = logRecord.body;
  const attributes = logRecord.attributes;
  let e: Record<string, unknown>;
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    e = { ...(body as Record<string, unknown>) };
  } else {
    e = {};
    if (body !== undefined && body !== null) e.details = { message: body };
  }
  if (e.id === undefined) e.id = attr(attributes, ATTR_AUDIT_RECORD_ID) ?? createRecordId();
  if (e.time === undefined) e.time = hrTimeToNanosText(logRecord.hrTime);
  if (e.type === undefined) e.type = attr(attributes, ATTR_AUDIT_TYPE);
  if (e.action === undefined) e.action = attr(attributes, ATTR_AUDIT_ACTION);
  if (e.outcome === undefined) e.outcome = attr(attributes, ATTR_AUDIT_OUTCOME);
  if (e.severity === undefined) {
    const sn = logRecord.severityNumber;
    e.severity = attr(attributes, ATTR_AUDIT_SEVERITY) ?? (typeof sn === 'number' ? BY_NUMBER[sn] : undefined);
  }
  if (e.actor === undefined) e.actor = sub(undefined, attributes, attributes[ATTR_AUDIT_ACTOR_ID] !== undefined ? ACTOR_ATTRS : ENDUSER_ATTRS);
  if (e.target === undefined) e.target = sub(undefined, attributes, TARGET_ATTRS);
  const sc: SpanContext | undefined = logRecord.spanContext;
  let request = e.request;
  if (request === undefined) request = sub(undefined, attributes, REQUEST_ATTRS);
  if (sc !== undefined) {
    if (request === undefined || request === null) {
      request = { trace_id: sc.traceId, span_id: sc.spanId };
    } else if (typeof request === 'object' && !Array.isArray(request)) {
      const r = request as Record<string, unknown>;
      if (r.trace_id === undefined || r.span_id === undefined) request = { ...r, trace_id: r.trace_id ?? sc.traceId, span_id: r.span_id ?? sc.spanId };
    }
  }
  e.request = request;
  return e;
}
