import { afterEach, describe, expect, it } from 'vitest';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createRecordId, requestReceipt, type AuditReceipt } from '@otel-audit/core';
import {
  AuditLogRecordProcessor,
  AuditRecordRejectedError,
  AuditShutdownError,
  InMemoryAuditSink,
  ATTR_AUDIT_RECORD_HASH,
  ATTR_AUDIT_SEQUENCE_NUMBER,
  ATTR_AUDIT_STREAM,
} from '../src/index.js';
import { KEYS, setup, tick, until, verifySink } from './helpers.js';

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function withDownstream(options: Parameters<typeof setup>[0] = {}) {
  const sink = new InMemoryAuditSink();
  const processor = new AuditLogRecordProcessor({ stream: 'test/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20, ...options });
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
  providers.push(provider);
  return { sink, processor, exporter, provider, audit: provider.getLogger('otel-audit'), app: provider.getLogger('app') };
}

describe('AuditLogRecordProcessor: sealing in onEmit', () => {
  it('10,000 concurrent awaited records from interleaved producers: contiguous seq, receipts match the sink, stream and checkpoints verify', async () => {
    const { sink, processor, provider, logger } = setup({ checkpointEveryRecords: 1000 });
    providers.push(provider);
    await processor.ready();
    const producers = 50;
    const perProducer = 200;
    const produce = async (p: number): Promise<AuditReceipt[]> => {
      const out: AuditReceipt[] = [];
      const pending: Promise<AuditReceipt>[] = [];
      for (let i = 0; i < perProducer; i++) {
        const body = { type: 'crud', action: 'update', outcome: 'success', actor: { id: `user-${p}` }, details: { i, p } };
        pending.push(requestReceipt(body));
        logger.emit({ body });
        if (i % 7 === p % 7) await tick(); // interleave producers
      }
      for (const r of pending) out.push(await r);
      return out;
    };
    const receipts = (await Promise.all(Array.from({ length: producers }, (_, p) => produce(p)))).flat();
    expect(receipts).toHaveLength(10_000);
    const bySeq = new Map(sink.records.map((r) => [r.record.seq, r]));
    for (const r of receipts) {
      const stored = bySeq.get(r.seq)!;
      expect(stored.record.id).toBe(r.id);
      expect(stored.hash).toBe(r.hash);
      expect(stored.record.stream).toBe('test/1');
    }
    expect(new Set(receipts.map((r) => r.seq)).size).toBe(10_000);
    await provider.shutdown();
    const seqs = sink.records.map((r) => r.record.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i)); // contiguous, in order, from 0
    const report = verifySink(sink);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.records).toBe(sink.records.length);
    // one checkpoint per 1000 records plus the final one, all signed and matching
    expect(report.streams[0]!.checkpoints.verified).toBe(sink.checkpoints.length);
    expect(sink.checkpoints.length).toBeGreaterThanOrEqual(11);
    expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(sink.records.length);
    expect(report.warnings).toBe(0); // no unsigned tail: the final checkpoint covers everything
  });

  it('writes the §4.6 form onto the outgoing record: event name, severity, canonical body, search attributes, trace ids', async () => {
    const { sink, processor, exporter, audit } = withDownstream();
    await processor.ready();
    const id = createRecordId();
    const body = { id, type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', actor: { id: 'alice', type: 'user', ip: '10.0.0.1' }, target: { type: 'account', id: '7' } };
    const receipt = requestReceipt(body);
    audit.emit({ body, attributes: { 'http.request.method': 'POST', 'url.path': '/auth/login', 'http.response.status_code': 401 } });
    const r = await receipt;
    const out = exporter.getFinishedLogRecords().find((x) => x.attributes['audit.record.id'] === id)!;
    expect(out.eventName).toBe('audit.auth.login');
    expect(out.severityNumber).toBe(SeverityNumber.WARN);
    expect(out.severityText).toBe('warning');
    const stored = sink.records.find((x) => x.record.id === id)!;
    expect(out.body).toBe(stored.canonical);
    expect(out.attributes).toMatchObject({
      'audit.actor.id': 'alice',
      'audit.actor.type': 'user',
      'audit.action': 'login',
      'audit.outcome': 'failure',
      'audit.target.type': 'account',
      'audit.target.id': '7',
      [ATTR_AUDIT_SEQUENCE_NUMBER]: r.seq,
      'audit.prev.hash': stored.record.prev,
      [ATTR_AUDIT_RECORD_HASH]: r.hash,
      [ATTR_AUDIT_STREAM]: 'test/1',
      'client.address': '10.0.0.1',
      'enduser.id': 'alice',
      'http.request.method': 'POST',
      'url.path': '/auth/login',
      'http.response.status_code': 401,
    });
    expect(stored.record.request).toEqual({ endpoint: '/auth/login', method: 'POST' });
  });

  it('builds the event from audit.* attributes, the severity number and the span context when the body is not an object', async () => {
    const { sink, processor, audit } = withDownstream();
    await processor.ready();
    const { context, trace, TraceFlags } = await import('@opentelemetry/api');
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    audit.emit({
      body: 'role granted',
      severityNumber: SeverityNumber.ERROR,
      context: trace.setSpanContext(context.active(), spanContext),
      attributes: { 'audit.type': 'admin', 'audit.action': 'grant', 'audit.outcome': 'success', 'enduser.id': 'bob', 'audit.target.type': 'role', 'audit.target.name': 'admin' },
    });
    await processor.forceFlush();
    const r = sink.records.at(-1)!.record;
    expect(r).toMatchObject({ type: 'admin', action: 'grant', outcome: 'success', severity: 'error', actor: { id: 'bob' }, target: { type: 'role', name: 'admin' }, details: { message: 'role granted' } });
    expect(r.request).toEqual({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
  });

  it('leaves non-audit records untouched and does not seal them', async () => {
    const { sink, processor, exporter, app } = withDownstream();
    await processor.ready();
    const body = { password: 'not an audit record' };
    app.emit({ body, eventName: 'app.event', severityNumber: SeverityNumber.INFO, attributes: { token: 'x', 'audit.type': 'auth' } });
    await processor.forceFlush();
    const out = exporter.getFinishedLogRecords().find((x) => x.instrumentationScope.name === 'app')!;
    expect(out.body).toBe(body);
    expect(out.body).toEqual({ password: 'not an audit record' });
    expect(out.attributes).toEqual({ token: 'x', 'audit.type': 'auth' });
    expect(out.eventName).toBe('app.event');
    expect(sink.records.map((r) => r.record.action)).toEqual(['stream_started']);
  });

  it('selects with a predicate when given', async () => {
    const { sink, processor, audit, app } = withDownstream({ select: (r) => r.eventName?.startsWith('audit.') === true });
    await processor.ready();
    app.emit({ eventName: 'audit.x', body: { type: 'api', action: 'call' } });
    audit.emit({ eventName: 'other', body: { type: 'api', action: 'ignored' } });
    await processor.forceFlush();
    expect(sink.records.map((r) => r.record.action)).toEqual(['stream_started', 'call']);
  });

  it('turns an invalid event into an error-outcome record_rejected record and rejects its receipt with the pointer', async () => {
    const { sink, processor, exporter, audit } = withDownstream();
    await processor.ready();
    const body = { type: 'auth', action: 'login', outcome: 'maybe', details: { n: 1 } };
    const receipt = requestReceipt(body);
    audit.emit({ body });
    const err = await receipt.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditRecordRejectedError);
    expect((err as AuditRecordRejectedError).pointer).toBe('/outcome');
    expect((err as AuditRecordRejectedError).code).toBe('AUDIT_RECORD_REJECTED');
    await processor.forceFlush();
    const rejected = sink.records.at(-1)!.record;
    expect(rejected).toMatchObject({ type: 'system', action: 'record_rejected', outcome: 'error', severity: 'error', details: { pointer: '/outcome' } });
    expect(rejected.id).toBe((err as AuditRecordRejectedError).rejectionId);
    expect(rejected.error).toMatch(/\/outcome: must be one of success, failure, error, unknown/);
    // the live record became the rejection record
    expect(exporter.getFinishedLogRecords().at(-1)!.eventName).toBe('audit.system.record_rejected');
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });

  it('a record refused for one bad member still says who did what, where: the valid actor, target, request and attempted type/action are kept', async () => {
    const { sink, processor, audit } = withDownstream();
    await processor.ready();
    const body = {
      type: 'crud', action: 'delete', outcome: 'success',
      actor: { id: 'alice', type: 'user', ip: '10.0.0.7' },
      target: { type: 'invoice', id: 'inv-9' },
      request: { id: 'req-42', endpoint: '/api/invoices/inv-9', method: 'DELETE' },
      details: { when: 10n }, // a BigInt: not JSON
      severity: 'loud', // and not a severity
    };
    audit.emit({ body: body as never });
    await processor.forceFlush();
    const rejected = sink.records.at(-1)!.record;
    expect(rejected).toMatchObject({
      type: 'system', action: 'record_rejected', outcome: 'error',
      actor: { id: 'alice', type: 'user', ip: '10.0.0.7' },
      target: { type: 'invoice', id: 'inv-9' },
      request: { id: 'req-42', endpoint: '/api/invoices/inv-9', method: 'DELETE' },
      details: { attempted: { type: 'crud', action: 'delete', outcome: 'success' } },
    });
    // An invalid actor is left out rather than refusing the rejection record itself.
    audit.emit({ body: { type: 'auth', action: 'login', actor: { id: 'bob', type: 'user', shoe_size: 44 } } as never });
    await processor.forceFlush();
    const second = sink.records.at(-1)!.record;
    expect(second).toMatchObject({ action: 'record_rejected', details: { pointer: '/actor/shoe_size', attempted: { type: 'auth', action: 'login' } } });
    expect(second).not.toHaveProperty('actor');
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });

  it('snapshots: mutating the body after emit changes nothing that was hashed', async () => {
    const { sink, processor, audit } = withDownstream();
    await processor.ready();
    const details = { amount: 5 };
    audit.emit({ body: { type: 'crud', action: 'update', details } });
    details.amount = 500;
    await processor.forceFlush();
    expect(sink.records.at(-1)!.record.details).toEqual({ amount: 5 });
    expect(verifySink(sink).streams[0]!.errors).toBe(0);
  });
});

describe('AuditLogRecordProcessor: streams and lifecycle', () => {
  it('two processors for two streams in one process, each verifying on its own', async () => {
    const sinkA = new InMemoryAuditSink();
    const sinkB = new InMemoryAuditSink();
    const a = new AuditLogRecordProcessor({ stream: 'svc-a/1', sinks: [sinkA], signerKey: KEYS.signerKey, flushIntervalMillis: 10 });
    const b = new AuditLogRecordProcessor({ stream: 'svc-b/1', sinks: [sinkB], signerKey: KEYS.signerKey, flushIntervalMillis: 10, scopeName: 'otel-audit-b' });
    const provider = new LoggerProvider({ processors: [a, b] });
    await Promise.all([a.ready(), b.ready()]);
    const la = provider.getLogger('otel-audit');
    const lb = provider.getLogger('otel-audit-b');
    for (let i = 0; i < 100; i++) {
      la.emit({ body: { type: 'api', action: 'a', details: { i } } });
      lb.emit({ body: { type: 'api', action: 'b', details: { i } } });
    }
    await provider.shutdown();
    expect(sinkA.records.filter((r) => r.record.action === 'a')).toHaveLength(100);
    expect(sinkB.records.filter((r) => r.record.action === 'b')).toHaveLength(100);
    expect(new Set(sinkA.records.map((r) => r.record.stream))).toEqual(new Set(['svc-a/1']));
    expect(new Set(sinkB.records.map((r) => r.record.stream))).toEqual(new Set(['svc-b/1']));
    expect(verifySink(sinkA).ok).toBe(true);
    expect(verifySink(sinkB).ok).toBe(true);
  });

  it('resumes after a simulated restart: same stream, next seq, same tree; verifies end to end', async () => {
    const sink = new InMemoryAuditSink();
    const first = setup({ sinks: [sink], stream: 'billing/1' });
    await first.processor.ready();
    for (let i = 0; i < 30; i++) first.logger.emit({ body: { type: 'crud', action: 'create', details: { i } } });
    await first.provider.shutdown();
    const sizeBefore = sink.records.length;
    sink.reopen();
    const second = setup({ sinks: [sink], stream: 'billing/1' });
    providers.push(second.provider);
    await second.processor.ready();
    await second.processor.forceFlush();
    expect(sink.records[sizeBefore]!.record).toMatchObject({ seq: sizeBefore, action: 'pipeline_started', details: { resumed_at_seq: sizeBefore - 1 } });
    const body = { type: 'crud', action: 'delete' };
    const receipt = requestReceipt(body);
    second.logger.emit({ body });
    expect((await receipt).seq).toBe(sizeBefore + 1);
    await second.provider.shutdown();
    expect(sink.records.filter((r) => r.record.action === 'stream_started')).toHaveLength(1);
    const report = verifySink(sink);
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(1);
    expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(sink.records.length);
  });

  it('refuses a stream id core would refuse at construction (it used to leave ready() unsettled for ever)', () => {
    expect(() => new AuditLogRecordProcessor({ stream: 'evil\n999', sinks: [new InMemoryAuditSink()] })).toThrow(/options.stream "evil\\n999" is not a valid stream id: .*one line/);
    expect(() => new AuditLogRecordProcessor({ stream: ' padded', sinks: [new InMemoryAuditSink()] })).toThrow(RangeError);
  });

  it('starts a new stream with stream_started naming the previous one; default stream id is service.name/instance', async () => {
    const sink = new InMemoryAuditSink();
    const processor = new AuditLogRecordProcessor({ sinks: [sink], previousStream: 'billing/0', flushIntervalMillis: 10 });
    const provider = new LoggerProvider({ processors: [processor], resource: resourceFromAttributes({ 'service.name': 'billing', 'service.instance.id': 'pod-7' }) });
    providers.push(provider);
    provider.getLogger('otel-audit').emit({ body: { type: 'auth', action: 'login' } });
    await processor.ready();
    await processor.forceFlush();
    expect(processor.stream).toBe('billing/pod-7');
    expect(sink.records[0]!.record).toMatchObject({ seq: 0, type: 'system', action: 'stream_started', stream: 'billing/pod-7', details: { previous_stream: 'billing/0' } });
    expect(sink.records[1]!.record).toMatchObject({ seq: 1, action: 'login' });
  });

  it('records emitted before the head is known are snapshotted, travel as audit.pending, and are sealed in emit order', async () => {
    const { sink, processor, exporter, audit } = withDownstream();
    const receipts: Promise<AuditReceipt>[] = [];
    const details = { v: 1, secret: 's3cr3t-value' };
    for (let i = 0; i < 5; i++) {
      const body = { type: 'api', action: `early${i}`, details: i === 0 ? details : { i } };
      receipts.push(requestReceipt(body));
      audit.emit({ body });
    }
    details.v = 2;
    const early = exporter.getFinishedLogRecords();
    expect(early.map((r) => r.eventName)).toEqual(Array(5).fill('audit.pending'));
    expect(JSON.stringify(early.map((r) => r.body))).not.toContain('s3cr3t-value');
    const done = await Promise.all(receipts);
    expect(done.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    await processor.forceFlush();
    expect(sink.records[1]!.record.details).toEqual({ secret: '[REDACTED]', v: 1 });
    expect(sink.records.slice(1, 6).map((r) => r.record.action)).toEqual(['early0', 'early1', 'early2', 'early3', 'early4']);
  });

  it('forceFlush resolves only when every sink has committed what came before it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class SlowSink extends InMemoryAuditSink {
      override async append(batch: Parameters<InMemoryAuditSink['append']>[0]) {
        await gate;
        return super.append(batch);
      }
    }
    const fast = new InMemoryAuditSink({ name: 'fast' });
    const slow = new SlowSink({ name: 'slow' });
    const { processor, logger, provider } = setup({ sinks: [fast, slow] });
    providers.push(provider);
    await processor.ready();
    for (let i = 0; i < 10; i++) logger.emit({ body: { type: 'api', action: 'x' } });
    let flushed = false;
    const flush = processor.forceFlush().then(() => (flushed = true));
    await until(() => fast.records.length === 11);
    await tick(20);
    expect(flushed).toBe(false);
    release();
    await flush;
    expect(slow.records.length).toBe(11);
  });

  it('shutdown is idempotent, writes pipeline_stopped and a final checkpoint, and later records are refused without throwing', async () => {
    const { sink, processor, provider, logger } = setup();
    await processor.ready();
    logger.emit({ body: { type: 'api', action: 'x' } });
    const p1 = processor.shutdown();
    const p2 = processor.shutdown();
    expect(p1).toBe(p2);
    await p1;
    await provider.shutdown();
    expect(sink.records.at(-1)!.record.action).toBe('pipeline_stopped');
    expect(sink.checkpoints.at(-1)!.size).toBe(sink.records.length);
    const body = { type: 'api', action: 'late' };
    const receipt = requestReceipt(body);
    const { diag } = await import('@opentelemetry/api');
    void diag;
    expect(() => processor.onEmit({ instrumentationScope: { name: 'otel-audit' }, body, attributes: {}, hrTime: [0, 0] } as never)).not.toThrow();
    await expect(receipt).rejects.toBeInstanceOf(AuditShutdownError);
  });

  it('checkpoints on the timer when the tree grew, and not when it did not', async () => {
    const { sink, processor, provider, logger } = setup({ checkpointIntervalMillis: 30, checkpointEveryRecords: 1_000_000 });
    providers.push(provider);
    await processor.ready();
    logger.emit({ body: { type: 'api', action: 'x' } });
    await until(() => sink.checkpoints.length >= 1);
    await tick(100);
    await processor.forceFlush();
    const n = sink.checkpoints.length;
    expect(n).toBe(1);
    expect(sink.checkpoints[0]!.size).toBe(2);
    await tick(100);
    await processor.forceFlush();
    expect(sink.checkpoints.length).toBe(n);
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
    const { sink, processor, audit } = withDownstream({
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
