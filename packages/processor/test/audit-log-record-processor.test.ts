import { afterEach, describe, expect, it } from 'vitest';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createRecordId, requestReceipt, type AuditReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, AuditRecordRejectedError, AuditShutdownError, InMemoryAuditSink, ATTR_AUDIT_RECORD_HASH, ATTR_AUDIT_SEQUENCE_NUMBER, ATTR_AUDIT_STREAM } from '../src/index.js';
import { KEYS, setup, tick, until, verifySink, withDownstream } from './helpers.js';

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});


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
    const { sink, processor, exporter, audit } = withDownstream(providers);
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
    const { sink, processor, audit } = withDownstream(providers);
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
    const { sink, processor, exporter, app } = withDownstream(providers);
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
    const { sink, processor, audit, app } = withDownstream(providers, { select: (r) => r.eventName?.startsWith('audit.') === true });
    await processor.ready();
    app.emit({ eventName: 'audit.x', body: { type: 'api', action: 'call' } });
    audit.emit({ eventName: 'other', body: { type: 'api', action: 'ignored' } });
    await processor.forceFlush();
    expect(sink.records.map((r) => r.record.action)).toEqual(['stream_started', 'call']);
  });

  it('turns an invalid event into an error-outcome record_rejected record and rejects its receipt with the pointer', async () => {
    const { sink, processor, exporter, audit } = withDownstream(providers);
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
    const { sink, processor, audit } = withDownstream(providers);
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
    const { sink, processor, audit } = withDownstream(providers);
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
    const { sink, processor, exporter, audit } = withDownstream(providers);
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
});
