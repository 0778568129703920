import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { requestReceipt, type AuditBatch } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../src/index.js';
import { KEYS, tick, until, verifySink } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spill-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errors: string[] = [];
beforeEach(() => {
  errors.length = 0;
  setGlobalErrorHandler((e) => errors.push(String((e as Error)?.message ?? e)));
});
afterEach(() => setGlobalErrorHandler(() => undefined));

class GatedSink extends InMemoryAuditSink {
  open = false;
  override async append(batch: AuditBatch) {
    await until(() => this.open, 30_000);
    return super.append(batch);
  }
}

/** A processor whose spill file lies in `spillDir` (removed by the test: the file cannot be written, as on a full disk). */
async function start(spillDir: string, sink: InMemoryAuditSink, stream: string) {
  mkdirSync(spillDir, { recursive: true });
  const spillPath = join(spillDir, 'q.spill');
  const processor = new AuditLogRecordProcessor({
    stream, sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 5, maxBatchSize: 5, flushIntervalMillis: 5, checkpointEveryRecords: 1000, shutdownTimeoutMillis: 300,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  const logger = provider.getLogger('otel-audit');
  const emit = (i: number): Promise<string> => {
    const body = { type: 'api', action: 'call', details: { i } };
    const settled = requestReceipt(body).then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
    logger.emit({ body });
    return settled;
  };
  return { processor, provider, spillPath, emit };
}

describe('spill file that cannot be written (a full disk)', () => {
  it('keeps what was spilled in memory and retries; beyond the queue bound drops before sealing with a records_dropped record; recovers when the file can be written', async () => {
    const sink = new GatedSink();
    const spillDir = join(dir, 'full');
    const { provider, spillPath, emit } = await start(spillDir, sink, 's/full');
    rmSync(spillDir, { recursive: true });
    const receipts: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) receipts.push(emit(i)); // 5 queued, 7 spilled: the write fails
    await until(() => errors.some((m) => m.includes(`writing the spill file ${spillPath} failed`)));
    for (let i = 12; i < 20; i++) {
      receipts.push(emit(i)); // the file cannot take them and memory is at its bound: dropped, loss counted
      await tick(1);
    }
    const dropped = await Promise.all(receipts.slice(12));
    expect(dropped).toEqual(Array(8).fill('AUDIT_QUEUE_FULL'));

    mkdirSync(spillDir); // space again: the retry writes the file, the queue drains it
    sink.open = true;
    expect(await Promise.all(receipts.slice(0, 12))).toEqual(Array(12).fill('ok'));
    expect(statSync(spillPath).mode & 0o777).toBe(0o600);
    expect(await emit(20)).toBe('ok'); // a record logged after the disk freed is stored
    await provider.shutdown();

    const calls = sink.records.filter((r) => r.record.action === 'call').map((r) => (r.record.details as { i: number }).i);
    expect(calls).toEqual([...Array.from({ length: 12 }, (_, i) => i), 20]);
    const drops = sink.records.filter((r) => r.record.action === 'records_dropped');
    expect(drops).toHaveLength(1);
    expect((drops[0]!.record.details as { count: number }).count).toBe(8);
    expect(sink.records.map((r) => r.record.seq)).toEqual(Array.from({ length: sink.records.length }, (_, i) => i));
    expect(verifySink(sink).ok).toBe(true);
  });

  it('shutdown while the file still cannot be written: every receipt settles and the loss is reported as LOST, not as kept in the file', async () => {
    const sink = new GatedSink();
    const spillDir = join(dir, 'never');
    const { provider, spillPath, emit } = await start(spillDir, sink, 's/never');
    rmSync(spillDir, { recursive: true });
    const receipts: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) receipts.push(emit(i));
    await until(() => errors.some((m) => m.includes('failed')));
    await provider.shutdown();
    const settled = await Promise.race([Promise.all(receipts), tick(2000).then(() => 'some receipts never settled')]);
    expect(settled).toEqual(Array(12).fill('AUDIT_SHUTDOWN'));
    expect(errors.filter((m) => m.includes('kept in the spill file'))).toEqual([]);
    const lost = errors.find((m) => m.includes('LOST'));
    expect(lost).toContain(`not written to the spill file ${spillPath}`);
    // stream_started, the 12 records, pipeline_stopped and the final checkpoint: none reached a sink or the file
    expect(lost).toMatch(/with 15 item\(s\)/);
    sink.open = true;
  });
});

describe('spill file permissions', () => {
  it('the spill file is created readable by its owner only (0600)', async () => {
    const sink = new GatedSink();
    const { provider, spillPath, emit } = await start(join(dir, 'mode'), sink, 's/mode');
    const receipts = Array.from({ length: 12 }, (_, i) => emit(i));
    await until(() => { try { return statSync(spillPath).size > 0; } catch { return false; } });
    expect(statSync(spillPath).mode & 0o777).toBe(0o600);
    sink.open = true;
    expect(await Promise.all(receipts)).toEqual(Array(12).fill('ok'));
    await provider.shutdown();
  });
});
