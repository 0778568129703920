/**
 * Attributes of the audit LogRecord as downstream processors and exporters
 * receive them (DESIGN §4.5, §4.6): the real SDK, the audit processor first
 * and an exporter after it capturing what it is given. Secret-named members
 * are replaced at any depth (maps, arrays of maps), credentials written
 * inside string values are masked, in mask and hmac mode, for sealed records
 * and for records that travel as `audit.pending`; the record still verifies.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyValue } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { requestReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink, REDACTION_MASK, type RedactionOptions } from '../../src/index.js';
import { MAX_ATTRIBUTE_DEPTH, redactedValue } from '../../src/internal/attribute-redaction.js';
import { Redactor } from '../../src/internal/redactor.js';
import { KEYS, verifySink } from '../helpers.js';

const SECRET = 'S3cr3t-attr-Value';
const HMAC_KEY = 'h'.repeat(32);

const providers: LoggerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function pipeline(redaction?: RedactionOptions) {
  const sink = new InMemoryAuditSink();
  const exporter = new InMemoryLogRecordExporter();
  const processor = new AuditLogRecordProcessor({ stream: 'attrs/1', sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, redaction });
  const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
  providers.push(provider);
  return { sink, exporter, processor, logger: provider.getLogger('otel-audit') };
}

/** What a producer may put on an audit LogRecord: secrets nested in maps, in arrays of maps, inside strings. */
function hostileAttributes(): Record<string, AnyValue> {
  return {
    'http.request.header': { authorization: `Bearer ${SECRET}`, cookie: `sid=${SECRET}`, accept: 'application/json' },
    ctx: { user: 'bob', deeper: { password: SECRET, note: 'kept' } },
    'app.items': [{ name: 'a', api_key: SECRET }, 'plain', 7, [{ client_secret: SECRET }]],
    'db.url': `postgres://app:${SECRET}@db/x`,
    'app.message': `retry with Authorization: Bearer ${SECRET}`,
    'app.count': 3,
    'app.flag': true,
  };
}

describe('attributes reaching downstream processors and exporters', () => {
  it('mask: secret-named members at any depth and credentials inside strings are replaced; the rest is kept; the record verifies', async () => {
    const { sink, exporter, processor, logger } = pipeline();
    await processor.ready();
    const body = { type: 'api', action: 'probe', actor: { id: 'u1' } };
    const receipt = requestReceipt(body);
    logger.emit({ body, attributes: hostileAttributes() });
    await receipt;
    await processor.forceFlush();
    const out = exporter.getFinishedLogRecords().at(-1)!;
    expect(out.eventName).toBe('audit.api.probe');
    expect(JSON.stringify(out.attributes)).not.toContain(SECRET);
    expect(out.attributes).toMatchObject({
      'http.request.header': { authorization: REDACTION_MASK, cookie: REDACTION_MASK, accept: 'application/json' },
      ctx: { user: 'bob', deeper: { password: REDACTION_MASK, note: 'kept' } },
      'app.items': [{ name: 'a', api_key: REDACTION_MASK }, 'plain', 7, [{ client_secret: REDACTION_MASK }]],
      'db.url': 'postgres://***@db/x',
      'app.count': 3,
      'app.flag': true,
      'audit.actor.id': 'u1',
    });
    expect(out.attributes['app.message']).toMatch(/^retry with Authorization: /);
    expect(out.body).toBe(sink.records.at(-1)!.canonical);
    expect(verifySink(sink).ok).toBe(true);
  });

  it('hmac: a secret-named nested member becomes hmac-sha256:<hex> of its value, as in the record', async () => {
    const { sink, exporter, processor, logger } = pipeline({ mode: 'hmac', hmacKey: HMAC_KEY });
    await processor.ready();
    const body = { type: 'api', action: 'probe' };
    const receipt = requestReceipt(body);
    logger.emit({ body, attributes: { ctx: { list: [{ token: SECRET }] }, 'db.url': `postgres://app:${SECRET}@db/x` } });
    await receipt;
    await processor.forceFlush();
    const out = exporter.getFinishedLogRecords().at(-1)!;
    const expected = `hmac-sha256:${createHmac('sha256', HMAC_KEY).update(SECRET).digest('hex')}`;
    expect(out.attributes.ctx).toEqual({ list: [{ token: expected }] });
    expect(out.attributes['db.url']).toBe('postgres://***@db/x');
    expect(verifySink(sink).ok).toBe(true);
  });

  it('a record emitted before the head is known travels as audit.pending with its attributes redacted too, convention names included', async () => {
    const { sink, exporter, processor, logger } = pipeline();
    const body = { type: 'api', action: 'early' };
    const receipt = requestReceipt(body);
    logger.emit({ body, attributes: { ...hostileAttributes(), 'url.path': `/cb?access_token=${SECRET}` } });
    const early = exporter.getFinishedLogRecords().at(-1)!;
    expect(early.eventName).toBe('audit.pending');
    expect(JSON.stringify(early.attributes)).not.toContain(SECRET);
    expect(early.attributes['url.path']).toBe('/cb?access_token=***');
    expect(early.attributes.ctx).toEqual({ user: 'bob', deeper: { password: REDACTION_MASK, note: 'kept' } });
    await receipt;
    await processor.forceFlush();
    expect(verifySink(sink).ok).toBe(true);
  });
});

describe('redactedValue', () => {
  const redactor = new Redactor(undefined);

  it('returns the same value, allocating nothing, when there is nothing to redact; copies on write otherwise', () => {
    const clean = { a: 'x', b: [1, 'two', { c: null }], d: new Uint8Array([1]) };
    expect(redactedValue(clean, redactor, 0)).toBe(clean);
    const dirty = { keep: { n: 1 }, list: [{ secret: 'v' }, { ok: 'y' }] };
    const out = redactedValue(dirty, redactor, 0) as typeof dirty;
    expect(out).toEqual({ keep: { n: 1 }, list: [{ secret: REDACTION_MASK }, { ok: 'y' }] });
    expect(dirty.list[0]).toEqual({ secret: 'v' }); // the producer's containers are untouched
    expect(out.keep).toBe(dirty.keep);
    expect(out.list[1]).toBe(dirty.list[1]);
  });

  it('masks credentials written in member names, keeping two masked names apart', () => {
    const value = { sessions: { [`sess_${SECRET}9x`]: { user: 'bob' } }, [`postgres://app:${SECRET}@db/x`]: 1, [`Bearer ${SECRET}`]: 2, [`Bearer ${SECRET}-other`]: 3 } as Record<string, AnyValue>;
    const out = redactedValue(value, redactor, 0) as Record<string, AnyValue>;
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(Object.keys(out).sort()).toEqual(['Bearer ***', 'Bearer *** (2)', 'postgres://***@db/x', 'sessions']);
    expect(Object.values(out['sessions'] as Record<string, AnyValue>)).toEqual([{ user: 'bob' }]);
    expect(Object.keys(value)).toContain(`Bearer ${SECRET}`); // the producer's map is untouched
  });

  it('masks whatever is nested deeper than the bound instead of showing it unread', () => {
    let deep: AnyValue = { password: SECRET };
    for (let i = 0; i < MAX_ATTRIBUTE_DEPTH + 2; i++) deep = { next: deep };
    expect(JSON.stringify(redactedValue(deep, redactor, 0))).not.toContain(SECRET);
    expect(JSON.stringify(redactedValue(deep, redactor, 0))).toContain(REDACTION_MASK);
  });

  it('keeps a "__proto__" member as data, and rebuilds a map whose prototype would show inherited members', () => {
    const parsed = JSON.parse(`{"__proto__": {"password": "${SECRET}"}, "a": 1}`) as Record<string, AnyValue>;
    const out = redactedValue(parsed, redactor, 0) as Record<string, AnyValue>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(out['__proto__']).toEqual({ password: REDACTION_MASK });
    const poisoned = Object.create({ password: SECRET }) as Record<string, AnyValue>;
    poisoned.a = 'x';
    const rebuilt = redactedValue(poisoned, redactor, 0) as Record<string, AnyValue>;
    const shown: string[] = [];
    for (const k in rebuilt) shown.push(`${k}=${String(rebuilt[k])}`);
    expect(shown).toEqual(['a=x']);
  });
});
