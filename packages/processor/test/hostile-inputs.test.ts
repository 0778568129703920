import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { requestReceipt } from '@otel-audit/core';
import { AuditRecordRejectedError } from '../src/index.js';
import { HOSTILE_VALUES } from '../../core/test/hostile-inputs.js';
import { setup, verifySink } from './helpers.js';

const errors: Error[] = [];
beforeAll(() => setGlobalErrorHandler((e) => errors.push(e as Error)));
afterAll(() => setGlobalErrorHandler(() => undefined));

function hostileBodies(): { name: string; body: () => unknown }[] {
  return [
    { name: 'proxy whose ownKeys throws', body: () => new Proxy({}, { ownKeys() { throw new Error('boom'); } }) },
    { name: 'throwing getter', body: () => ({ type: 'api', get action(): string { throw new Error('getter'); } }) },
    { name: 'unknown member', body: () => ({ type: 'api', action: 'x', password: 'p' }) },
    { name: 'top-level cycle', body: () => { const b: Record<string, unknown> = { type: 'api', action: 'x' }; b.details = b; return b; } },
    { name: 'huge type', body: () => ({ type: 'x'.repeat(100_000), action: 'x' }) },
    { name: 'outcome with a split surrogate pair', body: () => ({ type: 'api', action: 'x', outcome: 'x'.repeat(39) + '\u{1F600}' }) },
    { name: 'array body', body: () => [1, 2, 3] },
    { name: 'bytes body', body: () => new Uint8Array([1, 2]) },
    { name: 'bad trace id', body: () => ({ type: 'api', action: 'x', request: { trace_id: 'zz' } }) },
    { name: 'bad id', body: () => ({ id: 'not-a-uuid', type: 'api', action: 'x' }) },
    { name: 'time in the future beyond 2^63', body: () => ({ type: 'api', action: 'x', time: 2n ** 64n }) },
  ];
}

describe('hostile producer input (core table) never crashes the host and never breaks the chain', () => {
  it('each hostile value under details is sealed as record_rejected naming its pointer; good records keep flowing', async () => {
    const { sink, processor, provider, logger } = setup();
    await processor.ready();
    for (const c of HOSTILE_VALUES) {
      const body = { type: 'api', action: 'call', details: c.value() };
      const receipt = requestReceipt(body);
      expect(() => logger.emit({ body: body as never }), c.name).not.toThrow();
      const err = await receipt.catch((e: unknown) => e);
      expect(err, c.name).toBeInstanceOf(AuditRecordRejectedError);
      expect((err as AuditRecordRejectedError).pointer, c.name).toBe(c.pointer);
      const good = { type: 'api', action: 'after', details: { case: c.name } };
      const ok = requestReceipt(good);
      logger.emit({ body: good });
      await expect(ok, c.name).resolves.toMatchObject({ stream: 'test/1' });
    }
    await provider.shutdown();
    const rejected = sink.records.filter((r) => r.record.action === 'record_rejected');
    expect(rejected).toHaveLength(HOSTILE_VALUES.length);
    // A lone surrogate cannot be stored: the record carries the pointer made well-formed.
    expect(rejected.map((r) => (r.record.details as { pointer: string }).pointer)).toEqual(HOSTILE_VALUES.map((c) => c.pointer.toWellFormed()));
    expect(sink.records.filter((r) => r.record.action === 'after')).toHaveLength(HOSTILE_VALUES.length);
    expect(verifySink(sink).ok).toBe(true);
    expect(errors).toEqual([]);
  });

  it('hostile bodies (throwing proxies and getters, cycles, unknown members, oversize values) become rejection records', async () => {
    const { sink, processor, provider, logger } = setup();
    await processor.ready();
    for (const c of hostileBodies()) {
      expect(() => logger.emit({ body: c.body() as never }), c.name).not.toThrow();
    }
    await provider.shutdown();
    const sealed = sink.records.filter((r) => r.record.type !== 'system' || r.record.action === 'record_rejected');
    expect(sealed).toHaveLength(hostileBodies().length);
    // Arrays and bytes are not event objects: they become details.message of an event lacking type/action.
    for (const r of sealed) expect(r.record.action, JSON.stringify(r.record)).toBe('record_rejected');
    expect(verifySink(sink).ok).toBe(true);
    expect(errors).toEqual([]);
  });

  it('a "__proto__" member is kept as data, pollutes nothing, and verifies', async () => {
    const { sink, processor, provider, logger } = setup();
    await processor.ready();
    logger.emit({ body: JSON.parse('{"type":"api","action":"x","details":{"__proto__":{"polluted":1}}}') });
    await provider.shutdown();
    const r = sink.records.find((x) => x.record.action === 'x')!;
    expect(r.canonical).toContain('"details":{"__proto__":{"polluted":1}}');
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(verifySink(sink).ok).toBe(true);
  });
});
