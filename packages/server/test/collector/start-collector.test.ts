import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AuditChain, Keyring, canonicalize, createRecordId, generateNoteKey, genesisPrev, leafHash, parseSignerKey, signCheckpoint, type AuditBatch, type SealedCheckpoint,
} from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { hashToken } from '../../src/auth.js';
import { startCollector, type CollectorOptions, type RunningCollector } from '../../src/collector/index.js';
import { decodeStatus } from './rpc-status.js';

const KEYS = generateNoteKey('collector.test/audit');
const signer = parseSignerKey(KEYS.signerKey);
const T0 = 1_700_000_000_000_000_000n;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function collector(options: Omit<CollectorOptions, 'port' | 'dbPath'> = {}, prepare?: (file: string) => void): Promise<RunningCollector & { file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-collector-'));
  const file = path.join(dir, 'central.db');
  prepare?.(file);
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

async function post(c: RunningCollector, logs: ReadableLogRecord[], as: 'json' | 'proto' = 'json', gzip = false, extra: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const raw = (as === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(logs)!;
  const res = await fetch(`${c.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': as === 'json' ? 'application/json' : 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...extra },
    body: gzip ? gzipSync(raw) : raw,
  });
  return { status: res.status, body: as === 'json' ? await res.text() : Buffer.from(await res.arrayBuffer()).toString('hex'), headers: res.headers };
}

const keyring = Keyring.from([KEYS.verifierKey]);

/**
 * `record` as a sender would put it on the wire: body its canonical text,
 * `audit.record.hash` its own hash — self-consistent, whatever it holds.
 */
function selfConsistentLog(template: ReadableLogRecord, record: Record<string, unknown>): ReadableLogRecord {
  const body = canonicalize(record);
  return { ...template, body, attributes: { ...template.attributes, 'audit.record.hash': leafHash('sha256', body).toString('hex') } };
}

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

  it('with senderTokens, stores only what a sender holding a token sends; others get 401 and nothing is written', async () => {
    const token = 'sender-token-Zq8-0123456789abcdef';
    const c = await collector({ senderTokens: [hashToken(token)] });
    const chain = new AuditChain({ stream: 'svc/auth' });
    const logs = await logsOf(batchOf(chain, 4));
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }, { authorization: `Bearer ${token}x` }]) {
      const refused = await post(c, logs, 'json', false, headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect(refused.body).not.toContain(token);
    }
    const store = new SqliteAuditStore(c.file, { readOnly: true });
    cleanups.push(() => store.close());
    expect(store.query({ stream: 'svc/auth' }).records).toHaveLength(0);
    expect((await post(c, logs, 'proto', true, { authorization: `bearer ${token}` })).status).toBe(200);
    expect(store.query({ stream: 'svc/auth' }).records).toHaveLength(4);
    await expect(startCollector({ port: 0, dbPath: path.join(os.tmpdir(), 'never.db'), senderTokens: [token] })).rejects.toThrow('options.senderTokens[0] must be the 64 lowercase hex digits of hashToken(token), not the token itself');
    expect(fs.existsSync(path.join(os.tmpdir(), 'never.db'))).toBe(false);
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

  it('commits each finding record with a signed checkpoint of its own stream when given signerKey, so verifying with both keys needs no exception', async () => {
    const own = generateNoteKey('collector.test/findings');
    for (const signerKey of [own.signerKey, undefined]) {
      const c = await collector({ ...(signerKey !== undefined ? { signerKey } : {}), stream: 'collector/test' });
      const chain = new AuditChain({ stream: 'svc/1' });
      const logs = await logsOf(batchOf(chain, 5, 5));
      const altered = { ...logs[1]!, body: String(logs[1]!.body).replace('"alice"', '"mallory"') };
      expect((await post(c, [logs[0]!, altered])).status).toBe(200);
      expect((await post(c, [logs[1]!])).status).toBe(200); // the genuine record: svc/1 heals
      const report = await c.store.verify({ keyring: Keyring.from([KEYS.verifierKey, own.verifierKey]) });
      const mine = report.streams.find((s) => s.stream === 'collector/test')!;
      expect(mine.errors, JSON.stringify(mine.findings)).toBe(0);
      expect(mine.records).toBe(1);
      // Without a key the stream has no checkpoint (an unsigned one would be an error to a verifier given keys).
      expect(mine.checkpoints.verified).toBe(signerKey !== undefined ? 1 : 0);
      expect(mine.findings.map((f) => f.code)).toEqual(signerKey !== undefined ? [] : ['unsigned_tail']);
    }
    await expect(startCollector({ port: 0, dbPath: path.join(os.tmpdir(), 'never-created.db'), signerKey: own.verifierKey })).rejects.toThrow(/PRIVATE\+KEY/);
    expect(fs.existsSync(path.join(os.tmpdir(), 'never-created.db'))).toBe(false);
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

  it('refuses a self-consistent record that is not a valid audit record on its own (partial success) and stores the rest of the request', async () => {
    const c = await collector();
    const good = new AuditChain({ stream: 'svc-a/1' });
    const logs = await logsOf(batchOf(good, 5, 100));
    // Hashes to its audit.record.hash and is canonical, but time is "soon" and type is missing.
    const bad = { v: 1, alg: 'sha256', stream: 'svc-b/1', seq: 0, prev: genesisPrev('sha256'), id: createRecordId(), time: 'soon', action: 'update', outcome: 'success', severity: 'info' };
    for (const as of ['json', 'proto'] as const) {
      const res = await post(c, [...logs.slice(0, 2), selfConsistentLog(logs[0]!, bad), ...logs.slice(2)], as);
      expect(res.status).toBe(200);
      if (as === 'json') expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/not a valid audit record: \/time/) } });
    }
    expect(c.store.query({ stream: 'svc-a/1', since: '2000-01-01T00:00:00Z', limit: 100 }).records).toHaveLength(5);
    expect(c.store.streams().map((s) => s.stream)).not.toContain('svc-b/1');
    // Sent twice, reported once.
    expect(c.findings().map((f) => [f.code, f.stream, f.id])).toEqual([['malformed', 'svc-b/1', bad.id]]);
    // Not canonical once normalised (an uppercase id) is refused the same way.
    const upper = { ...bad, id: createRecordId().toUpperCase(), time: '1700000000000000000', type: 'crud' };
    const res = await post(c, [selfConsistentLog(logs[0]!, upper)]);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/normal form/) } });
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc-a/1')!.errors).toBe(0);
  });

  it.each(['its own id', "the genuine record's id"])('a forged record waiting at a seq (with %s) does not hold the stream up: the genuine records are stored, the forgery is a finding', async (idOf) => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 10, 100));
    const genuine5 = JSON.parse(String(logs[5]!.body)) as Record<string, unknown>;
    // Valid and self-consistent, but it does not continue record 4.
    const forged = { ...genuine5, id: idOf === 'its own id' ? createRecordId() : genuine5.id, prev: 'ab'.repeat(32), action: 'delete' };
    expect((await post(c, [selfConsistentLog(logs[5]!, forged)])).status).toBe(200);
    expect((await post(c, logs.slice(5))).status).toBe(200);
    expect(c.pending()).toBe(6);
    expect((await post(c, logs.slice(0, 5))).status).toBe(200);
    expect(c.pending()).toBe(0);
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 10, errors: 0 });
    expect(c.findings().map((f) => [f.code, f.seq, f.id])).toEqual([['chain_break', 5, forged.id]]);
  });

  it('keeps the genuine record when a forged one that also continues the chain waits at the same seq: the one its successor names', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 8, 100));
    const forged = { ...(JSON.parse(String(logs[5]!.body)) as Record<string, unknown>), id: createRecordId(), action: 'delete' };
    expect((await post(c, [selfConsistentLog(logs[5]!, forged)])).status).toBe(200);
    expect((await post(c, logs.slice(5))).status).toBe(200);
    expect((await post(c, logs.slice(0, 5))).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 8, errors: 0 });
    expect(c.findings().map((f) => [f.code, f.seq, f.id])).toEqual([['duplicate', 5, forged.id]]);
  });

  it('takes records left waiting by an earlier version of the pending table, also one stuck at the next seq', async () => {
    const chain = new AuditChain({ stream: 'svc/1' });
    const batch = batchOf(chain, 9, 100);
    const logs = await logsOf(batch);
    const c = await collector({}, (file) => {
      const store = new SqliteAuditStore(file);
      store.appendSync({ records: batch.records.slice(0, 3), checkpoints: [] });
      store.close();
      const db = new Database(file);
      db.exec('CREATE TABLE collector_pending (record_id TEXT PRIMARY KEY, stream TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL)');
      const park = db.prepare('INSERT INTO collector_pending VALUES (?, ?, ?, ?, ?, ?)');
      // Seq 3 is the stream's next: the earlier version left it there after a forged record at seq 3 failed to chain.
      for (const log of [...logs.slice(3, 5), ...logs.slice(6)]) {
        const r = JSON.parse(String(log.body)) as { id: string; seq: number };
        park.run(r.id, 'svc/1', r.seq, log.attributes['audit.record.hash'], log.body, Date.now());
      }
      db.close();
    });
    expect(c.pending()).toBe(5);
    // The sender's retry of seq 3 takes it and what follows it.
    expect((await post(c, [logs[3]!])).status).toBe(200);
    expect(c.pending()).toBe(3);
    expect((await post(c, [logs[5]!])).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 9, errors: 0 });
  });

  it('answers 200 with partial success, not 409, when a conflicting record comes with records it takes: only the conflict is refused', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 5, 100));
    expect((await post(c, logs.slice(0, 3))).status).toBe(200);
    const first = JSON.parse(String(logs[0]!.body)) as { id: string };
    const other = new AuditChain({ stream: 'svc/1' }).append({ id: first.id, time: T0, type: 'crud', action: 'delete', actor: { id: 'mallory' } });
    const [conflicting] = await logsOf({ records: [other], checkpoints: [] });
    const res = await post(c, [conflicting!, ...logs.slice(3)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/different content/) } });
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 5, errors: 0 });
    // Alone, it is still a 409.
    expect((await post(c, [conflicting!])).status).toBe(409);
  });

  it('refuses one record id sent in two streams of one request as a conflict, and stores the rest (not a 503 for ever)', async () => {
    const c = await collector();
    const a = new AuditChain({ stream: 'svc-a/1' });
    const b = new AuditChain({ stream: 'svc-b/1' });
    const logsA = await logsOf(batchOf(a, 3, 100));
    const id = (JSON.parse(String(logsA[0]!.body)) as { id: string }).id;
    const twin = b.append({ id, time: T0, type: 'crud', action: 'update', actor: { id: 'bob' } });
    const logsB = await logsOf({ records: [twin, ...batchOf(b, 2, 100).records], checkpoints: [] });
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await post(c, [...logsA, ...logsB]);
      expect(res.status, res.body).toBe(200);
    }
    const streams = (await c.store.verify({ keyring })).streams;
    expect(streams.find((s) => s.stream === 'svc-a/1')).toMatchObject({ records: 3, errors: 0 });
    // svc-b's first record was refused, so its followers wait for a seq 0 that never comes.
    expect(streams.find((s) => s.stream === 'svc-b/1')).toBeUndefined();
    expect(c.findings().some((f) => f.code === 'duplicate' && f.stream === 'svc-b/1' && f.id === id)).toBe(true);
  });

  it('stores a checkpoint no trusted key signed as evidence, reports it, and does not compare roots with it', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const batch = batchOf(chain, 4, 100);
    const stranger = parseSignerKey(generateNoteKey('stranger.example/audit').signerKey);
    // Signed by an unknown key, over a root the stream will never have (now, or at size 6 later).
    const forged = (size: number): SealedCheckpoint => {
      const note = signCheckpoint({ origin: 'svc/1', size, rootHash: Buffer.alloc(32, 7), timeUnixNano: T0 }, [stranger]);
      return { stream: 'svc/1', size, rootHash: '07'.repeat(32), timeUnixNano: T0, note };
    };
    expect((await post(c, await logsOf({ records: batch.records, checkpoints: [forged(4), forged(6)] }))).status).toBe(200);
    expect((await post(c, await logsOf(batchOf(chain, 2, 100)))).status).toBe(200);
    expect(c.findings().map((f) => f.code)).toEqual(['unknown_key', 'unknown_key']);
    expect(c.store.database.prepare("SELECT count(*) FROM audit_checkpoints WHERE stream = 'svc/1'").pluck().get()).toBe(2);
  });

  it('a finding the store could not take while the request committed is recorded on the next tick, once', async () => {
    const c = await collector({ gapGraceMillis: 100 });
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 5, 100));
    const altered = { ...logs[4]!, body: String(logs[4]!.body).replace('"alice"', '"mallory"') };
    const other = new Database(c.file);
    other.exec("CREATE TRIGGER refuse_findings BEFORE INSERT ON audit_logs WHEN NEW.event_action = 'integrity_failure' BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    const res = await post(c, [...logs.slice(0, 4), altered]);
    expect(res.status).toBe(200); // the four good records were committed
    expect(c.findings()).toEqual([]);
    other.exec('DROP TRIGGER refuse_findings');
    other.close();
    await new Promise((r) => setTimeout(r, 700));
    expect(c.findings().map((f) => [f.code, f.seq])).toEqual([['hash_mismatch', 4]]);
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 4, errors: 0 });
    // The collector's own stream holds the finding's record, in one unbroken chain.
    expect(report.streams.filter((s) => s.stream !== 'svc/1').map((s) => [s.records, s.errors])).toEqual([[1, 0]]);
  });

  it('reports a gap of a stream whose state was let go (more streams than maxLiveStreams), once', async () => {
    const c = await collector({ maxLiveStreams: 1, gapGraceMillis: 100 });
    for (const name of ['svc-a/1', 'svc-b/1', 'svc-c/1']) {
      const logs = await logsOf(batchOf(new AuditChain({ stream: name }), 4, 100));
      expect((await post(c, [logs[0]!, ...logs.slice(2)])).status).toBe(200); // seq 1 never arrives
    }
    await new Promise((r) => setTimeout(r, 900));
    const gaps = c.findings().filter((f) => f.code === 'seq_gap').map((f) => [f.stream, f.seq]).sort();
    expect(gaps).toEqual([['svc-a/1', 1], ['svc-b/1', 1], ['svc-c/1', 1]]);
  });

  it('verifies streams beyond maxLiveStreams: a stream whose state was let go resumes from the store', async () => {
    const c = await collector({ maxLiveStreams: 2, gapGraceMillis: 100 });
    const chains = Array.from({ length: 5 }, (_, i) => new AuditChain({ stream: `svc-${i}/1` }));
    const batches = await Promise.all(chains.map(async (ch) => [await logsOf(batchOf(ch, 4, 4)), await logsOf(batchOf(ch, 4, 4))]));
    for (const round of [0, 1]) for (const b of batches) expect((await post(c, b[round]!)).status).toBe(200);
    // Out of order after eviction: the later half first.
    const late = await Promise.all(chains.map((ch) => logsOf(batchOf(ch, 4, 4))));
    const later = await Promise.all(chains.map((ch) => logsOf(batchOf(ch, 4, 4))));
    for (const b of later) expect((await post(c, b)).status).toBe(200);
    for (const b of late) expect((await post(c, b)).status).toBe(200);
    expect(c.pending()).toBe(0);
    const report = await c.store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(report.streams.filter((s) => s.stream.startsWith('svc-')).map((s) => s.records)).toEqual([16, 16, 16, 16, 16]);
    expect(c.findings()).toEqual([]);
  });

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
