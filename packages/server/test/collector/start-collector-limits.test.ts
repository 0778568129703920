/**
 * startCollector: input limits — gzip bombs, bodies over maxBodyBytes, too
 * many records or attributes, bodies nested too deep, and limit options that
 * are not positive integers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { decodeStatus } from './rpc-status.js';
import { cleanups, collector } from './start-collector-support.js';

/**
 * POST raw bytes; resolves with the status and, for a failure, the message
 * of its `google.rpc.Status` body, or with the socket error a client would see.
 */
function postRaw(c: RunningCollector, body: Buffer, headers: Record<string, string>): Promise<{ status: number; message?: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve(status < 400 ? { status } : { status, message: decodeStatus(res.headers['content-type'], Buffer.concat(chunks)).message });
      });
    });
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

/** `n` log records of another scope, each with `attributes` attributes and a body nested `depth` levels deep, in both OTLP encodings. */
function otlpRequest(n: number, attributes = 1, depth = 1): { json: Buffer; proto: Buffer } {
  let body: unknown = 'x';
  for (let i = 1; i < depth; i++) body = [body];
  const attrs = Object.fromEntries(Array.from({ length: attributes }, (_, i) => [`a${i}`, i]));
  const one: ReadableLogRecord = {
    hrTime: [1_700_000_000, 0], hrTimeObserved: [1_700_000_000, 0], body: body as never, attributes: attrs, droppedAttributesCount: 0,
    resource: resourceFromAttributes({ 'service.name': 'limits' }), instrumentationScope: { name: 'other-scope' },
  };
  const logs = Array.from({ length: n }, () => one);
  return { json: Buffer.from(JsonLogsSerializer.serializeRequest(logs)!), proto: Buffer.from(ProtobufLogsSerializer.serializeRequest(logs)!) };
}

/** One log record whose body is nested `depth` arrays deep — deeper than any recursive encoder's stack — built by hand. */
function deepRequest(depth: number): { json: Buffer; proto: Buffer } {
  const json = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"x"}${']}}'.repeat(depth)}}]}]}]}`;
  const varint = (n: number): number[] => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
    out.push(n);
    return out;
  };
  const field = (tag: number, size: number): number[] => [tag, ...varint(size)];
  // Inside out: AnyValue{ array_value(5) = ArrayValue{ values(1) = AnyValue } }.
  let size = 3;
  const prefixes: number[][] = [];
  for (let i = 0; i < depth; i++) {
    const array = 1 + varint(size).length + size;
    prefixes.push([...field(0x2a, array), ...field(0x0a, size)]);
    size = 1 + varint(array).length + array;
  }
  const value = Buffer.concat([...prefixes.reverse().map((p) => Buffer.from(p)), Buffer.from([0x0a, 0x01, 0x78])]);
  const record = Buffer.concat([Buffer.from(field(0x2a, value.length)), value]); // LogRecord.body (5)
  const scope = Buffer.concat([Buffer.from(field(0x12, record.length)), record]); // ScopeLogs.log_records (2)
  const resource = Buffer.concat([Buffer.from(field(0x12, scope.length)), scope]); // ResourceLogs.scope_logs (2)
  return { json: Buffer.from(json), proto: Buffer.concat([Buffer.from(field(0x0a, resource.length)), resource]) }; // request.resource_logs (1)
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('startCollector', () => {
  describe('input limits', () => {
    it('answers 413 to a gzip bomb without inflating it past maxBodyBytes', async () => {
      const c = await collector();
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
      expect(bomb.length).toBeLessThan(128 * 1024);
      const before = process.memoryUsage().arrayBuffers;
      const res = await postRaw(c, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(res).toMatchObject({ status: 413, message: expect.stringMatching(/larger than 8388608 bytes after gunzip/) });
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    });

    it('answers 413 (not a reset connection) to a body over maxBodyBytes, with or without Content-Length', async () => {
      const c = await collector({ maxBodyBytes: 1024 * 1024 });
      const small = otlpRequest(1).json;
      const padded = Buffer.concat([small, Buffer.alloc(3 * 1024 * 1024, 0x20)]);
      expect(await postRaw(c, padded, { 'content-type': 'application/json' })).toMatchObject({ status: 413, message: expect.stringMatching(/larger than 1048576 bytes/) });
      const res = await fetch(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob([padded]).stream(), duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      // The collector still serves.
      expect(await postRaw(c, small, { 'content-type': 'application/json' })).toMatchObject({ status: 200 });
    });

    it.each([
      ['too many records', () => otlpRequest(10_001), 413, /more than 10000 log records/],
      ['too many attributes on a record', () => otlpRequest(1, 257), 400, /more than 256 attributes/],
      ['a body nested too deep', () => otlpRequest(1, 1, 17), 400, /nested deeper than 16 levels/],
      ['a body nested deeper than a recursive decoder\'s stack', () => deepRequest(100_000), 400, /nested deeper than 16 levels/],
    ] as const)('answers %s with a clear message, in JSON and in protobuf', async (_what, make, status, message) => {
      const c = await collector();
      const { json, proto } = make();
      expect(await postRaw(c, json, { 'content-type': 'application/json' })).toMatchObject({ status, message: expect.stringMatching(message) });
      expect(await postRaw(c, proto, { 'content-type': 'application/x-protobuf' })).toMatchObject({ status, message: expect.stringMatching(message) });
      // At the limits, the same request is taken.
      const fits = _what === 'too many records' ? otlpRequest(10_000) : _what === 'too many attributes on a record' ? otlpRequest(1, 256) : otlpRequest(1, 1, 16);
      expect(await postRaw(c, fits.proto, { 'content-type': 'application/x-protobuf' })).toMatchObject({ status: 200 });
    });

    it('refuses limits that are not positive integers, naming the option', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      await expect(startCollector({ port: 0, dbPath: path.join(dir, 'never.db'), maxBodyBytes: 0 })).rejects.toThrow(/options.maxBodyBytes must be a positive integer/);
      await expect(startCollector({ port: 0, dbPath: path.join(dir, 'never.db'), maxValueDepth: 1.5 })).rejects.toThrow(/options.maxValueDepth must be a positive integer/);
      await expect(startCollector({ port: 0, dbPath: path.join(dir, 'never.db'), maxParkedRecords: 0 })).rejects.toThrow(/options.maxParkedRecords must be a positive integer; got 0; omit it for the default 10000/);
      expect(fs.existsSync(path.join(dir, 'never.db'))).toBe(false);
    });
  });
});
