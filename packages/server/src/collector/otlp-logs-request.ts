/**
 * The part of an OTLP `ExportLogsServiceRequest` the collector reads
 * (DESIGN §4.6), decoded from protobuf by a small hand-written wire-format
 * reader or from OTLP/JSON: per log record its scope name, time, severity,
 * event name, body, attributes (every AnyValue kind), trace and span ids,
 * and its resource's attributes. Unknown fields are skipped, as protobuf
 * requires; malformed input throws `OtlpDecodeError` (answered with 400).
 * The input is a stranger's: records per request, attributes per record
 * (and members of any list or map value) and the nesting of values are
 * capped by {@link OtlpLimits} — a request over them throws
 * `OtlpLimitError` (413 for too many records, 400 for the rest) before it
 * costs more memory or stack than its cap allows.
 */
import { AuditError } from '@otel-audit/core';

/** A decoded AnyValue: string, number (int64 outside the safe range as bigint), boolean, bytes, array or key-value object. */
export type OtlpValue = string | number | bigint | boolean | Uint8Array | OtlpValue[] | { [key: string]: OtlpValue } | undefined;

/** One log record with what surrounds it. */
export interface OtlpLog {
  scope: string;
  timeUnixNano?: bigint;
  severityNumber?: number;
  severityText?: string;
  eventName?: string;
  body: OtlpValue;
  attributes: Record<string, OtlpValue>;
  traceId?: string;
  spanId?: string;
  resource: Record<string, OtlpValue>;
}

/** The request body is not an OTLP logs request. */
export class OtlpDecodeError extends AuditError {
  constructor(message: string) {
    super('AUDIT_OTLP_MALFORMED', message);
    this.name = 'OtlpDecodeError';
  }
}

/**
 * What one request may hold.
 *
 * @example
 * const limits: OtlpLimits = { maxRecords: 2048, maxAttributes: 128, maxDepth: 8 };
 */
export interface OtlpLimits {
  /** Log records per request. */
  maxRecords: number;
  /** Attributes per log record or resource, and members of any array or key-value list value. */
  maxAttributes: number;
  /** Nesting of array and key-value list values (a flat attribute value is depth 1). */
  maxDepth: number;
}

/**
 * The collector's defaults: ample for the processor's batches (512 records,
 * about 20 flat attributes each) and for any OpenTelemetry SDK's default
 * attribute count limit (128).
 */
export const DEFAULT_OTLP_LIMITS: Readonly<OtlpLimits> = Object.freeze({ maxRecords: 10_000, maxAttributes: 256, maxDepth: 16 });

/**
 * A request over one of the collector's limits: code `AUDIT_OTLP_TOO_LARGE`
 * (413) when it holds too much (body size, records), `AUDIT_OTLP_LIMIT`
 * (400) when a value is shaped beyond the limits (too many attributes, too
 * deep); see the server's status table.
 *
 * @example
 * if (e instanceof OtlpLimitError) res.writeHead(statusOf(e.code)).end(e.message);
 */
export class OtlpLimitError extends AuditError {
  constructor(code: 'AUDIT_OTLP_TOO_LARGE' | 'AUDIT_OTLP_LIMIT', message: string) {
    super(code, message);
    this.name = 'OtlpLimitError';
  }
}

/** Counts against the limits while one request is decoded (shared by the JSON decoder). */
export class LimitCounter {
  #records = 0;
  constructor(readonly limits: OtlpLimits) {}

  /** One more log record. */
  record(): void {
    if (++this.#records > this.limits.maxRecords) {
      throw new OtlpLimitError('AUDIT_OTLP_TOO_LARGE', `the request holds more than ${this.limits.maxRecords} log records; send smaller batches (the exporter's batch size) or raise the collector's maxRecordsPerRequest (otel-audit collect --max-records)`);
    }
  }

  /** `n` attributes or members in one list, at `where`. */
  members(n: number, where: string): void {
    if (n > this.limits.maxAttributes) throw new OtlpLimitError('AUDIT_OTLP_LIMIT', `${where} has more than ${this.limits.maxAttributes} attributes or members (the collector's maxAttributesPerRecord)`);
  }

  /** A value nested `depth` levels deep. */
  depth(depth: number): void {
    if (depth > this.limits.maxDepth) throw new OtlpLimitError('AUDIT_OTLP_LIMIT', `an attribute or body value is nested deeper than ${this.limits.maxDepth} levels (the collector's maxValueDepth)`);
  }
}

class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new OtlpDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new OtlpDecodeError('varint longer than 64 bits');
    }
  }

  /** A varint that must fit a JS number (tags, lengths, enums). */
  small(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new OtlpDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (mul > 2 ** 49) throw new OtlpDecodeError('varint too large');
    }
    return result;
  }

  bytes(): Reader {
    const len = this.small();
    if (this.pos + len > this.end) throw new OtlpDecodeError('length-delimited field runs past its message');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  fixed64(): Buffer {
    if (this.pos + 8 > this.end) throw new OtlpDecodeError('truncated fixed64');
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return b;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new OtlpDecodeError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new OtlpDecodeError('field runs past its message');
  }

  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const key = this.small();
      yield [Math.floor(key / 8), key & 7];
    }
  }

  text(): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, this.end - this.pos).toString('utf8');
  }

  raw(): Uint8Array {
    return this.buf.subarray(this.pos, this.end);
  }
}

function str(r: Reader): string {
  const sub = r.bytes();
  return sub.text();
}

function anyValue(r: Reader, lim: LimitCounter, depth: number): OtlpValue {
  lim.depth(depth);
  let v: OtlpValue;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) v = str(r);
    else if (field === 2 && wire === 0) v = r.varint() !== 0n;
    else if (field === 3 && wire === 0) {
      const n = BigInt.asIntN(64, r.varint());
      v = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    } else if (field === 4 && wire === 1) v = r.fixed64().readDoubleLE(0);
    else if (field === 5 && wire === 2) {
      const sub = r.bytes();
      const list: OtlpValue[] = [];
      for (const [f, w] of sub.fields()) {
        if (f === 1 && w === 2) {
          lim.members(list.length + 1, 'an array value');
          list.push(anyValue(sub.bytes(), lim, depth + 1));
        } else sub.skip(w);
      }
      v = list;
    } else if (field === 6 && wire === 2) v = keyValues(r.bytes(), lim, depth + 1);
    else if (field === 7 && wire === 2) v = new Uint8Array(r.bytes().raw());
    else r.skip(wire);
  }
  return v;
}

function keyValues(r: Reader, lim: LimitCounter, depth: number): Record<string, OtlpValue> {
  const into: Record<string, OtlpValue> = {};
  let n = 0;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) {
      lim.members(++n, 'a key-value list value');
      keyValue(r.bytes(), into, lim, depth);
    } else r.skip(wire);
  }
  return into;
}

/** One KeyValue whose value sits at `depth`. */
function keyValue(r: Reader, into: Record<string, OtlpValue>, lim: LimitCounter, depth: number): void {
  let key = '';
  let value: OtlpValue;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) key = str(r);
    else if (field === 2 && wire === 2) value = anyValue(r.bytes(), lim, depth);
    else r.skip(wire);
  }
  // A key named like an Object.prototype member must stay data.
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}

function logRecord(r: Reader, scope: string, resource: Record<string, OtlpValue>, lim: LimitCounter): OtlpLog {
  const log: OtlpLog = { scope, body: undefined, attributes: {}, resource };
  let attributes = 0;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 1) log.timeUnixNano = r.fixed64().readBigUInt64LE(0);
    else if (field === 2 && wire === 0) log.severityNumber = r.small();
    else if (field === 3 && wire === 2) log.severityText = str(r);
    else if (field === 5 && wire === 2) log.body = anyValue(r.bytes(), lim, 1);
    else if (field === 6 && wire === 2) {
      lim.members(++attributes, 'a log record');
      keyValue(r.bytes(), log.attributes, lim, 1);
    }
    else if (field === 9 && wire === 2) log.traceId = Buffer.from(r.bytes().raw()).toString('hex');
    else if (field === 10 && wire === 2) log.spanId = Buffer.from(r.bytes().raw()).toString('hex');
    else if (field === 12 && wire === 2) log.eventName = str(r);
    else r.skip(wire);
  }
  return log;
}

/**
 * Decode a protobuf `ExportLogsServiceRequest`.
 *
 * @example
 * const logs = decodeProtobufLogs(ProtobufLogsSerializer.serializeRequest(records)!);
 */
export function decodeProtobufLogs(buf: Uint8Array, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): OtlpLog[] {
  const lim = new LimitCounter(limits);
  const out: OtlpLog[] = [];
  const req = new Reader(buf);
  for (const [field, wire] of req.fields()) {
    if (field !== 1 || wire !== 2) {
      req.skip(wire);
      continue;
    }
    const rl = req.bytes();
    let resource: Record<string, OtlpValue> = {};
    const scopes: Reader[] = [];
    for (const [f, w] of rl.fields()) {
      if (f === 1 && w === 2) {
        const res = rl.bytes();
        let n = 0;
        for (const [f2, w2] of res.fields()) {
          if (f2 === 1 && w2 === 2) {
            lim.members(++n, 'a resource');
            keyValue(res.bytes(), resource, lim, 1);
          } else res.skip(w2);
        }
      } else if (f === 2 && w === 2) scopes.push(rl.bytes());
      else rl.skip(w);
    }
    for (const sl of scopes) {
      let scope = '';
      const records: Reader[] = [];
      for (const [f, w] of sl.fields()) {
        if (f === 1 && w === 2) {
          const sc = sl.bytes();
          for (const [f2, w2] of sc.fields()) if (f2 === 1 && w2 === 2) scope = str(sc); else sc.skip(w2);
        } else if (f === 2 && w === 2) {
          lim.record();
          records.push(sl.bytes());
        } else sl.skip(w);
      }
      for (const lr of records) out.push(logRecord(lr, scope, resource, lim));
    }
    resource = {};
  }
  return out;
}
