/**
 * `audit.log()` while the audit store fails (DESIGN §5), against the real
 * processor: a receipt that does not come in time says the store is failing
 * and that the record is still queued and may be committed later (it is,
 * once the store is back); a call waiting for queue space under overflow
 * `block` is rejected as soon as the pipeline shuts down, not after its
 * receipt timeout.
 */
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../processor/src/index.js';
import type { AuditBatch } from '@otel-audit/core';
import { AuditReceiptTimeoutError, createAuditLogger } from '../src/index.js';
import { until } from './helpers.js';

/** An in-memory store that fails while `failing` is true. */
class FailingSink extends InMemoryAuditSink {
  failing = true;
  override async append(batch: AuditBatch): Promise<void> {
    if (this.failing) throw new Error('SQLITE_FULL: database or disk is full');
    return super.append(batch);
  }
}

function pipeline(options: Partial<ConstructorParameters<typeof AuditLogRecordProcessor>[0]> = {}) {
  const sink = new FailingSink();
  const processor = new AuditLogRecordProcessor({
    sinks: [sink], stream: 'test/outage', flushIntervalMillis: 5, shutdownTimeoutMillis: 500, retryInitialMillis: 5, retryMaxMillis: 10, onError: () => undefined, ...options,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { sink, processor, provider };
}

describe('audit.log() during a store outage', () => {
  it('a receipt timeout says the store is failing and the record may still be committed; it is, once the store is back', async () => {
    const { sink, processor, provider } = pipeline();
    try {
      await processor.ready();
      const audit = createAuditLogger({ loggerProvider: provider, receiptTimeoutMillis: 100 });
      const error = await audit.change({ actor: 'alice', target: { type: 'tool', id: 't1' }, old: { n: 1 }, new: { n: 2 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuditReceiptTimeoutError);
      const message = (error as Error).message;
      expect(message).toMatch(/the audit store is failing/);
      expect(message).toMatch(/the record is still queued and may be committed later/);
      expect(message).not.toMatch(/is an AuditLogRecordProcessor installed/);
      sink.failing = false;
      const id = (error as AuditReceiptTimeoutError).recordId;
      await until(() => sink.records.some((r) => r.record.id === id));
    } finally {
      await provider.shutdown();
    }
  });

  it('a call waiting for queue space (overflow block) is rejected as soon as the pipeline shuts down, not at its receipt timeout', async () => {
    const { processor, provider } = pipeline({ overflow: 'block', maxQueueSize: 10, shutdownTimeoutMillis: 3000 });
    await processor.ready();
    const audit = createAuditLogger({ loggerProvider: provider });
    for (let i = 0; i < 30; i++) audit.logNowait({ type: 'api', action: 'call', details: { i } });
    const pending = audit.log({ type: 'api', action: 'awaited' });
    const outcome = pending.then(() => 'resolved', (e: unknown) => e as Error);
    const started = performance.now();
    const stopped = provider.shutdown();
    const error = await outcome;
    const waited = performance.now() - started;
    await stopped;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/shut/);
    // Before the shutdown timeout (3 s) ran out, let alone the receipt timeout (60 s).
    expect(waited).toBeLessThan(1000);
  });
});
