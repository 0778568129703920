/**
 * How the outbox keeps a LogRecord on disk (DESIGN §4.6, §5): every part of
 * a `ReadableLogRecord` that an OTLP exporter sends — times, severity, body,
 * event name, attributes (bytes included), trace and span ids, the
 * instrumentation scope — as JSON text, and the resource as a separate
 * shared row so that thousands of records do not repeat it. Decoding gives
 * back records whose `resource` objects are shared per resource row,
 * because the OTLP serializer groups records by resource identity.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { AnyValue } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

type Resource = ReadableLogRecord['resource'];

/** The stored form of one record (without its resource). */
interface StoredLog {
  t: HrTime;
  o: HrTime;
  sn?: number;
  st?: string;
  b?: unknown;
  e?: string;
  a: Record<string, unknown>;
  d?: number;
  tr?: string;
  sp?: string;
  tf?: number;
  sc: { n: string; v?: string; u?: string };
}

/** Bytes inside attribute or body values are tagged, so JSON round-trips them. */
function encodeValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(encodeValue);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = encodeValue((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.$bytes === 'string' && Object.keys(o).length === 1) return new Uint8Array(Buffer.from(o.$bytes, 'base64'));
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = decodeValue(o[k]);
    return out;
  }
  return v;
}

/** JSON text of a record, without its resource. */
export function encodeLog(log: ReadableLogRecord): string {
  const s: StoredLog = { t: log.hrTime, o: log.hrTimeObserved, a: encodeValue(log.attributes ?? {}) as Record<string, unknown>, sc: { n: log.instrumentationScope.name } };
  if (log.severityNumber !== undefined) s.sn = log.severityNumber;
  if (log.severityText !== undefined) s.st = log.severityText;
  if (log.body !== undefined) s.b = encodeValue(log.body);
  if (log.eventName !== undefined) s.e = log.eventName;
  if (log.droppedAttributesCount) s.d = log.droppedAttributesCount;
  if (log.spanContext) {
    s.tr = log.spanContext.traceId;
    s.sp = log.spanContext.spanId;
    s.tf = log.spanContext.traceFlags;
  }
  if (log.instrumentationScope.version !== undefined) s.sc.v = log.instrumentationScope.version;
  if (log.instrumentationScope.schemaUrl !== undefined) s.sc.u = log.instrumentationScope.schemaUrl;
  return JSON.stringify(s);
}

/** JSON text of a resource: its attributes (synchronous ones) and schema URL. */
export function encodeResource(resource: Resource): string {
  return JSON.stringify({ a: encodeValue(resource.attributes ?? {}), u: resource.schemaUrl });
}

/** A resource object as the OTLP serializer reads it (`attributes`, `schemaUrl`). */
export function decodeResource(text: string): Resource {
  const parsed = JSON.parse(text) as { a: Attributes; u?: string } | null;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.a !== 'object' || parsed.a === null) throw new TypeError('not a stored resource (attributes missing)');
  const { a, u } = parsed;
  const attributes = decodeValue(a) as Attributes;
  const resource: Resource = {
    attributes,
    schemaUrl: u,
    asyncAttributesPending: false,
    waitForAsyncAttributes: () => Promise.resolve(),
    merge: () => resource,
    getRawAttributes: () => Object.entries(attributes),
  };
  return resource;
}

function isHrTime(v: unknown): v is HrTime {
  return Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]);
}

/**
 * Rebuild a record; `resource` is the shared object of its resource row.
 * Throws when `text` is not a stored record (a damaged row), so that it is
 * never handed to a serializer that would fail on it at every retry.
 */
export function decodeLog(text: string, resource: Resource): ReadableLogRecord {
  const s = JSON.parse(text) as StoredLog;
  if (typeof s !== 'object' || s === null || !isHrTime(s.t) || !isHrTime(s.o) || typeof s.a !== 'object' || s.a === null || Array.isArray(s.a)
    || typeof s.sc !== 'object' || s.sc === null || typeof s.sc.n !== 'string') {
    throw new TypeError('not a stored log record (times, attributes or scope missing)');
  }
  const log: ReadableLogRecord = {
    hrTime: s.t,
    hrTimeObserved: s.o,
    attributes: decodeValue(s.a) as Record<string, AnyValue>,
    droppedAttributesCount: s.d ?? 0,
    resource,
    instrumentationScope: { name: s.sc.n, ...(s.sc.v !== undefined ? { version: s.sc.v } : {}), ...(s.sc.u !== undefined ? { schemaUrl: s.sc.u } : {}) },
    ...(s.sn !== undefined ? { severityNumber: s.sn } : {}),
    ...(s.st !== undefined ? { severityText: s.st } : {}),
    ...(s.b !== undefined ? { body: decodeValue(s.b) as AnyValue } : {}),
    ...(s.e !== undefined ? { eventName: s.e } : {}),
    ...(s.tr !== undefined ? { spanContext: { traceId: s.tr, spanId: s.sp!, traceFlags: s.tf ?? 0 } } : {}),
  };
  return log;
}
