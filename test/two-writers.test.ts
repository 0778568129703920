/**
 * Two pipelines, one stream id, one SQLite file (red team helper 75, F2):
 * replicas with a fixed stream id, or a rolling restart whose new process
 * starts before the old one stopped. Both used to resume the stream and
 * race for its next seqs; the store refused the loser's records for ever
 * and they were LOST at its shutdown. Now the stream is claimed: the second
 * pipeline writes a new stream that names the first, and every record of
 * both is committed and verifies. Once the first pipeline stopped, the
 * stream is free again and is resumed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { AuditLogRecordProcessor, type AuditProcessorWarning } from '@otel-audit/processor';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { createAuditLogger } from '@otel-audit/instrumentation';

const keys = generateNoteKey('two-writers.example/audit');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A pipeline over its own connection to `file`, as a second process would have. */
function pipeline(file: string, spillPath?: string) {
  const store = new SqliteAuditStore(file);
  const warnings: AuditProcessorWarning[] = [];
  const errors: string[] = [];
  const processor = new AuditLogRecordProcessor({
    stream: 'api/fixed', sinks: [store], signerKey: keys.signerKey, flushIntervalMillis: 10,
    onWarning: (w) => warnings.push(w), onError: (e) => errors.push(e.message),
    ...(spillPath !== undefined ? { overflow: 'spill' as const, spillPath } : {}),
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const audit = createAuditLogger({ loggerProvider: provider, receiptTimeoutMillis: 5_000 });
  return { store, processor, provider, audit, warnings, errors };
}

describe('two pipelines on one stream id and one store', () => {
  it('the second writes a new stream naming the first; no record is refused or lost, and the store verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-two-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'audit.db');
    // The same configuration, its spill file included.
    const spill = path.join(dir, 'audit.spill');
    const a = pipeline(file, spill);
    const b = pipeline(file, spill);
    const log = (p: typeof a, who: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => p.audit.log({ type: 'crud', action: 'update', actor: { id: who }, details: { i } })));
    const [ra, rb] = await Promise.all([log(a, 'a', 30), log(b, 'b', 30)]);
    const streams = new Set([...ra, ...rb].map((r) => r.stream));
    expect(streams.size).toBe(2);
    expect(streams).toContain('api/fixed');
    await Promise.all([a.provider.shutdown(), b.provider.shutdown()]);
    const inUse = [...a.warnings, ...b.warnings].filter((w) => w.code === 'stream_in_use');
    expect(inUse).toHaveLength(2);
    expect(inUse[1]!.message).toMatch(/the spill file .*audit\.spill belongs to the pipeline that holds stream "api\/fixed"; this one does not spill/);
    expect(inUse[0]!.message).toMatch(/stream "api\/fixed" is being written by another pipeline \(pid \d+ on .*\); this one writes stream "api\/fixed\/2" \(resumed when it exists, else new, its first record naming "api\/fixed"\)/);
    expect([...a.errors, ...b.errors].filter((e) => /LOST|conflict/i.test(e))).toEqual([]);

    const store = new SqliteAuditStore(file, { readOnly: true });
    try {
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report.ok).toBe(true);
      expect(report.streams.map((s) => s.stream).sort()).toEqual([...streams].sort());
      const second = [...streams].find((s) => s !== 'api/fixed')!;
      const started = store.query({ stream: second, eventType: 'system', eventAction: 'stream_started' }).records[0]!.record;
      expect(started.details).toMatchObject({ previous_stream: 'api/fixed', previous_stream_in_use_by: { pid: process.pid, host: os.hostname() } });
      const byActor = store.query({ limit: 1000 }).records.filter((r) => r.record.type === 'crud');
      expect(byActor.filter((r) => r.record.actor?.id === 'a')).toHaveLength(30);
      expect(byActor.filter((r) => r.record.actor?.id === 'b')).toHaveLength(30);
    } finally {
      store.close();
    }

    // Both stopped: the next pipeline resumes the stream itself.
    const c = pipeline(file);
    const [rc] = await log(c, 'c', 1);
    expect(rc!.stream).toBe('api/fixed');
    await c.provider.shutdown();
    expect(c.warnings.filter((w) => w.code === 'stream_in_use')).toEqual([]);
    for (const p of [a, b, c]) p.store.close();
  });

  it('while the first still writes, the next pipeline resumes the slot stream a stopped one wrote, not a new stream at every start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-two-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'audit.db');
    const a = pipeline(file);
    const ra = await a.audit.log({ type: 'crud', action: 'update', actor: { id: 'a' } });
    expect(ra.stream).toBe('api/fixed');
    const b = pipeline(file);
    const rb = await b.audit.log({ type: 'crud', action: 'update', actor: { id: 'b' } });
    expect(rb.stream).toBe('api/fixed/2');
    await b.provider.shutdown();
    // A replacement of b (a rolling restart, a cluster worker forked again) while a still writes.
    const c = pipeline(file);
    const rc = await c.audit.log({ type: 'crud', action: 'update', actor: { id: 'c' } });
    expect(rc.stream).toBe('api/fixed/2');
    await Promise.all([a.provider.shutdown(), c.provider.shutdown()]);

    const store = new SqliteAuditStore(file, { readOnly: true });
    try {
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report.ok).toBe(true);
      expect(report.streams.map((s) => s.stream).sort()).toEqual(['api/fixed', 'api/fixed/2']);
      const resumed = store.query({ stream: 'api/fixed/2', eventType: 'system', eventAction: 'pipeline_started' }).records.map((r) => r.record.details);
      expect(resumed).toEqual([expect.objectContaining({ stream_in_use: 'api/fixed', stream_in_use_by: expect.objectContaining({ pid: process.pid }) })]);
    } finally {
      store.close();
    }
    for (const p of [a, b, c]) p.store.close();
  });
});
