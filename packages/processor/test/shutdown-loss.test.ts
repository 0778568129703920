/**
 * What a shutdown under a primary sink that never recovers says and leaves
 * behind (DESIGN §5 "never a silent drop"): the LOST message counts every
 * record lost — those still queued and those dropped earlier whose
 * `records_dropped` record was never committed — and the stream claim is
 * kept, so the next start over the same store records
 * `previous_writer_ended_without_stopping`. While records are dropped, one
 * warning says so; the recovery message gives the count.
 */
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { StreamClaim, StreamWriter } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { AuditLogRecordProcessor, type AuditProcessorWarning } from '../src/index.js';
import { FlakySink, KEYS, tick, until } from './helpers.js';

/** A failing-on-demand sink with one stream claim; `holderGone` models the holder's process having ended. */
class ClaimingSink extends FlakySink {
  holder: StreamWriter | undefined;
  holderGone = false;
  released = 0;
  async claimStream(_stream: string, writer: StreamWriter): Promise<StreamClaim> {
    const h = this.holder;
    if (h !== undefined && h.id !== writer.id) {
      if (!this.holderGone) return { ok: false, holder: { ...h, since: '2026-11-30T00:00:00.000Z' } };
      this.holder = writer;
      this.holderGone = false;
      return { ok: true, tookOverFrom: { ...h, since: '2026-11-30T00:00:00.000Z' } };
    }
    this.holder = writer;
    return { ok: true };
  }
  /** The store outlives the pipeline that shuts down: the next one opens it again. */
  override async shutdown(): Promise<void> {}
  async releaseStream(_stream: string, writer: StreamWriter): Promise<void> {
    if (this.holder?.id !== writer.id) return;
    this.holder = undefined;
    this.released++;
  }
}

function pipeline(sink: ClaimingSink, options: Partial<ConstructorParameters<typeof AuditLogRecordProcessor>[0]> = {}) {
  const errors: string[] = [];
  const warnings: AuditProcessorWarning[] = [];
  const processor = new AuditLogRecordProcessor({
    stream: 'loss/1', sinks: [sink], signerKey: KEYS.signerKey, maxQueueSize: 10, flushIntervalMillis: 5, retryInitialMillis: 5, retryMaxMillis: 10,
    shutdownTimeoutMillis: 100, checkpointIntervalMillis: 600_000, onError: (e) => errors.push(e.message), onWarning: (w) => warnings.push(w), ...options,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { processor, provider, logger: provider.getLogger('otel-audit'), errors, warnings };
}

describe('shutdown while the primary sink never recovers', () => {
  it.each(['block', 'drop'] as const)('overflow %s: the LOST message counts the dropped records too, and the next start records that the writer ended without stopping', async (overflow) => {
    const sink = new ClaimingSink();
    sink.failing = true;
    const p = pipeline(sink, { overflow });
    await p.processor.ready();
    for (let i = 0; i < 60; i++) p.logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    await tick(30);
    await p.provider.shutdown();
    expect(sink.records).toHaveLength(0);
    // In the chain: stream_started, the admitted app records, records_dropped, pipeline_stopped — none committed;
    // the app records not admitted were dropped: 60 app records + 3 system records are lost in all.
    const lost = p.errors.filter((m) => m.includes('LOST'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/they are LOST \(63 record\(s\) in all/);
    expect(lost[0]).toMatch(/dropped earlier because the queue was full \(max_queue_size 10\)/);
    // Evidence for the next start: the claim is kept.
    expect(sink.released).toBe(0);

    sink.holderGone = true; // the process ended
    sink.failing = false;
    const next = pipeline(sink);
    await next.processor.ready();
    await next.provider.shutdown();
    const start = sink.records.find((r) => r.record.action === 'stream_started' || r.record.action === 'pipeline_started');
    expect((start?.record.details as Record<string, unknown>)?.previous_writer_ended_without_stopping).toMatchObject({ pid: process.pid });
    expect(sink.released).toBe(1);
  });

  it('a clean shutdown gives the claim up', async () => {
    const sink = new ClaimingSink();
    const p = pipeline(sink);
    await p.processor.ready();
    for (let i = 0; i < 5; i++) p.logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    await p.provider.shutdown();
    expect(p.errors).toEqual([]);
    expect(sink.released).toBe(1);
  });
});

describe('records dropped while the primary sink fails', () => {
  it('says so once per outage, naming max_queue_size, and the recovery message gives the count', async () => {
    const sink = new ClaimingSink();
    sink.failing = true;
    const p = pipeline(sink, { overflow: 'drop' });
    await p.processor.ready();
    for (let i = 0; i < 50; i++) p.logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    await tick(20);
    for (let i = 0; i < 50; i++) p.logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    await tick(20);
    const dropping = p.errors.filter((m) => /dropp/.test(m));
    expect(dropping).toHaveLength(1);
    expect(dropping[0]).toMatch(/max_queue_size 10/);
    expect(dropping[0]).toMatch(/records are being dropped and counted/);
    sink.failing = false;
    await until(() => p.warnings.some((w) => w.code === 'sink_recovered'));
    await p.processor.forceFlush();
    const recovered = p.warnings.find((w) => w.code === 'sink_recovered')!.message;
    const sealed = sink.records.filter((r) => r.record.action === 'records_dropped').reduce((n, r) => n + ((r.record.details as { count: number }).count), 0);
    expect(sealed).toBeGreaterThan(0);
    expect(recovered).toContain(`${sealed} record(s) were dropped meanwhile`);
    await p.provider.shutdown();
  });
});
