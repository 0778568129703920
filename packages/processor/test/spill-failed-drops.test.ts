/**
 * Records dropped because the spill file cannot be written (a full disk,
 * internal/queue-router.ts): their `system/records_dropped` record says so —
 * reason `spill_failed` with the error code — not `queue_full`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { requestReceipt, type AuditBatch } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../src/index.js';
import { KEYS, tick, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spill-failed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store that holds every append until `open`. */
class GatedSink extends InMemoryAuditSink {
  open = false;
  override async append(batch: AuditBatch) {
    await until(() => this.open, 30_000);
    return super.append(batch);
  }
}

describe('records dropped while the spill file cannot be written', () => {
  it('are sealed as records_dropped with reason spill_failed and the error code', async () => {
    const sink = new GatedSink();
    const spillDir = join(dir, 'gone');
    mkdirSync(spillDir);
    const errors: string[] = [];
    const processor = new AuditLogRecordProcessor({
      stream: 's/spill-failed', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath: join(spillDir, 'q.spill'), maxQueueSize: 5, maxBatchSize: 5,
      flushIntervalMillis: 5, checkpointEveryRecords: 1000, shutdownTimeoutMillis: 2000, onError: (e) => errors.push(e.message),
    });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    const logger = provider.getLogger('otel-audit');
    rmSync(spillDir, { recursive: true }); // the file cannot be written (ENOENT)
    const receipts: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const body = { type: 'api', action: 'call', details: { i } };
      receipts.push(requestReceipt(body).catch((e: { code?: string }) => e.code));
      logger.emit({ body });
      await tick(1);
    }
    mkdirSync(spillDir);
    sink.open = true;
    await Promise.all(receipts);
    await provider.shutdown();
    const drops = sink.records.filter((r) => r.record.action === 'records_dropped').map((r) => r.record.details as Record<string, unknown>);
    expect(drops.length).toBeGreaterThan(0);
    for (const d of drops) expect(d).toMatchObject({ reason: 'spill_failed', error_code: 'ENOENT', max_queue_size: 5 });
    // One warning on the error path said that records were being dropped, and why.
    expect(errors.filter((m) => m.includes('records are being dropped'))).toEqual([expect.stringMatching(/the spill file cannot be written \(ENOENT\)/)]);
  });
});
