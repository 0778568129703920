import { existsSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { requestReceipt, type AuditBatch, type AuditReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../src/index.js';
import { KEYS, until, verifySink } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class GatedSink extends InMemoryAuditSink {
  open = false;
  inFlight = 0;
  override async append(batch: AuditBatch) {
    this.inFlight++;
    await until(() => this.open, 30_000);
    this.inFlight--;
    return super.append(batch);
  }
}

describe('spill overflow policy', () => {
  it('beyond the queue bound, sealed records go to a local file and are replayed in order: nothing dropped, receipts resolve, stream verifies', async () => {
    const sink = new GatedSink();
    const spillPath = join(dir, 'a.spill');
    const processor = new AuditLogRecordProcessor({
      stream: 's/1', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 10, maxBatchSize: 5, flushIntervalMillis: 5, checkpointEveryRecords: 50,
    });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    const logger = provider.getLogger('otel-audit');
    const receipts: Promise<AuditReceipt>[] = [];
    for (let i = 0; i < 300; i++) {
      const body = { type: 'api', action: 'call', details: { i, pad: 'x'.repeat(100) } };
      receipts.push(requestReceipt(body));
      logger.emit({ body });
    }
    await until(() => existsSync(spillPath) && statSync(spillPath).size > 250 * 100);
    expect(sink.records).toHaveLength(0);
    sink.open = true;
    const done = await Promise.all(receipts);
    expect(done.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    await processor.forceFlush();
    expect(sink.records.map((r) => r.record.seq)).toEqual(Array.from({ length: sink.records.length }, (_, i) => i));
    expect(sink.checkpoints.length).toBeGreaterThanOrEqual(6);
    // more records after the spill emptied go straight to the queue again
    logger.emit({ body: { type: 'api', action: 'after' } });
    await provider.shutdown();
    expect(sink.records.at(-2)!.record.action).toBe('after');
    expect(verifySink(sink).ok).toBe(true);
    expect(existsSync(spillPath)).toBe(false);
  });

  it('shutdown with a sink that never accepts rejects the receipts but keeps every uncommitted record in the spill file; the next processor replays it', async () => {
    const sink = new GatedSink();
    const spillPath = join(dir, 'b.spill');
    const processor = new AuditLogRecordProcessor({ stream: 's/2', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 5, flushIntervalMillis: 5, shutdownTimeoutMillis: 100 });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    const receipts: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      const body = { type: 'api', action: 'call', details: { i } };
      receipts.push(requestReceipt(body).then(() => 'ok', (e: Error) => e.name));
      provider.getLogger('otel-audit').emit({ body });
    }
    await provider.shutdown();
    expect(new Set(await Promise.all(receipts))).toEqual(new Set(['AuditShutdownError']));
    expect(existsSync(spillPath)).toBe(true);

    // A new processor with the same spillPath: the records come back first, in order, and the chain continues after them.
    const sink2 = new InMemoryAuditSink();
    const next = new AuditLogRecordProcessor({ stream: 's/2', sinks: [sink2], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 5, flushIntervalMillis: 5 });
    const provider2 = new LoggerProvider({ processors: [next] });
    await next.ready();
    provider2.getLogger('otel-audit').emit({ body: { type: 'api', action: 'after-restart' } });
    await next.forceFlush();
    const actions = sink2.records.map((r) => r.record.action);
    expect(actions.filter((a) => a === 'call')).toHaveLength(50);
    expect(sink2.records.filter((r) => r.record.action === 'call').map((r) => (r.record.details as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(actions.indexOf('spill_replayed')).toBeGreaterThan(actions.lastIndexOf('call'));
    expect(actions.indexOf('after-restart')).toBeGreaterThan(actions.indexOf('spill_replayed'));
    expect(sink2.records.map((r) => r.record.seq)).toEqual(Array.from({ length: sink2.records.length }, (_, i) => i));
    await provider2.shutdown();
    expect(verifySink(sink2).ok).toBe(true);
    expect(existsSync(spillPath)).toBe(false);
    sink.open = true;
  });
});
