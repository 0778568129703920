/**
 * startCollector: storing what arrives (JSON and protobuf, any order, retries),
 * sender tokens, 503/4xx answers, an earlier pending table and streams beyond
 * maxLiveStreams. Refusals and findings are in start-collector-findings.test.ts,
 * input limits in start-collector-limits.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { hashToken } from '../../src/auth.js';
import { startCollector } from '../../src/collector/index.js';
import { cleanups, collector, batchOf, logsOf, post, keyring } from './start-collector-support.js';

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

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
});
