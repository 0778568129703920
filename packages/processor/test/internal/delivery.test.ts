import { afterEach, describe, expect, it } from 'vitest';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { requestReceipt, whenAuditCapacity, type AuditBatch, type AuditReceipt, type AuditSink } from '@otel-audit/core';
import { AuditLogRecordProcessor, AuditQueueFullError, InMemoryAuditSink, LogRecordExporterSink, METRIC_ATTR_DROP_REASON, METRIC_ATTR_SINK, METRIC_RECORDS_DROPPED, METRIC_SINK_ERRORS } from '../../src/index.js';
import { FlakySink, KEYS, tick, until, verifySink } from '../helpers.js';

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Sum of a counter's data points, only those carrying every attribute of `where` when given. */
async function counter(reader: TestReader, name: string, where: Record<string, string> = {}): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  let total = 0;
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const dp of (m as SumMetricData).dataPoints) if (Object.entries(where).every(([k, v]) => dp.attributes[k] === v)) total += dp.value;
    }
  }
  return total;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

function pipeline(sinks: AuditSink[], options: Partial<ConstructorParameters<typeof AuditLogRecordProcessor>[0]> = {}) {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const processor = new AuditLogRecordProcessor({
    stream: 'd/1', sinks, signerKey: KEYS.signerKey, flushIntervalMillis: 10, retryInitialMillis: 5, retryMaxMillis: 40, meterProvider, ...options,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  cleanup.push(() => provider.shutdown());
  return { processor, provider, logger: provider.getLogger('otel-audit'), reader };
}

describe('delivery', () => {
  it('a sink that fails for a while then recovers: nothing lost, order kept, receipts resolve after recovery', async () => {
    const sink = new FlakySink();
    const { processor, logger, reader } = pipeline([sink], { maxBatchSize: 7 });
    await processor.ready();
    sink.failing = true;
    const receipts: Promise<AuditReceipt>[] = [];
    let resolved = 0;
    for (let i = 0; i < 100; i++) {
      const body = { type: 'api', action: 'call', details: { i } };
      receipts.push(requestReceipt(body).then((r) => (resolved++, r)));
      logger.emit({ body });
    }
    await tick(150);
    expect(processor.primarySinkFailing).toBe(true);
    expect(resolved).toBe(0);
    expect(sink.records).toHaveLength(0);
    expect(sink.failures).toBeGreaterThan(2);
    sink.failing = false;
    const done = await Promise.all(receipts);
    expect(processor.primarySinkFailing).toBe(false);
    expect(done.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await processor.forceFlush();
    expect(sink.records.map((r) => r.record.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(sink.records.slice(1).map((r) => (r.record.details as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await counter(reader, METRIC_SINK_ERRORS)).toBe(sink.failures);
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });

  it('a primary that never recovers under drop: the gap record and the metric tell exactly how many were lost', async () => {
    const primary = new FlakySink({ name: 'primary' });
    const mirror = new InMemoryAuditSink({ name: 'mirror' });
    const { processor, logger, reader } = pipeline([primary, mirror], { overflow: 'drop', maxQueueSize: 20, checkpointIntervalMillis: 20, shutdownTimeoutMillis: 50 });
    await processor.ready();
    primary.failing = true;
    const outcomes = { ok: 0, full: 0, other: 0 };
    const settled: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      const body = { type: 'api', action: 'call', details: { i } };
      settled.push(requestReceipt(body).then(() => outcomes.ok++, (e) => (e instanceof AuditQueueFullError ? outcomes.full++ : outcomes.other++)));
      logger.emit({ body });
    }
    // 20 queue slots: stream_started + 19 records (+ checkpoints when due) are queued, the rest dropped.
    await until(() => mirror.records.some((r) => r.record.action === 'records_dropped'));
    const gap = mirror.records.find((r) => r.record.action === 'records_dropped')!;
    expect(gap).toBeDefined();
    const admitted = mirror.records.filter((r) => r.record.action === 'call').length;
    const dropped = await counter(reader, METRIC_RECORDS_DROPPED);
    expect(await counter(reader, METRIC_RECORDS_DROPPED, { [METRIC_ATTR_DROP_REASON]: 'queue_full' })).toBe(dropped);
    expect(admitted + dropped).toBe(100);
    expect(dropped).toBeGreaterThan(50);
    expect(gap.record.details).toMatchObject({ count: dropped, reason: 'queue_full', max_queue_size: 20 });
    expect(gap.record).toMatchObject({ type: 'system', outcome: 'failure', severity: 'error' });
    await processor.shutdown();
    await Promise.all(settled);
    expect(outcomes.full).toBe(dropped);
    expect(outcomes.other).toBe(admitted); // rejected at shutdown: never committed by the primary
    expect(primary.records).toHaveLength(0);
    // The loss does not break the chain: what the mirror holds verifies.
    const report = verifySink(mirror);
    expect(report.streams[0]!.errors).toBe(0);
  });

  /** An OTLP-like exporter that fails while `failing`: a LogRecordExporterSink over it accepts gaps. */
  class SwitchableExporter extends InMemoryLogRecordExporter {
    failing = false;
    override export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
      if (this.failing) done({ code: ExportResultCode.FAILED, error: new Error('collector down') });
      else super.export(logs, done);
    }
  }
  const seqOf = (r: ReadableLogRecord) => r.attributes['audit.sequence.number'] as number | undefined;

  it.each(['drop', 'block'] as const)('%s: a failing exporter sink skips what the primary committed instead of holding the queue full; the chain says so', async (overflow) => {
    const primary = new InMemoryAuditSink({ name: 'primary' });
    const exporter = new SwitchableExporter();
    const { processor, logger, reader } = pipeline([primary, new LogRecordExporterSink({ exporter, name: 'otlp' })], { overflow, maxQueueSize: 20, maxBatchSize: 5, checkpointIntervalMillis: 20 });
    await processor.ready();
    exporter.failing = true;
    const receipts: Promise<AuditReceipt>[] = [];
    for (let i = 0; i < 200; i++) {
      const body = { type: 'api', action: 'call', details: { i } };
      receipts.push(requestReceipt(body));
      logger.emit({ body });
      if (i % 10 === 9) await (whenAuditCapacity() ?? tick(1));
    }
    // Every record reached the primary: none was dropped for want of room.
    expect(await Promise.all(receipts)).toHaveLength(200);
    // The exporter recovers: it gets what came after; what it missed is exactly the skipped ranges.
    exporter.failing = false;
    await tick(60); // the skips of the last moments are sealed on the next tick (every 20 ms here)
    logger.emit({ body: { type: 'api', action: 'after' } });
    await processor.forceFlush();
    const calls = primary.records.filter((r) => r.record.action === 'call');
    expect(calls.map((r) => (r.record.details as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const skips = primary.records.filter((r) => r.record.action === 'records_dropped').map((r) => r.record.details as { count: number; first_seq: number; last_seq: number; sink: string; reason: string });
    expect(skips.every((d) => d.sink === 'otlp' && d.reason === 'sink_failing')).toBe(true);
    const skipped = skips.reduce((n, d) => n + d.count, 0);
    expect(skipped).toBeGreaterThan(100);
    expect(await counter(reader, METRIC_RECORDS_DROPPED)).toBe(skipped);
    expect(await counter(reader, METRIC_RECORDS_DROPPED, { [METRIC_ATTR_DROP_REASON]: 'sink_failing', [METRIC_ATTR_SINK]: 'otlp' })).toBe(skipped);
    const sent = new Set(exporter.getFinishedLogRecords().map(seqOf).filter((q) => q !== undefined));
    const missing = primary.records.map((r) => r.record.seq).filter((q) => !sent.has(q));
    const inRanges = new Set(skips.flatMap((d) => Array.from({ length: d.last_seq - d.first_seq + 1 }, (_, k) => d.first_seq + k)));
    expect(missing).toHaveLength(skipped);
    expect(missing.every((q) => inRanges.has(q))).toBe(true);
    expect(exporter.getFinishedLogRecords().some((r) => r.eventName === 'audit.system.records_dropped')).toBe(true);
    expect(exporter.getFinishedLogRecords().at(-1)!.eventName).toMatch(/^audit\.(api\.after|checkpoint)$/);
    expect(verifySink(primary).streams[0]!.errors).toBe(0);
  });

  it('skipping that would make no room does not happen: a failing store beside the failing exporter holds the queue, and the bound applies as before', async () => {
    const primary = new InMemoryAuditSink({ name: 'primary' });
    const mirror = new FlakySink({ name: 'mirror' });
    const exporter = new SwitchableExporter();
    const { processor, logger } = pipeline([primary, mirror, new LogRecordExporterSink({ exporter, name: 'otlp' })], { overflow: 'drop', maxQueueSize: 20, maxBatchSize: 5, checkpointIntervalMillis: 20 });
    await processor.ready();
    mirror.failing = true;
    exporter.failing = true;
    for (let i = 0; i < 100; i++) {
      logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
      if (i % 10 === 9) await tick(5);
    }
    await tick(200);
    mirror.failing = false;
    exporter.failing = false;
    await processor.forceFlush();
    const drops = primary.records.filter((r) => r.record.action === 'records_dropped').map((r) => (r.record.details as { reason: string }).reason);
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.every((reason) => reason === 'queue_full')).toBe(true);
    // The exporter was not skipped: it got the whole chain.
    const sent = exporter.getFinishedLogRecords().map(seqOf).filter((q) => q !== undefined);
    expect(sent).toEqual(primary.records.map((r) => r.record.seq));
  });

  it('a failing secondary store (no gaps allowed) is never skipped: it gets every record once it recovers', async () => {
    const primary = new InMemoryAuditSink({ name: 'primary' });
    const mirror = new FlakySink({ name: 'mirror' });
    const { processor, logger } = pipeline([primary, mirror], { overflow: 'drop', maxQueueSize: 20, maxBatchSize: 5 });
    await processor.ready();
    mirror.failing = true;
    for (let i = 0; i < 60; i++) logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    await until(() => mirror.failures > 2);
    mirror.failing = false;
    await until(() => mirror.records.some((r) => r.record.action === 'records_dropped'));
    await processor.forceFlush();
    // The queue bound applied to both (records dropped from the chain, counted), and the mirror holds the same chain as the primary.
    expect(mirror.records.map((r) => r.record.seq)).toEqual(primary.records.map((r) => r.record.seq));
    expect((mirror.records.find((r) => r.record.action === 'records_dropped')!.record.details as { reason: string }).reason).toBe('queue_full');
    expect(verifySink(mirror).streams[0]!.errors).toBe(0);
  });

  it('block: a full queue marks the pipeline congested for waiting producers, admits up to twice the bound, then drops with a gap record', async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    class GatedSink extends InMemoryAuditSink {
      override async append(batch: AuditBatch) {
        await gate;
        return super.append(batch);
      }
    }
    const sink = new GatedSink();
    const { processor, logger, reader } = pipeline([sink], { overflow: 'block', maxQueueSize: 10, maxBatchSize: 5 });
    await processor.ready();
    expect(whenAuditCapacity()).toBeUndefined();
    for (let i = 0; i < 12; i++) logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    const wait = whenAuditCapacity();
    expect(wait).toBeInstanceOf(Promise);
    for (let i = 12; i < 30; i++) logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
    // stream_started, the checkpoint over it and 18 admitted = 20 = 2 × maxQueueSize
    expect(await counter(reader, METRIC_RECORDS_DROPPED)).toBe(30 - 18);
    release();
    gate = Promise.resolve();
    await wait;
    expect(whenAuditCapacity()).toBeUndefined();
    await processor.forceFlush();
    const calls = sink.records.filter((r) => r.record.action === 'call');
    expect(calls).toHaveLength(18);
    const gap = sink.records.find((r) => r.record.action === 'records_dropped')!;
    expect(gap.record.details).toMatchObject({ count: 12 });
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });

  it('a full batch goes at once; a partial one after the flush interval', async () => {
    const sink = new InMemoryAuditSink();
    const { processor, logger } = pipeline([sink], { maxBatchSize: 10, flushIntervalMillis: 200 });
    await processor.ready();
    for (let i = 0; i < 8; i++) logger.emit({ body: { type: 'api', action: 'call' } });
    await tick(20);
    expect(sink.appends).toBe(1); // the first 10 items: stream_started, the checkpoint over it, and 8 records
    expect(sink.checkpoints).toHaveLength(1);
    for (let i = 0; i < 3; i++) logger.emit({ body: { type: 'api', action: 'call' } });
    await tick(50);
    expect(sink.records).toHaveLength(9);
    await until(() => sink.records.length === 12);
  });
});
