/**
 * Shutdown before the stream's head could be read (red team helper 75, F1):
 * the records held for the stream were never sealed, so they cannot be
 * spilled or delivered — their loss is said, with the counts and why.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { requestReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../src/index.js';
import { KEYS, tick } from './helpers.js';

describe('AuditLogRecordProcessor: shutdown before the stream head is known', () => {
  /** A primary sink that never answers the stream head (a database locked for the whole run). */
  class HeadFailingSink extends InMemoryAuditSink {
    override async head(): Promise<undefined> {
      throw new Error('database is locked');
    }
  }

  /** 5 awaited and 30 fire-and-forget records while the head cannot be read, then shutdown; what onError got. */
  async function shutdownWhileHeld(options: Partial<ConstructorParameters<typeof AuditLogRecordProcessor>[0]> = {}) {
    const sink = new HeadFailingSink();
    const errors: string[] = [];
    const processor = new AuditLogRecordProcessor({ stream: 'held/1', sinks: [sink], signerKey: KEYS.signerKey, maxQueueSize: 10, shutdownTimeoutMillis: 200, onError: (e) => errors.push(e.message), ...options });
    const provider = new LoggerProvider({ processors: [processor] });
    const logger = provider.getLogger('otel-audit');
    const receipts: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      const body = { type: 'api', action: 'awaited', details: { i } };
      receipts.push(requestReceipt(body, { awaited: true }));
      logger.emit({ body });
    }
    for (let i = 0; i < 30; i++) logger.emit({ body: { type: 'api', action: 'async', details: { i } } });
    await tick(50);
    await provider.shutdown();
    const settled = await Promise.allSettled(receipts);
    return { sink, errors, settled };
  }

  it('reports the held records and those dropped past the hold limit as LOST, naming the stream and why', async () => {
    const { sink, errors, settled } = await shutdownWhileHeld();
    expect(sink.records).toHaveLength(0);
    expect(settled.every((r) => r.status === 'rejected')).toBe(true);
    // maxQueueSize 10 under block: 20 are held, the other 15 dropped.
    const lost = errors.filter((m) => m.includes('LOST'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/before the head of stream "held\/1" could be read from the primary sink: 20 held record\(s\) were never sealed and 15 more were dropped past the hold limit of 20; they are LOST/);
  });

  it('without an onError, the loss is still said: a process warning on stderr, not only the silent default error handler', async () => {
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('@otel-audit/processor.emitted-after-shutdown-said')];
    const warnings: Error[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on('warning', listener);
    try {
      const sink = new HeadFailingSink();
      const processor = new AuditLogRecordProcessor({ stream: 'held/2', sinks: [sink], signerKey: KEYS.signerKey, shutdownTimeoutMillis: 100 });
      const provider = new LoggerProvider({ processors: [processor] });
      for (let i = 0; i < 3; i++) provider.getLogger('otel-audit').emit({ body: { type: 'api', action: 'async', details: { i } } });
      await provider.shutdown();
      const other = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ stream: 'held/2', sinks: [new HeadFailingSink()], signerKey: KEYS.signerKey, shutdownTimeoutMillis: 100 })] });
      for (let i = 0; i < 3; i++) other.getLogger('otel-audit').emit({ body: { type: 'api', action: 'async', details: { i } } });
      await other.shutdown();
      for (let i = 0; i < 3; i++) processor.onEmit({ instrumentationScope: { name: 'otel-audit' }, body: { type: 'api', action: 'late', details: { i } }, attributes: {}, hrTime: [0, 0] } as never);
      await tick(10); // warnings are emitted on the next tick
    } finally {
      process.off('warning', listener);
    }
    const lost = warnings.filter((w) => w.message.includes('LOST'));
    expect(lost).toHaveLength(2); // each processor's loss is said, though the texts are alike
    // Records emitted after shutdown are not written either: said once, not once per record.
    expect(warnings.filter((w) => w.message.includes('emitted after the audit processor was shut down'))).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/stream "held\/2" .*3 held record\(s\) were never sealed; they are LOST/);
    expect((lost[0] as Error & { code?: string }).code).toBe('AUDIT_SHUTDOWN');
  });

  it('under spill, says the held records are not in the spill file, and leaves a spill file of an earlier process in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-held-'));
    try {
      const spillPath = join(dir, 'audit.spill');
      const earlier = JSON.stringify({ c: '{"seq":0}', h: 'ab' }) + '\n';
      writeFileSync(spillPath, earlier);
      const { errors } = await shutdownWhileHeld({ overflow: 'spill', spillPath });
      // Under spill nothing is dropped before the hold limit of twice the bound.
      expect(errors.find((m) => m.includes('LOST'))).toMatch(/20 held record\(s\) were never sealed and 15 more were dropped past the hold limit of 20; they are LOST \(not written to any sink nor to the spill file/);
      expect(existsSync(spillPath)).toBe(true);
      expect(readFileSync(spillPath, 'utf8')).toBe(earlier);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
