/**
 * OTLP/JSON `ExportLogsServiceRequest` → the collector's {@link OtlpLog}
 * (DESIGN §4.6), following the OTLP JSON mapping: lowerCamelCase names,
 * 64-bit integers as decimal strings or numbers, bytes as base64 except
 * trace and span ids, which are hex.
 */
import { OtlpDecodeError, type OtlpLog, type OtlpValue } from './otlp-logs-request.js';

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

function anyValue(v: unknown): OtlpValue {
  if (typeof v !== 'object' || v === null) return undefined;
  const a = v as Json;
  if (typeof a.stringValue === 'string') return a.stringValue;
  if (typeof a.boolValue === 'boolean') return a.boolValue;
  if (a.intValue !== undefined) {
    const n = BigInt(String(a.intValue));
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (a.doubleValue !== undefined) return Number(a.doubleValue);
  if (a.arrayValue !== undefined) return list((a.arrayValue as Json | null)?.values, 'arrayValue.values').map(anyValue);
  if (a.kvlistValue !== undefined) return attributes((a.kvlistValue as Json | null)?.values);
  if (typeof a.bytesValue === 'string') return new Uint8Array(Buffer.from(a.bytesValue, 'base64'));
  return undefined;
}

function attributes(v: unknown): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  for (const kv of list(v, 'attributes')) {
    const { key, value } = obj(kv, 'attribute');
    if (typeof key === 'string') out[key] = anyValue(value);
  }
  return out;
}

/**
 * Decode an OTLP/JSON logs request (already parsed).
 *
 * @example
 * const logs = decodeJsonLogs(JSON.parse(body));
 */
export function decodeJsonLogs(request: unknown): OtlpLog[] {
  const out: OtlpLog[] = [];
  try {
    for (const rl of list(obj(request, 'request').resourceLogs, 'resourceLogs')) {
      const r = obj(rl, 'resourceLogs[]');
      const resource = attributes((r.resource as Json | undefined)?.attributes);
      for (const sl of list(r.scopeLogs, 'scopeLogs')) {
        const s = obj(sl, 'scopeLogs[]');
        const scope = typeof (s.scope as Json | undefined)?.name === 'string' ? String((s.scope as Json).name) : '';
        for (const lr of list(s.logRecords, 'logRecords')) {
          const l = obj(lr, 'logRecords[]');
          const log: OtlpLog = { scope, body: anyValue(l.body), attributes: attributes(l.attributes), resource };
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
    if (e instanceof OtlpDecodeError) throw e;
    throw new OtlpDecodeError(`not an OTLP logs request: ${(e as Error).message}`);
  }
  return out;
}
