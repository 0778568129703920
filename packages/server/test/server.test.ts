/**
 * The server as a whole (issue 7): the live event stream (records and
 * alerts appended by another process to the file, heartbeats, bounded
 * clients, opening recorded), the concurrency limit, mounting the handler
 * in one's own node:http server, the 127.0.0.1 default, option errors, and
 * the access stream resuming its chain after a restart.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditChain, createRecordId, unvouchedStreams } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { describe, expect, it } from 'vitest';
import { createAuditServer } from '../src/index.js';
import {
  accessRecords, ADMIN_TOKEN, appendBulky, appendEvents, AUDITOR_TOKEN, call, fixturesPerTest, keyring, keys, stalledClient, TOKENS, until, type Fixture,
} from './helpers.js';

const fixture = fixturesPerTest();

/** Open the event stream and collect its events until `until` holds or the time runs out. */
async function readEvents(fx: Fixture, token: string, until: (events: { event: string; data: string }[], raw: string) => boolean, onOpen?: () => void): Promise<{ events: { event: string; data: string }[]; raw: string }> {
  const { ticket } = await (await call(fx, '/api/audit/stream-ticket', token, { method: 'POST' })).json();
  const ac = new AbortController();
  const res = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(ticket)}`, undefined, { signal: ac.signal });
  expect(res.status).toBe(200);
  onOpen?.();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const events: { event: string; data: string }[] = [];
  const deadline = Date.now() + 8000;
  try {
    while (Date.now() < deadline && !until(events, raw)) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
      events.length = 0;
      for (const block of raw.split('\n\n')) {
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data });
      }
    }
  } finally {
    ac.abort();
  }
  return { events, raw };
}

describe('GET /api/audit/stream', () => {
  it('sends records and alerts appended by another process, with heartbeats, and records the subscription', async () => {
    const fx = await fixture(5, { pollIntervalMillis: 50, heartbeatIntervalMillis: 100 });
    const writer = `
      import { AuditChain, createRecordId, unvouchedStreams } from '@otel-audit/core';
      import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
      const store = new SqliteAuditStore(process.argv[1]);
      const chain = new AuditChain({ stream: 'other/1' });
      store.appendSync({ records: [chain.append({ id: createRecordId(), time: new Date(), type: 'crud', action: 'live' })], checkpoints: [] });
      store.appendSync({ records: [chain.append({ id: createRecordId(), time: new Date(), type: 'alert', action: 'failed_logins', severity: 'critical' })], checkpoints: [] });
      store.close();`;
    let child: Promise<string> | undefined;
    const { events, raw } = await readEvents(fx, ADMIN_TOKEN, (ev, text) => ev.some((e) => e.event === 'alert') && text.includes(': heartbeat'), () => {
      child = new Promise((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', writer, fx.store.path], { cwd: fileURLToPath(new URL('..', import.meta.url)) }, (error, _out, stderr) => resolve(error ? `failed: ${stderr}` : 'ok'));
      });
    });
    expect(await child).toBe('ok');
    const mine = events.filter((e) => JSON.parse(e.data).record.stream === 'other/1');
    expect(mine.map((e) => [e.event, JSON.parse(e.data).record.action])).toEqual([['record', 'live'], ['alert', 'failed_logins']]);
    expect(JSON.parse(mine[0]!.data).checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(raw).toContain(': heartbeat');
    // Records that existed before the stream opened are not replayed.
    expect(events.some((e) => JSON.parse(e.data).record.stream === 'svc/1')).toBe(false);
    const subs = accessRecords(fx.store).filter((r) => r.action === 'subscribe');
    expect(subs[0]).toMatchObject({ actor: { id: 'alice' }, request: { endpoint: '/api/audit/stream' }, details: { phase: 'opened' } });
    expect(accessRecords(fx.store).some((r) => r.action === 'heartbeat')).toBe(false);
  });

  it('withholds sealed members from an auditor on an encrypted store', async () => {
    const { randomBytes } = await import('node:crypto');
    const fx = await fixture(2, { pollIntervalMillis: 50 }, { encryption: { keyId: 'k1', key: randomBytes(32) } });
    const { events } = await readEvents(fx, AUDITOR_TOKEN, (ev) => ev.some((e) => JSON.parse(e.data).record.action === 'secret'), () => {
      setTimeout(() => appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'crud', action: 'secret', details: { pin: 1234 } }], false), 100);
    });
    const item = JSON.parse(events.find((e) => JSON.parse(e.data).record.action === 'secret')!.data);
    expect(item.record.details).toBe('[withheld: encrypted at rest]');
    expect(item.withheld).toEqual(['/details']);
  });

  it('limits the number of open streams (429)', async () => {
    const fx = await fixture(2, { maxStreamClients: 1 });
    const t1 = (await (await call(fx, '/api/audit/stream-ticket', ADMIN_TOKEN, { method: 'POST' })).json()).ticket;
    const t2 = (await (await call(fx, '/api/audit/stream-ticket', ADMIN_TOKEN, { method: 'POST' })).json()).ticket;
    const ac = new AbortController();
    const first = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(t1)}`, undefined, { signal: ac.signal });
    expect(first.status).toBe(200);
    const second = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(t2)}`);
    expect(second.status).toBe(429);
    ac.abort();
  });

  it('lets one token hold at most half of the stream slots, so another token still gets one (429 names the token)', async () => {
    const fx = await fixture(2, { maxStreamClients: 4 });
    const open = async (token: string, signal?: AbortSignal) => {
      const { ticket } = await (await call(fx, '/api/audit/stream-ticket', token, { method: 'POST' })).json();
      return call(fx, `/api/audit/stream?ticket=${encodeURIComponent(ticket)}`, undefined, signal ? { signal } : {});
    };
    const ac = new AbortController();
    try {
      expect((await open(ADMIN_TOKEN, ac.signal)).status).toBe(200);
      expect((await open(ADMIN_TOKEN, ac.signal)).status).toBe(200);
      const third = await open(ADMIN_TOKEN);
      expect(third.status).toBe(429);
      expect((await third.json()).error.message).toMatch(/token "alice" holds 2 live stream\(s\) already/);
      expect((await open(AUDITOR_TOKEN, ac.signal)).status).toBe(200);
    } finally {
      ac.abort();
    }
  });
});

describe('live stream backpressure', () => {
  it('disconnects a client that stops reading once maxStreamBufferBytes wait for it, and frees its slot', async () => {
    const fx = await fixture(2, { pollIntervalMillis: 20, maxStreamBufferBytes: 64 * 1024, maxStreamClients: 1 });
    const phases = () => accessRecords(fx.store).filter((r) => r.action === 'subscribe').map((r) => (r.details as { phase: string }).phase);
    const socket = stalledClient(fx, '/api/audit/stream', ADMIN_TOKEN);
    try {
      await until(() => phases().includes('opened'), 5_000, 'the stream opened');
      // Batches under the hub's per-poll maximum, ~13 MB in all: far more than the socket buffers hold.
      for (let i = 0; i < 8 && !phases().includes('closed'); i++) {
        appendBulky(fx, 100);
        await new Promise((r) => setTimeout(r, 100));
      }
      await until(() => phases().includes('closed'), 10_000, 'the slow client was let go');
      const { ticket } = await (await call(fx, '/api/audit/stream-ticket', ADMIN_TOKEN, { method: 'POST' })).json();
      const ac = new AbortController();
      const again = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(ticket)}`, undefined, { signal: ac.signal });
      expect(again.status).toBe(200);
      ac.abort();
    } finally {
      socket.destroy();
    }
  });
});

describe('limits, mounting and options', () => {
  it('answers 429 beyond maxConcurrentRequests', async () => {
    const fx = await fixture(20, { maxConcurrentRequests: 1 });
    appendEvents(fx.store, fx.chain, Array.from({ length: 20_000 }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() - 60_000 + i), type: 'api', action: 'call' })));
    const slow = await call(fx, '/api/audit/integrity?stream=svc%2F1&progress=true', ADMIN_TOKEN);
    const busy = await call(fx, '/api/audit/logs', ADMIN_TOKEN);
    expect(busy.status).toBe(429);
    expect((await busy.json()).error.code).toBe('AUDIT_HTTP_BUSY');
    await slow.text();
    expect((await call(fx, '/api/audit/logs', ADMIN_TOKEN)).status).toBe(200);
  });

  it('mounts as a handler in the user\'s own server, and listens on 127.0.0.1 by default', async () => {
    const fx = await fixture(3);
    const mounted = createAuditServer({ store: fx.store, tokens: TOKENS, stream: 'mounted/1' });
    const own = createServer((req, res) => (req.url?.startsWith('/audit-ui') ? res.end('mine') : mounted.handler(req, res)));
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const port = (own.address() as { port: number }).port;
    const res = await call({ url: `http://127.0.0.1:${port}` }, '/api/audit/logs?limit=1', ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect((await res.json()).records).toHaveLength(1);
    await new Promise((r) => own.close(r));
    await mounted.close();
    expect(fx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses bad options naming the option and the fix', async () => {
    const fx = await fixture(1);
    expect(() => createAuditServer({ store: fx.store, tokens: [{ name: 'x', role: 'root' as 'admin', sha256: 'a'.repeat(64) }] })).toThrow(/options\.tokens\[0\]\.role must be 'admin' or 'auditor'/);
    expect(() => createAuditServer({ store: fx.store, tokens: [{ name: 'x', role: 'admin', sha256: 'plain-token' }] })).toThrow(/options\.tokens\[0\]\.sha256 must be the 64 hex digits of SHA-256\(token\)/);
    // One token under two names (and roles): which one it acts as would be a guess.
    expect(() => createAuditServer({ store: fx.store, tokens: [{ name: 'ops', role: 'admin', sha256: 'b'.repeat(64) }, { name: 'viewer', role: 'auditor', sha256: 'B'.repeat(64) }] }))
      .toThrow(/options\.tokens\[1\] \(viewer\) has the same sha256 as options\.tokens\[0\] \(ops\): one token cannot be two principals/);
    expect(() => createAuditServer({ store: {} as SqliteAuditStore, tokens: [] })).toThrow(/options\.store must be a SqliteAuditStore/);
    expect(() => createAuditServer({ store: fx.store, tokens: [], maxConcurrentRequests: 0 })).toThrow(/options\.maxConcurrentRequests must be a positive integer/);
  });

  it('writes no checkpoint without a signer key, so verification with trusted keys stays clean', async () => {
    const fx = await fixture(3, { signerKey: undefined, checkpointEvery: 1 });
    await (await call(fx, '/api/audit/logs', ADMIN_TOKEN)).arrayBuffer();
    await fx.server.close();
    const report = await fx.store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(report.streams.find((s) => s.stream === 'otel-audit-server/test')!.findings.map((f) => f.code)).toEqual(['unsigned_tail']);
  });

  it('while it runs, its access stream is vouched for by a signed checkpoint from its first record on, so a verification then raises no alarm', async () => {
    // Defaults: a checkpoint every 100 records or 10 s. A cron verify in between must not find
    // a signed stream without any checkpoint ("were they deleted?").
    const fx = await fixture(3);
    await (await call(fx, '/api/audit/logs', ADMIN_TOKEN)).arrayBuffer();
    const report = await fx.store.verify({ keyring, streams: ['otel-audit-server/test'] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(accessRecords(fx.store).length);
    expect(unvouchedStreams(report, { ranged: false })).toEqual([]);
  });

  it('never signs access records it did not write: records forged into its stream before it starts, or while it runs, make it go on in a new stream that says why', async () => {
    const forged = (stream: string, note: string) => ({
      id: createRecordId(), time: new Date(), type: 'access', action: 'export', outcome: 'success' as const,
      actor: { id: 'alice', type: 'api_key' }, target: { type: 'audit_log', id: 'audit.db' }, details: { note },
    });
    // Before the first start: someone who can write the store (a collector into it, say) seeds the stream, unsigned.
    const fx = await fixture(3, { checkpointEvery: 1 });
    const seeded = new AuditChain({ stream: 'otel-audit-server/test' });
    fx.store.appendSync({ records: [seeded.append(forged('otel-audit-server/test', 'FORGED before start'))], checkpoints: [] });
    await (await call(fx, '/api/audit/logs', ADMIN_TOKEN)).arrayBuffer();
    const first = fx.server.stream;
    expect(first).toMatch(/^otel-audit-server\/test\/[0-9a-f-]{36}$/);
    expect(accessRecords(fx.store, first).map((r) => `${r.type}/${r.action}`)).toEqual(['system/stream_started', 'access/view']);
    expect(accessRecords(fx.store, first)[0]!.details).toMatchObject({ previous_stream: 'otel-audit-server/test', reason: expect.stringContaining("not all covered by a checkpoint signed with this server's key") });

    // While it runs: the next record of its stream is appended by another writer.
    const head = (await fx.store.head(first))!;
    const running = new AuditChain({ stream: first, head });
    fx.store.appendSync({ records: [running.append(forged(first, 'FORGED while running'))], checkpoints: [] });
    await (await call(fx, '/api/audit/stats', AUDITOR_TOKEN)).arrayBuffer();
    const second = fx.server.stream;
    expect(second).toMatch(new RegExp(`^${first}/[0-9a-f-]{36}$`));
    expect(accessRecords(fx.store, second)[0]).toMatchObject({ type: 'system', action: 'stream_started', details: { previous_stream: first, reason: expect.stringContaining(`another writer appended to it at seq ${head.size}`) } });
    await fx.server.close();

    // No checkpoint signed with the server's key covers a forged record.
    const report = await fx.store.verify({ keyring });
    for (const s of report.streams.filter((x) => x.stream.startsWith('otel-audit-server/test'))) {
      const forgedSeqs = accessRecords(fx.store, s.stream).filter((r) => JSON.stringify(r.details ?? {}).includes('FORGED')).map((r) => r.seq);
      for (const seq of forgedSeqs) expect(s.checkpoints.lastVerifiedSize, `${s.stream} seq ${seq}`).toBeLessThanOrEqual(seq);
    }
    expect(report.streams.find((s) => s.stream === second)!.checkpoints.lastVerifiedSize).toBe(accessRecords(fx.store, second).length);
  });

  it('resumes its access stream after a restart and the stream verifies with signed checkpoints', async () => {
    const fx = await fixture(3, { checkpointEvery: 2 });
    for (let i = 0; i < 3; i++) await (await call(fx, '/api/audit/logs', ADMIN_TOKEN)).arrayBuffer();
    await fx.server.close();
    const again = createAuditServer({ store: fx.store, tokens: TOKENS, stream: 'otel-audit-server/test', signerKey: keys.signerKey });
    const { url } = await again.listen(0);
    await (await call({ url }, '/api/audit/stats', AUDITOR_TOKEN)).arrayBuffer();
    await again.close();
    const access = accessRecords(fx.store);
    expect(access.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    const report = await fx.store.verify({ keyring, streams: ['otel-audit-server/test'] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(4);
    expect(path.basename(fx.store.path)).toBe('audit.db');
  });
});
