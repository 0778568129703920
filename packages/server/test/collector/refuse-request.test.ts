/**
 * The collector's failed answers (OTLP/HTTP "Failures"): every 4xx and 5xx
 * carries a `google.rpc.Status` whose message explains it, encoded as the
 * request was (protobuf or JSON; JSON when the request's content type is
 * neither), with `Retry-After`, `Allow` and `Connection: close` kept. Each
 * answer is read by a decoder written apart from the collector's encoder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditChain, createRecordId, type AuditBatch } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../src/collector/index.js';
import { decodeJsonStatus, decodeProtobufStatus, decodeStatus } from './rpc-status.js';

const T0 = 1_700_000_000_000_000_000n;
const JSON_TYPE = 'application/json';
const PROTO_TYPE = 'application/x-protobuf';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function collector(options: Omit<CollectorOptions, 'port' | 'dbPath'> = {}): Promise<RunningCollector> {
  const c = await startCollector({ port: 0, dbPath: path.join(tempDir(), 'central.db'), ...options });
  cleanups.push(() => c.close());
  return c;
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: Buffer }

/** One request on loopback, as an OTLP client sends it. */
function call(c: RunningCollector, init: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Answer> {
  const body = init.body ?? Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const req = request(`${c.url}${init.path ?? '/v1/logs'}`, { method: init.method ?? 'POST', headers: { 'content-length': String(body.length), ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The §4.6 log records of `n` records of a new stream `stream`. */
async function logsOf(stream: string, n: number, actor = 'alice', ids?: string[]): Promise<ReadableLogRecord[]> {
  const chain = new AuditChain({ stream });
  const records = Array.from({ length: n }, (_, i) => chain.append({ id: ids?.[i] ?? createRecordId(), time: T0 + BigInt(i), type: 'crud', action: 'update', actor: { id: actor } }));
  const batch: AuditBatch = { records, checkpoints: [] };
  const mem = new InMemoryLogRecordExporter();
  await new LogRecordExporterSink({ exporter: mem }).append(batch);
  return mem.getFinishedLogRecords();
}

function encode(as: 'json' | 'proto', logs: ReadableLogRecord[]): Buffer {
  return Buffer.from((as === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(logs)!);
}

describe.each([
  ['json', JSON_TYPE, decodeJsonStatus],
  ['proto', PROTO_TYPE, decodeProtobufStatus],
] as const)('a failed %s request', (as, type, decode) => {
  it('is answered 400 with a Status in its own encoding (INVALID_ARGUMENT, the decoder\'s explanation)', async () => {
    const c = await collector();
    const res = await call(c, { headers: { 'content-type': type }, body: as === 'json' ? Buffer.from('{not json') : Buffer.from([0xff, 0xff, 0xff]) });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe(type);
    const status = decode(res.body);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(as === 'json' ? /in JSON at position 1/ : /^truncated varint$/);
  });

  it('is answered 413 with the limit and the flag to raise it, word for word, and Connection: close (RESOURCE_EXHAUSTED)', async () => {
    const c = await collector({ maxBodyBytes: 1024 });
    const res = await call(c, { headers: { 'content-type': type }, body: Buffer.alloc(4096, 0x20) });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers.connection).toBe('close');
    expect(decode(res.body)).toEqual({
      code: 8,
      message: "the request body is larger than 1024 bytes on the wire; send smaller batches (the exporter's batch size) or raise the collector's maxBodyBytes (otel-audit collect --max-body-mib)",
    });
  });

  it('is answered 404 for another path and 405 (with Allow) for another method (NOT_FOUND, UNIMPLEMENTED)', async () => {
    const c = await collector();
    const notFound = await call(c, { path: '/v1/traces', headers: { 'content-type': type }, body: Buffer.from('{}') });
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-type']).toBe(type);
    expect(decode(notFound.body)).toEqual({ code: 5, message: 'only POST /v1/logs is served' });
    const wrongMethod = await call(c, { method: 'PUT', headers: { 'content-type': type }, body: Buffer.from('{}') });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(decode(wrongMethod.body)).toEqual({ code: 12, message: 'only POST /v1/logs is served' });
  });

  it('is answered 409 with the conflict in a Status, not a partialSuccess (ALREADY_EXISTS)', async () => {
    const c = await collector();
    const logs = await logsOf('svc/1', 2);
    expect((await call(c, { headers: { 'content-type': type }, body: encode(as, logs) })).status).toBe(200);
    const id = (JSON.parse(String(logs[0]!.body)) as { id: string }).id;
    const other = await logsOf('svc/1', 1, 'mallory', [id]);
    const res = await call(c, { headers: { 'content-type': type }, body: encode(as, other) });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toBe(type);
    const status = decode(res.body);
    expect(status.code).toBe(6);
    expect(status.message).toMatch(new RegExp(`^1 audit record\\(s\\) refused: record id ${id} arrived again with different content`));
  });

  it('is answered 503 with Retry-After when the store cannot be written (UNAVAILABLE)', async () => {
    const store = new SqliteAuditStore(path.join(tempDir(), 'central.db'));
    const c = await startCollector({ port: 0, store });
    cleanups.push(() => c.close());
    store.close();
    const res = await call(c, { headers: { 'content-type': type }, body: encode(as, await logsOf('svc/1', 2)) });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toBe(type);
    const status = decode(res.body);
    expect(status.code).toBe(14);
    expect(status.message).toMatch(/^the audit store cannot be written now: /);
  });
});

describe('a failed request whose content type is neither OTLP encoding', () => {
  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['none', {}],
  ] as const)('is answered 415 with a JSON Status (content type %s)', async (_what, headers) => {
    const c = await collector();
    const res = await call(c, { headers, body: Buffer.from('{}') });
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(decodeStatus(res.headers['content-type'], res.body)).toEqual({ code: 3, message: 'content-type must be application/json or application/x-protobuf' });
  });

  it('is answered 404 with a JSON Status', async () => {
    const c = await collector();
    const res = await call(c, { method: 'GET', path: '/' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(decodeJsonStatus(res.body)).toEqual({ code: 5, message: 'only POST /v1/logs is served' });
  });
});
