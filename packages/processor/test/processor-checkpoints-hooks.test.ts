/**
 * The processor's checkpoints on the timer and without a signer key, the
 * onSealed hook (alerts), the records it seals itself travelling
 * downstream, and misuse at construction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { createRecordId, unvouchedStreams } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../src/index.js';
import { setup, tick, until, verifySink, withDownstream } from './helpers.js';

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});


describe('AuditLogRecordProcessor: checkpoints, onSealed, its own records', () => {
  it('checkpoints on the timer when the tree grew, and not when it did not', async () => {
    const { sink, processor, provider, logger } = setup({ checkpointIntervalMillis: 30, checkpointEveryRecords: 1_000_000 });
    providers.push(provider);
    await processor.ready();
    logger.emit({ body: { type: 'api', action: 'x' } });
    await until(() => sink.checkpoints.length >= 2);
    await tick(100);
    await processor.forceFlush();
    const n = sink.checkpoints.length;
    // The new stream's first checkpoint covers its stream_started record at once; the timer's covers the record.
    expect(sink.checkpoints.map((c) => c.size)).toEqual([1, 2]);
    await tick(100);
    await processor.forceFlush();
    expect(sink.checkpoints.length).toBe(n);
  });

  it('a new stream is vouched for by a signed checkpoint before its first interval ends', async () => {
    // A verification run (cron) in the first seconds of a new stream must not find
    // records without any checkpoint, which reads as checkpoints deleted.
    const { sink, processor, provider, logger } = setup({ checkpointIntervalMillis: 60_000, checkpointEveryRecords: 1_000_000 });
    providers.push(provider);
    await processor.ready();
    logger.emit({ body: { type: 'api', action: 'x' } });
    await processor.forceFlush();
    const report = verifySink(sink);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints.verified).toBeGreaterThan(0);
    expect(unvouchedStreams(report, { ranged: false })).toEqual([]);
  });

  it('without a signer key and without onWarning, says so on stderr too (a process warning, once per process)', async () => {
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('@otel-audit/processor.unsigned-warning-said')];
    const warnings: (Error & { code?: string })[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on('warning', listener);
    try {
      for (const stream of ['u/2', 'u/3']) {
        const processor = new AuditLogRecordProcessor({ sinks: [new InMemoryAuditSink()], stream });
        await new LoggerProvider({ processors: [processor] }).shutdown();
      }
      await tick(10); // warnings are emitted on the next tick
    } finally {
      process.off('warning', listener);
    }
    const unsigned = warnings.filter((w) => w.code === 'OTEL_AUDIT_UNSIGNED_CHECKPOINTS');
    expect(unsigned).toHaveLength(1);
    expect(unsigned[0]!.message).toMatch(/no checkpoint signer key configured/);
  });

  it('without a signer key, warns once and writes unsigned checkpoints', async () => {
    const { diag, DiagLogLevel } = await import('@opentelemetry/api');
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    try {
      const sink = new InMemoryAuditSink();
      const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'u/1', flushIntervalMillis: 10 });
      const provider = new LoggerProvider({ processors: [processor] });
      await processor.ready();
      provider.getLogger('otel-audit').emit({ body: { type: 'api', action: 'x' } });
      await provider.shutdown();
      expect(warnings.filter((w) => w.includes('no checkpoint signer key'))).toHaveLength(1);
      expect(sink.checkpoints.at(-1)!.note).not.toContain('\u2014');
      // Verified without trusted keys (with keys, core reports an unsigned checkpoint as bad_signature).
      const report = verifySink(sink, false);
      expect(report.streams[0]!.checkpoints.verified).toBe(0);
      expect(report.streams[0]!.findings.map((f) => f.code), JSON.stringify(report.streams[0]!.findings)).toEqual(['unsigned_tail']);
    } finally {
      diag.disable();
    }
  });

  it('onSealed sees every record in seal order; the events it returns are sealed right after, in the same chain, without recursion', async () => {
    const seen: string[] = [];
    const { sink, processor, audit } = withDownstream(providers, {
      onSealed: (r) => {
        seen.push(`${r.seq}:${r.action}`);
        if (r.action === 'login' && r.outcome === 'failure') return [{ id: createRecordId(), time: r.time, type: 'alert', action: 'failed_login', severity: 'warning', details: { record: r.id } }];
        if (r.action === 'boom') throw new Error('hook failed');
        return undefined;
      },
    });
    await processor.ready();
    audit.emit({ body: { type: 'auth', action: 'login', outcome: 'failure' } });
    audit.emit({ body: { type: 'api', action: 'boom' } });
    audit.emit({ body: { type: 'api', action: 'after' } });
    await processor.forceFlush();
    expect(sink.records.map((r) => `${r.record.seq}:${r.record.type}/${r.record.action}`)).toEqual(['0:system/stream_started', '1:auth/login', '2:alert/failed_login', '3:api/boom', '4:api/after']);
    expect(seen).toEqual(['0:stream_started', '1:login', '3:boom', '4:after']);
    expect((sink.records[2]!.record.details as { record: string }).record).toBe(sink.records[1]!.record.id);
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });

  it('the records it seals itself travel downstream as LogRecords stamped with the record time', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const downstream = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const sink = new InMemoryAuditSink();
    const alertTime = '1767571200123456789';
    const processor = new AuditLogRecordProcessor({
      stream: 'test/1', sinks: [sink], logger: downstream.getLogger('otel-audit'),
      onSealed: (r) => (r.action === 'grant'
        ? [{ id: createRecordId(), time: alertTime, type: 'alert', action: 'privilege_escalation', severity: 'warning' }, { id: createRecordId(), time: '5', type: 'alert', action: 'early', severity: 'warning' }]
        : undefined),
    });
    const provider = new LoggerProvider({ processors: [processor] });
    providers.push(provider, downstream);
    await processor.ready();
    provider.getLogger('otel-audit').emit({ body: { type: 'admin', action: 'grant', time: '5' } });
    await processor.forceFlush();
    const alert = exporter.getFinishedLogRecords().find((r) => r.eventName === 'audit.alert.privilege_escalation');
    expect(alert?.hrTime).toEqual([1_767_571_200, 123_456_789]);
    expect(exporter.getFinishedLogRecords().find((r) => r.eventName === 'audit.alert.early')?.hrTime).toEqual([0, 5]);
    expect(alert?.attributes['audit.record.hash']).toBe(sink.records.find((r) => r.record.type === 'alert')!.hash);
  });

  it('refuses misuse at construction with TypeError/RangeError naming the option', () => {
    const sinks = [new InMemoryAuditSink()];
    expect(() => new AuditLogRecordProcessor(undefined as never)).toThrow(TypeError);
    expect(() => new AuditLogRecordProcessor({ sinks: [] })).toThrow(/options.sinks/);
    expect(() => new AuditLogRecordProcessor({ sinks: [{}] as never })).toThrow(/options.sinks\[0\]/);
    expect(() => new AuditLogRecordProcessor({ sinks, maxBatchSize: 0 })).toThrow(RangeError);
    expect(() => new AuditLogRecordProcessor({ sinks, overflow: 'lol' as never })).toThrow(/options.overflow/);
    expect(() => new AuditLogRecordProcessor({ sinks, alg: 'md5' as never })).toThrow(/options.alg/);
    expect(() => new AuditLogRecordProcessor({ sinks, signerKey: 'nope' })).toThrow();
    expect(() => new AuditLogRecordProcessor({ sinks, redaction: { mode: 'hmac' } })).toThrow(/hmacKey/);
    expect(() => new AuditLogRecordProcessor({ sinks, redaction: { pointers: ['/id'] } })).toThrow(/pointers\[0\]/);
  });
});
