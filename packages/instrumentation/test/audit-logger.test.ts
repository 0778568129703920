/**
 * The explicit API against the real processor over an in-memory sink:
 * receipts once durable, early validation, seed aliases, trace context, and
 * each helper's record.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context } from '@opentelemetry/api';
import { RecordValidationError } from '@otel-audit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../processor/src/index.js';
import type { StoredRecord } from './helpers.js';
import { AuditPipelineMissingError, AuditReceiptTimeoutError, createAuditLogger, type AuditLogger } from '../src/index.js';

let sink: InMemoryAuditSink;
let provider: LoggerProvider;
let audit: AuditLogger;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  sink = new InMemoryAuditSink();
  const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'test/explicit', flushIntervalMillis: 5 });
  provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  audit = createAuditLogger({ loggerProvider: provider });
});

afterAll(async () => {
  await provider.shutdown();
});

function byId(id: string): StoredRecord {
  const r = sink.records.find((x) => x.record.id === id);
  if (r === undefined) throw new Error(`record ${id} not in the sink`);
  return r.record;
}

describe('createAuditLogger', () => {
  it('log() resolves with the receipt once the sink committed the record', async () => {
    const receipt = await audit.log({ type: 'admin', action: 'export', outcome: 'success', actor: { id: 'alice' }, details: { rows: 3 } });
    expect(receipt).toMatchObject({ stream: 'test/explicit' });
    expect(receipt.hash).toMatch(/^[0-9a-f]{64}$/);
    const stored = sink.records.find((r) => r.record.id === receipt.id)!;
    expect(stored.record.seq).toBe(receipt.seq);
    expect(stored.hash).toBe(receipt.hash);
    expect(stored.record).toMatchObject({ type: 'admin', action: 'export', actor: { id: 'alice' }, details: { rows: 3 } });
  });

  it('concurrent log() calls each get their own receipt, in order', async () => {
    const receipts = await Promise.all(Array.from({ length: 20 }, (_, i) => audit.log({ type: 'api', action: 'view', details: { i } })));
    const seqs = receipts.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(20);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('rejects an invalid event early with the pointer of the offending value, and stores nothing', async () => {
    const before = sink.records.length;
    const err = await audit.log({ type: 'api', action: 'view', details: { n: Number.NaN } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordValidationError);
    expect((err as RecordValidationError).pointer).toBe('/details/n');
    await expect(audit.log({ type: 'api', action: 'view', outcome: 'maybe' })).rejects.toThrow(/outcome/);
    await expect(audit.log({ action: 'view' })).rejects.toThrow(/type/);
    await expect(audit.log(null as never)).rejects.toThrow(TypeError);
    expect(() => audit.logNowait({ type: 'api', action: 'view', details: { f: () => 1 } })).toThrow(RecordValidationError);
    await provider.forceFlush();
    expect(sink.records.length).toBe(before);
  });

  it('an event spread from client JSON with "__proto__" is refused by name, never read through a forged prototype; in details it is data', async () => {
    const before = sink.records.length;
    const client = JSON.parse('{"__proto__":{"outcome":"success","actor":{"id":"admin"}}}') as object;
    const err = await audit.log({ type: 'auth', action: 'login', outcome: 'failure', ...client }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordValidationError);
    expect((err as RecordValidationError).pointer).toBe('/__proto__');
    const actor = JSON.parse('{"id":"bob","__proto__":{"type":"service"}}') as { id: string };
    await expect(audit.log({ type: 'api', action: 'view', actor })).rejects.toThrow(/actor\/__proto__/);
    await provider.forceFlush();
    expect(sink.records.length).toBe(before);
    const r = await audit.log({ type: 'api', action: 'view', details: JSON.parse('{"__proto__":{"x":1}}') as object });
    expect(Object.getOwnPropertyDescriptor(byId(r.id).details, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('log() takes a string actor as the actor id, as the helpers do', async () => {
    const r = await audit.log({ type: 'crud', action: 'view', actor: 'bob', actor_type: 'user' });
    expect(byId(r.id)).toMatchObject({ actor: { id: 'bob', type: 'user' } });
    await expect(audit.log({ type: 'crud', action: 'view', actor: ['bob'] as never })).rejects.toThrow(/event\.actor must be an object or the actor id; got an array/);
  });

  it('accepts the seed field names as aliases', async () => {
    const r = await audit.log({
      event_type: 'crud', event_action: 'update', event_result: 'success',
      actor_id: 'u1', actor_type: 'user', actor_ip: '10.1.2.3', actor_user_agent: 'seed/1',
      target_type: 'invoice', target_id: 42, target_name: 'INV-42',
      request_id: 'req-1', session_id: 'sess-1', api_endpoint: '/api/invoices/42', http_method: 'PUT',
      error_message: undefined, old_values: { amount: 1 }, new_values: { amount: 2 }, details: { via: 'seed' },
    });
    expect(byId(r.id)).toMatchObject({
      type: 'crud', action: 'update', outcome: 'success',
      actor: { id: 'u1', type: 'user', ip: '10.1.2.3', user_agent: 'seed/1' },
      target: { type: 'invoice', id: '42', name: 'INV-42' },
      request: { id: 'req-1', session_id: 'sess-1', endpoint: '/api/invoices/42', method: 'PUT' },
      old: { amount: 1 }, new: { amount: 2 }, details: { via: 'seed' },
    });
  });

  it('refuses a member given under both names with different values', async () => {
    await expect(audit.log({ type: 'auth', event_type: 'crud', action: 'x' })).rejects.toThrow(RecordValidationError);
    await expect(audit.log({ type: 'auth', action: 'x', actor: { id: 'a' }, actor_id: 'b' })).rejects.toThrow(/actor_id/);
  });

  it('an alias conflict rejects like any invalid event: RecordValidationError, code AUDIT_RECORD_INVALID, the pointer of the canonical member; logNowait throws it', async () => {
    const before = sink.records.length;
    const err = await audit.log({ event_type: 'auth', type: 'other', action: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordValidationError);
    expect(err).toMatchObject({ code: 'AUDIT_RECORD_INVALID', pointer: '/type' });
    expect((err as Error).message).toBe('/type: event.event_type ("auth") disagrees with event.type ("other"): give one of them');
    await expect(audit.log({ type: 'auth', action: 'x', actor: { id: 'a' }, actor_id: 'b' })).rejects.toMatchObject({ code: 'AUDIT_RECORD_INVALID', pointer: '/actor/id' });
    expect(() => audit.logNowait({ event_type: 'auth', type: 'other', action: 'x' })).toThrow(RecordValidationError);
    await provider.forceFlush();
    expect(sink.records.length).toBe(before);
  });

  it('errors thrown to the caller never quote a credential: alias conflicts, bad member names and values', async () => {
    const gh = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const messages = async (event: Parameters<AuditLogger['log']>[0]) => audit.log(event).then(() => 'resolved', (e: Error) => `${e.name}: ${e.message}\n${e.stack ?? ''}`);
    const sess = await messages({ type: 'auth', action: 'x', session_id: 'opaque-session-value-1', request: { session_id: 'other' } });
    expect(sess).toMatch(/^RecordValidationError: \/request\/session_id: event\.session_id \(a session id of 22 characters\) disagrees with event\.request\.session_id/);
    expect(sess).not.toContain('opaque-session-value-1');
    const err = await messages({ type: 'auth', action: 'x', error_message: 'login failed password=hunter2', error: 'other' });
    expect(err).toMatch(/^RecordValidationError: \/error: event\.error_message \("login failed password=\*\*\*"\) disagrees with event\.error \("other"\)/);
    const name = await messages({ type: 'api', action: 'x', details: { [gh]: 2n ** 64n } });
    expect(name).toMatch(/^RecordValidationError: \/details\/ghp_\*\*\*: BigInt outside the safe-integer range/);
    const time = await messages({ type: 'api', action: 'x', time: gh });
    expect(time).toMatch(/^RecordValidationError: \/time: .*got "ghp_\*\*\*"/);
    await expect(audit.log({ type: 'api', action: 'x', time: gh })).rejects.toMatchObject({ pointer: '/time', code: 'AUDIT_RECORD_INVALID' });
    for (const m of [sess, err, name, time]) expect(m).not.toMatch(/hunter2|ghp_0123/);
  });

  it('merges defaults under each event', async () => {
    const a = createAuditLogger({ loggerProvider: provider, defaults: { actor: { type: 'service', id: 'billing' }, details: { env: 'test' } } });
    const r = await a.log({ type: 'system', action: 'job', actor: { ip: '10.0.0.1' } });
    expect(byId(r.id)).toMatchObject({ actor: { id: 'billing', type: 'service', ip: '10.0.0.1' }, details: { env: 'test' } });
  });

  it('takes the active span trace context', async () => {
    const tp = new BasicTracerProvider();
    const tracer = tp.getTracer('t');
    const span = tracer.startSpan('op');
    const r = await context.with(trace.setSpan(context.active(), span), () => audit.log({ type: 'api', action: 'view' }));
    span.end();
    expect(byId(r.id).request).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    const id = context.with(trace.setSpan(context.active(), span), () => audit.logNowait({ type: 'api', action: 'view' }));
    await provider.forceFlush();
    await new Promise((res) => setTimeout(res, 50));
    expect(byId(id).request?.trace_id).toBe(span.spanContext().traceId);
  });

  it('login, logout', async () => {
    const ok = await audit.login({ actor: 'alice', reason: 'password' });
    const bad = await audit.login({ actor: { id: 'mallory' }, outcome: 'failure', reason: 'bad password' });
    const out = await audit.logout({ actor: 'alice' });
    expect(byId(ok.id)).toMatchObject({ type: 'auth', action: 'login', outcome: 'success', severity: 'info', actor: { id: 'alice', type: 'user' }, details: { reason: 'password' } });
    expect(byId(bad.id)).toMatchObject({ type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', details: { reason: 'bad password' } });
    expect(byId(out.id)).toMatchObject({ type: 'auth', action: 'logout', outcome: 'success' });
  });

  it('authorize records the decision and the policy', async () => {
    const deny = await audit.authorize({ actor: 'bob', action: 'delete', target: { type: 'project', id: 'p1' }, decision: 'deny', policy: 'rbac:owner-only', reason: 'not owner' });
    const allow = await audit.authorize({ actor: 'carol', action: 'view', target: { type: 'project', id: 'p1' }, decision: 'allow' });
    expect(byId(deny.id)).toMatchObject({ type: 'access', action: 'delete', outcome: 'failure', severity: 'warning', details: { decision: 'deny', policy: 'rbac:owner-only', reason: 'not owner' } });
    expect(byId(allow.id)).toMatchObject({ outcome: 'success', severity: 'info', details: { decision: 'allow' } });
    await expect(audit.authorize({ actor: 'x', action: 'y', decision: 'maybe' as never })).rejects.toThrow(RangeError);
  });

  it('change computes create, update (changed fields only) and delete', async () => {
    const target = { type: 'user', id: 'u7' };
    const c = await audit.change({ actor: 'admin', target, new: { name: 'Ann', role: 'dev' } });
    const u = await audit.change({ actor: 'admin', target, old: { name: 'Ann', role: 'dev', tags: ['a'] }, new: { name: 'Ann', role: 'admin', tags: ['a'], team: 'x' } });
    const d = await audit.change({ actor: 'admin', target, old: { name: 'Ann' } });
    expect(byId(c.id)).toMatchObject({ type: 'crud', action: 'create', outcome: 'success', new: { name: 'Ann', role: 'dev' } });
    expect(byId(c.id)).not.toHaveProperty('old');
    const ur = byId(u.id);
    expect(ur).toMatchObject({ action: 'update', old: { role: 'dev' }, new: { role: 'admin', team: 'x' }, details: { changed: ['role', 'team'] } });
    expect(ur.old).not.toHaveProperty('name');
    expect(byId(d.id)).toMatchObject({ action: 'delete', old: { name: 'Ann' } });
    await expect(audit.change({ target })).rejects.toThrow(/old and new/);
  });

  it('access, security, rateLimited', async () => {
    const a = await audit.access({ actor: 'dan', target: { type: 'report', id: 'r1' } });
    const s = await audit.security({ action: 'suspicious_login', actor: 'eve', details: { country: 'XX' } });
    const rl = await audit.rateLimited({ actor: { ip: '198.51.100.7', type: 'anonymous' }, limit: 100, windowMillis: 60_000 });
    expect(byId(a.id)).toMatchObject({ type: 'access', action: 'view', outcome: 'success', target: { type: 'report', id: 'r1' } });
    expect(byId(s.id)).toMatchObject({ type: 'security', action: 'suspicious_login', severity: 'warning' });
    expect(byId(rl.id)).toMatchObject({ type: 'security', action: 'rate_limit', outcome: 'failure', severity: 'warning', details: { limit: 100, window_ms: 60_000 } });
  });

  it('rejects at once with AuditPipelineMissingError when no audit processor receives the record, naming the fix; logNowait says it once on diag', async () => {
    const bare = createAuditLogger({ loggerProvider: new LoggerProvider() });
    const started = Date.now();
    const err = await bare.log({ type: 'api', action: 'view' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000); // not the 60 s receipt timeout
    expect(err).toBeInstanceOf(AuditPipelineMissingError);
    expect((err as AuditPipelineMissingError).code).toBe('AUDIT_NO_PIPELINE');
    expect((err as Error).message).toMatch(/no audit processor received audit record .*node --import @otel-audit\/node\/register/);
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    try {
      bare.logNowait({ type: 'api', action: 'view' });
      bare.logNowait({ type: 'api', action: 'view' });
      await new Promise((r) => setImmediate(r));
    } finally {
      diag.disable();
    }
    expect(warnings.filter((w) => w.includes('no audit processor received'))).toHaveLength(1);
  });

  it('a script that awaits log() without the audit pipeline ends with that error, not silently (exit 13)', () => {
    const script = "import { createAuditLogger } from '@otel-audit/instrumentation'; await createAuditLogger().login({ actor: 'alice', outcome: 'failure' });";
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/AuditPipelineMissingError: no audit processor received audit record/);
  });

  it('rejects with AuditReceiptTimeoutError when the audit processor does not settle the receipt in time', async () => {
    const stuck = { name: 'stuck', append: () => new Promise<void>(() => undefined), head: async () => undefined };
    const processor = new AuditLogRecordProcessor({ sinks: [stuck], stream: 'test/stuck', flushIntervalMillis: 5 });
    await processor.ready();
    const slow = createAuditLogger({ loggerProvider: new LoggerProvider({ processors: [processor] }), receiptTimeoutMillis: 30 });
    await expect(slow.log({ type: 'api', action: 'view' })).rejects.toBeInstanceOf(AuditReceiptTimeoutError);
  });

  it('rejects misuse of options with the argument named', () => {
    expect(() => createAuditLogger({ receiptTimeoutMillis: -1 })).toThrow(/receiptTimeoutMillis/);
    expect(() => createAuditLogger({ loggerProvider: {} as never })).toThrow(/loggerProvider/);
  });
});

describe('awaited records and the flush interval', () => {
  it('an awaited log() commits at once, concurrent ones in one batch; logNowait() waits for the flush interval', async () => {
    const slowSink = new InMemoryAuditSink();
    // A flush interval far longer than the test's timeout: only the awaited path can finish in time.
    const processor = new AuditLogRecordProcessor({ sinks: [slowSink], stream: 'test/awaited', flushIntervalMillis: 600_000 });
    const lp = new LoggerProvider({ processors: [processor] });
    try {
      await processor.ready();
      const logger = createAuditLogger({ loggerProvider: lp });
      const appendsBefore = slowSink.appends;
      const receipts = await Promise.all(Array.from({ length: 5 }, (_, i) => logger.log({ type: 'api', action: 'view', details: { i } })));
      expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5].map((n) => receipts[0]!.seq + n - 1));
      expect(slowSink.appends - appendsBefore).toBe(1);

      const id = logger.logNowait({ type: 'api', action: 'view' });
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(slowSink.records.some((r) => r.record.id === id)).toBe(false);
      await processor.forceFlush();
      expect(slowSink.records.some((r) => r.record.id === id)).toBe(true);
    } finally {
      await lp.shutdown();
    }
  });
});
