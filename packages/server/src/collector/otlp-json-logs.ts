/**
 * OTLP/JSON `ExportLogsServiceRequest` → the collector's {@link OtlpLog}
 * (DESIGN §4.6), following the OTLP JSON mapping: lowerCamelCase names,
 * 64-bit integers as decimal strings or numbers, bytes as base64 except
 * trace and span ids, which are hex. The same {@link OtlpLimits} as the
 * protobuf reader apply.
 */
import { DEFAULT_OTLP_LIMITS, LimitCounter, OtlpDecodeError, OtlpLimitError, type OtlpLimits, type OtlpLog, type OtlpValue } from './otlp-logs-request.js';

type Json = Record<string, unknown>;

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OtlpDecodeError(`${where} must be an object`);
  return v as Json;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${where} must be an array`);
  return v;
}

function anyValue(v: unknown, lim: LimitCounter, depth: number): OtlpValue {
  if (typeof v !== 'object' || v === null) return undefined;
  lim.depth(depth);
  const a = v as Json;
  if (typeof a.stringValue === 'string') return a.stringValue;
  if (typeof a.boolValue === 'boolean') return a.boolValue;
  if (a.intValue !== undefined) {
    const n = BigInt(String(a.intValue));
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (a.doubleValue !== undefined) return Number(a.doubleValue);
  if (a.arrayValue !== undefined) {
    const items = list((a.arrayValue as Json | null)?.values, 'arrayValue.values');
    lim.members(items.length, 'an array value');
    return items.map((item) => anyValue(item, lim, depth + 1));
  }
  if (a.kvlistValue !== undefined) return attributes((a.kvlistValue as Json | null)?.values, lim, depth + 1, 'a key-value list value');
  if (typeof a.bytesValue === 'string') return new Uint8Array(Buffer.from(a.bytesValue, 'base64'));
  return undefined;
}

/** A KeyValue list whose values sit at `depth`. */
function attributes(v: unknown, lim: LimitCounter, depth: number, where: string): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  const kvs = list(v, 'attributes');
  lim.members(kvs.length, where);
  for (const kv of kvs) {
    const { key, value } = obj(kv, 'attribute');
    // A key named like an Object.prototype member must stay data.
    if (typeof key === 'string') Object.defineProperty(out, key, { value: anyValue(value, lim, depth), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Decode an OTLP/JSON logs request (already parsed).
 *
 * @example
 * const logs = decodeJsonLogs(JSON.parse(body));
 */
export function decodeJsonLogs(request: unknown, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): OtlpLog[] {
  const lim = new LimitCounter(limits);
  const out: OtlpLog[] = [];
  try {
    for (const rl of list(obj(request, 'request').resourceLogs, 'resourceLogs')) {
      const r = obj(rl, 'resourceLogs[]');
      const resource = attributes((r.resource as Json | undefined)?.attributes, lim, 1, 'a resource');
      for (const sl of list(r.scopeLogs, 'scopeLogs')) {
        const s = obj(sl, 'scopeLogs[]');
        const scope = typeof (s.scope as Json | undefined)?.name === 'string' ? String((s.scope as Json).name) : '';
        const records = list(s.logRecords, 'logRecords');
        for (const lr of records) {
          lim.record();
          const l = obj(lr, 'logRecords[]');
          const log: OtlpLog = { scope, body: anyValue(l.body, lim, 1), attributes: attributes(l.attributes, lim, 1, 'a log record'), resource };
          if (l.timeUnixNano !== undefined) log.timeUnixNano = BigInt(String(l.timeUnixNano));
          if (typeof l.severityNumber === 'number') log.severityNumber = l.severityNumber;
          if (typeof l.severityText === 'string') log.severityText = l.severityText;
          if (typeof l.eventName === 'string') log.eventName = l.eventName;
          if (typeof l.traceId === 'string' && l.traceId !== '') log.traceId = l.traceId;
          if (typeof l.spanId === 'string' && l.spanId !== '') log.spanId = l.spanId;
          out.push(log);
        }
      }
    }
  } catch (e) {
    if (e instanceof OtlpDecodeError || e instanceof OtlpLimitError) throw e;
    throw new OtlpDecodeError(`not an OTLP logs request: ${(e as Error).message}`);
  }
  return out;
}
