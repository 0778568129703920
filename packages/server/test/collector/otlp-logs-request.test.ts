import { describe, expect, it } from 'vitest';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { decodeJsonLogs } from '../../src/collector/otlp-json-logs.js';
import { decodeProtobufLogs, OtlpDecodeError, OtlpLimitError } from '../../src/collector/otlp-logs-request.js';

const resource = resourceFromAttributes({ 'service.name': 'billing', 'audit.integrity.algorithm': 'sha256', 'host.cpus': 8 });

function log(body: ReadableLogRecord['body'], attributes: ReadableLogRecord['attributes'], scope = 'otel-audit'): ReadableLogRecord {
  return {
    hrTime: [1_700_000_000, 123_456_789], hrTimeObserved: [1_700_000_001, 0], severityNumber: 13, severityText: 'warning', body, eventName: 'audit.auth.login',
    attributes, droppedAttributesCount: 0, resource, instrumentationScope: { name: scope, version: '1.0.0' },
    spanContext: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
  };
}

const logs = [
  log('{"v":1}', { 'audit.record.hash': 'ab'.repeat(32), s: 'ünïcödé ✓', i: -42, big: 2 ** 40, b: true, d: 3.25, arr: ['x', 1, false], kv: { nested: { deep: 'y' } } as never, bytes: new Uint8Array([0, 1, 255]) }),
  log({ structured: ['body', 7] } as never, {}, 'other-scope'),
];

describe('OTLP logs request decoding', () => {
  it('decodes the stock protobuf and JSON encodings of the same records to the same values', () => {
    const fromProto = decodeProtobufLogs(ProtobufLogsSerializer.serializeRequest(logs)!);
    const fromJson = decodeJsonLogs(JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(logs)!).toString('utf8')));
    expect(fromProto).toEqual(fromJson);
    expect(fromProto[0]).toMatchObject({
      scope: 'otel-audit', body: '{"v":1}', eventName: 'audit.auth.login', severityNumber: 13, severityText: 'warning',
      timeUnixNano: 1_700_000_000_123_456_789n, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331',
      resource: { 'service.name': 'billing', 'audit.integrity.algorithm': 'sha256', 'host.cpus': 8 },
      attributes: { s: 'ünïcödé ✓', i: -42, big: 2 ** 40, b: true, d: 3.25, arr: ['x', 1, false], kv: { nested: { deep: 'y' } }, bytes: new Uint8Array([0, 1, 255]) },
    });
    expect(fromProto[1]).toMatchObject({ scope: 'other-scope', body: { structured: ['body', 7] } });
  });

  it.each([
    ['a truncated message', Uint8Array.from([0x0a, 0x10, 0x01])],
    ['a truncated varint', Uint8Array.from([0x0a, 0xff])],
    ['an unsupported wire type', Uint8Array.from([0x0b])],
    ['a length past the end', Uint8Array.from([0x0a, 0x05, 0x12, 0x10, 0x00])],
  ])('refuses %s with OtlpDecodeError', (_what, bytes) => {
    expect(() => decodeProtobufLogs(bytes)).toThrow(OtlpDecodeError);
  });

  it('refuses JSON that is not a logs request', () => {
    expect(() => decodeJsonLogs([])).toThrow(OtlpDecodeError);
    expect(() => decodeJsonLogs({ resourceLogs: {} })).toThrow(OtlpDecodeError);
    expect(() => decodeJsonLogs({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 'soon' }] }] }] })).toThrow(OtlpDecodeError);
    expect(decodeJsonLogs({})).toEqual([]);
  });

  it('keeps attribute keys named like Object.prototype members as data', () => {
    const hostile = [log('{}', { __proto__: 'polluted', constructor: 'c' } as never)];
    // A literal __proto__ member sets the prototype; define it as data, as a decoded request has it.
    Object.defineProperty(hostile[0]!.attributes, '__proto__', { value: 'polluted', enumerable: true });
    for (const decoded of [decodeProtobufLogs(ProtobufLogsSerializer.serializeRequest(hostile)!), decodeJsonLogs(JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(hostile)!).toString('utf8')))]) {
      expect(Object.getPrototypeOf(decoded[0]!.attributes)).toBe(Object.prototype);
      expect(Object.hasOwn(decoded[0]!.attributes, '__proto__')).toBe(true);
      expect(decoded[0]!.attributes['__proto__']).toBe('polluted');
    }
  });

  it('applies the limits it is given, naming the one exceeded', () => {
    const proto = ProtobufLogsSerializer.serializeRequest(logs)!;
    const json = JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(logs)!).toString('utf8'));
    const tight = { maxRecords: 1, maxAttributes: 100, maxDepth: 16 };
    for (const decode of [() => decodeProtobufLogs(proto, tight), () => decodeJsonLogs(json, tight)]) {
      expect(decode).toThrow(OtlpLimitError);
      expect(decode).toThrow(/more than 1 log records/);
    }
    const shallow = { maxRecords: 10, maxAttributes: 100, maxDepth: 2 }; // kv.nested.deep is at depth 3
    expect(() => decodeProtobufLogs(proto, shallow)).toThrow(/nested deeper than 2 levels/);
    expect(() => decodeJsonLogs(json, shallow)).toThrow(/nested deeper than 2 levels/);
    const few = { maxRecords: 10, maxAttributes: 4, maxDepth: 16 };
    expect(() => decodeProtobufLogs(proto, few)).toThrow(/a log record has more than 4 attributes/);
    expect(() => decodeJsonLogs(json, few)).toThrow(/a log record has more than 4 attributes/);
  });
});
