import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditChain, Keyring, createRecordId, generateNoteKey, parseSignerKey, type AuditBatch, type SealedCheckpoint } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';

const KEYS = generateNoteKey('collector.test/audit');
const signer = parseSignerKey(KEYS.signerKey);
const T0 = 1_700_000_000_000_000_000n;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(options: { gapGraceMillis?: number; store?: SqliteAuditStore } = {}): Promise<RunningCollector & { file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
  const file = path.join(dir, 'central.db');
  const c = await startCollector({ port: 0, dbPath: file, verifierKeys: [KEYS.verifierKey], ...options });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => c.close());
  return Object.assign(c, { file });
}

/** `n` records of `chain` with a signed checkpoint after every `every`. */
function batchOf(chain: AuditChain, n: number, every = 5): AuditBatch & { checkpoints: SealedCheckpoint[] } {
  const records = [];
  const checkpoints: SealedCheckpoint[] = [];
  for (let i = 0; i < n; i++) {
    records.push(chain.append({ id: createRecordId(), time: T0 + BigInt(chain.size), type: 'crud', action: 'update', actor: { id: 'alice' }, details: { i: chain.size } }));
    if (chain.size % every === 0) {
      const t = T0 + BigInt(chain.size);
      checkpoints.push({ stream: chain.stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: t, note: chain.checkpoint(t, [signer]) });
    }
  }
  return { records, checkpoints };
}

/** The §4.6 LogRecords the processor's exporter sink makes of a batch. */
async function logsOf(batch: AuditBatch): Promise<ReadableLogRecord[]> {
  const mem = new InMemoryLogRecordExporter();
  await new LogRecordExporterSink({ exporter: mem }).append(batch);
  return mem.getFinishedLogRecords();
}

async function post(c: RunningCollector, logs: ReadableLogRecord[], as: 'json' | 'proto' = 'json', gzip = false): Promise<{ status: number; body: string; headers: Headers }> {
  const raw = (as === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(logs)!;
  const res = await fetch(`${c.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': as === 'json' ? 'application/json' : 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    body: gzip ? gzipSync(raw) : raw,
  });
  return { status: res.status, body: as === 'json' ? await res.text() : Buffer.from(await res.arrayBuffer()).toString('hex'), headers: res.headers };
}

const keyring = Keyring.from([KEYS.verifierKey]);

describe('startCollector', () => {
  it('stores what arrives as OTLP protobuf (gzip) and JSON; the central store verifies intact with its checkpoints', async () => {
    const c = await collector();
    const a = new AuditChain({ stream: 'svc-a/1' });
    const b = new AuditChain({ stream: 'svc-b/1' });
    expect((await post(c, await logsOf(batchOf(a, 10)), 'proto', true)).status).toBe(200);
    const json = await post(c, await logsOf(batchOf(b, 10)), 'json');
    expect(json).toMatchObject({ status: 200, body: '{}' });
    const report = await c.store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(report.records).toBe(20);
    expect(report.streams.map((s) => [s.stream, s.checkpoints.verified])).toEqual([['svc-a/1', 2], ['svc-b/1', 2]]);
    expect(c.findings()).toEqual([]);
  });

  it('takes records in any order and retries without a finding; stores each exactly once', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const first = await logsOf(batchOf(chain, 10));
    const second = await logsOf(batchOf(chain, 10));
    expect((await post(c, second)).status).toBe(200);
    expect(c.pending()).toBe(10);
    expect((await post(c, first.slice(5))).status).toBe(200);
    expect((await post(c, first)).status).toBe(200);
    expect((await post(c, [...second].reverse(), 'proto')).status).toBe(200);
    expect(c.pending()).toBe(0);
    const report = await c.store.verify({ keyring });
    expect(report).toMatchObject({ ok: true, records: 20 });
    expect(c.findings()).toEqual([]);
  });

  it('refuses an altered record (hash_mismatch, partial success) and reports a record it never got as seq_gap', async () => {
    const c = await collector({ gapGraceMillis: 100 });
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 10, 100));
    const altered = { ...logs[3]!, body: String(logs[3]!.body).replace('"alice"', '"mallory"') };
    const res = await post(c, [...logs.slice(0, 3), altered, ...logs.slice(4)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/does not hash/) } });
    await new Promise((r) => setTimeout(r, 400));
    const codes = c.findings().map((f) => [f.code, f.seq]);
    expect(codes).toEqual([['hash_mismatch', 3], ['seq_gap', 3]]);
    // The findings are audit records of the collector's own stream, too.
    const own = c.store.query({ eventType: 'system', limit: 10 }).records;
    expect(own.map((r) => r.record.action)).toEqual(['integrity_failure', 'integrity_failure']);
    expect(c.pending()).toBe(6);
    // The real record arrives late (a retry): the stream heals and verifies.
    expect((await post(c, [logs[3]!])).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')!.errors).toBe(0);
  });

  it('answers 409 and records a duplicate finding when a record id comes back with other content', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 3, 100));
    expect((await post(c, logs)).status).toBe(200);
    const forged = new AuditChain({ stream: 'svc/1' });
    const first = JSON.parse(String(logs[0]!.body)) as { id: string };
    const other = forged.append({ id: first.id, time: T0, type: 'crud', action: 'delete', actor: { id: 'mallory' } });
    const res = await post(c, await logsOf({ records: [other], checkpoints: [] }), 'proto');
    expect(res.status).toBe(409);
    expect(c.findings().map((f) => f.code)).toEqual(['duplicate']);
  });

  it('reports a checkpoint whose root differs from the stored records, and one signed by an unknown key', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 4, 100));
    const other = new AuditChain({ stream: 'svc/1' });
    batchOf(other, 4, 100);
    const wrongRoot = other.checkpoint(T0 + 9n, [signer]);
    const stranger = parseSignerKey(generateNoteKey('stranger.test/audit').signerKey);
    const unknown = chain.checkpoint(T0 + 9n, [stranger]);
    const cps = await logsOf({ records: [], checkpoints: [wrongRoot, unknown].map((note) => ({ stream: 'svc/1', size: 4, rootHash: '', timeUnixNano: T0 + 9n, note })) });
    expect((await post(c, [...logs, ...cps])).status).toBe(200);
    expect(c.findings().map((f) => f.code).sort()).toEqual(['root_mismatch', 'unknown_key']);
  });

  it('answers 503 with Retry-After when the store cannot be written, 400/404/415 for what is not an OTLP logs request', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
    const store = new SqliteAuditStore(path.join(dir, 'central.db'));
    const c = await startCollector({ port: 0, store });
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => c.close());
    const logs = await logsOf(batchOf(new AuditChain({ stream: 'svc/1' }), 2, 100));
    store.close();
    const res = await post(c, logs);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const bad = (body: string, type = 'application/json', p = '/v1/logs') => fetch(`${c.url}${p}`, { method: 'POST', headers: { 'content-type': type }, body }).then((r) => r.status);
    expect(await bad('{not json')).toBe(400);
    expect(await bad('\xff\xff\xff', 'application/x-protobuf')).toBe(400);
    expect(await bad('{}', 'text/plain')).toBe(415);
    expect(await bad('{}', 'application/json', '/v1/traces')).toBe(404);
  });
});
