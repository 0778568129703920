import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../src/canonical.js';
import { RecordValidationError } from '../src/errors.js';
import { genesisPrev } from '../src/hash.js';
import { normalizeEvent, normalizeRecord, type AuditRecordInput } from '../src/normalize-record.js';
import { HOSTILE_VALUES } from './hostile-inputs.js';

const ID = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';

function base(extra: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    alg: 'sha256',
    stream: 'svc/1',
    seq: 0,
    prev: genesisPrev('sha256'),
    id: ID,
    time: '1700000000000000000',
    type: 'auth',
    action: 'login',
    ...extra,
  };
}

function errorOf(f: () => unknown): RecordValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof RecordValidationError) return e;
    throw new Error(`expected RecordValidationError, got ${String(e)}`);
  }
  throw new Error('expected an error, none was thrown');
}

describe('normalizeRecord', () => {
  it('omits null and absent members and empty actor/target/request, applies defaults', () => {
    const r = normalizeRecord(base({ actor: { id: null, ip: undefined }, target: {}, request: null, error: null, details: null }));
    expect(r).toEqual({
      v: 1, alg: 'sha256', stream: 'svc/1', seq: 0, prev: genesisPrev('sha256'), id: ID,
      time: '1700000000000000000', type: 'auth', action: 'login', outcome: 'unknown', severity: 'info',
    });
    expect(canonicalize(r)).toBe(
      `{"action":"login","alg":"sha256","id":"${ID}","outcome":"unknown","prev":"${genesisPrev('sha256')}",` +
        `"seq":0,"severity":"info","stream":"svc/1","time":"1700000000000000000","type":"auth","v":1}`,
    );
  });

  it('keeps nulls inside details/old/new and drops undefined members there', () => {
    const r = normalizeRecord(base({ details: { a: null, b: undefined, c: [null] }, old: { x: null }, new: { x: 1 } }));
    expect(r.details).toEqual({ a: null, c: [null] });
    expect('b' in (r.details as object)).toBe(false);
    expect(r.old).toEqual({ x: null });
  });

  it('applies the documented conversions', () => {
    const r = normalizeRecord(base({
      id: ID.toUpperCase(),
      time: new Date(1_700_000_000_123),
      seq: 5n,
      actor: { id: 42, type: 'user' },
      request: { trace_id: 'ABCDEF0123456789ABCDEF0123456789', span_id: '0123456789ABCDEF', id: 7 },
      error: new Error('disk full'),
      details: { big: 12n, when: new Date(0) },
      redacted: ['/details/z', '/details/a', '/details/z'],
    }));
    expect(r.id).toBe(ID);
    expect(r.time).toBe('1700000000123000000');
    expect(r.seq).toBe(5);
    expect(r.actor).toEqual({ id: '42', type: 'user' });
    expect(r.request).toEqual({ id: '7', trace_id: 'abcdef0123456789abcdef0123456789', span_id: '0123456789abcdef' });
    expect(r.error).toBe('disk full');
    expect(r.details).toEqual({ big: 12, when: '1970-01-01T00:00:00.000Z' });
    expect(r.redacted).toEqual(['/details/a', '/details/z']);
  });

  it('returns a deeply frozen copy that shares nothing with the input', () => {
    const input = base({ details: { list: [{ k: 'v' }] } });
    const r = normalizeRecord(input);
    (input.details as { list: { k: string }[] }).list[0]!.k = 'changed';
    expect(r.details).toEqual({ list: [{ k: 'v' }] });
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen((r.details as { list: unknown[] }).list[0])).toBe(true);
  });

  it('handles __proto__ and constructor keys as data without prototype pollution', () => {
    const details = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
    const r = normalizeRecord(base({ details }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(r.details)).toBe(Object.prototype);
    expect(canonicalize(r)).toContain('"details":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}');
  });

  it.each(HOSTILE_VALUES.map((c) => [c.name, c] as const))('rejects hostile details: %s', (_name, c) => {
    const e = errorOf(() => normalizeRecord(base({ details: c.value() })));
    expect(e.code).toBe('AUDIT_RECORD_INVALID');
    expect(e.pointer).toBe(c.pointer);
    expect(e.message.startsWith(`${c.pointer}: `)).toBe(true);
  });

  it.each([
    ['missing id', { id: undefined }, '/id'],
    ['id not a UUID', { id: 'abc' }, '/id'],
    ['time as a number', { time: 1700000000000 as unknown as string }, '/time'],
    ['negative time', { time: -1n }, '/time'],
    ['time with a sign', { time: '+1' }, '/time'],
    ['time text one past 2^63-1', { time: '9223372036854775808' }, '/time'],
    ['time text of 19 nines', { time: '9999999999999999999' }, '/time'],
    ['time bigint 2^63', { time: 2n ** 63n }, '/time'],
    ['time with a leading zero', { time: '0700000000000000000' }, '/time'],
    ['empty type', { type: '' }, '/type'],
    ['action not a string', { action: 5 as unknown as string }, '/action'],
    ['unknown outcome', { outcome: 'maybe' }, '/outcome'],
    ['unknown severity', { severity: 'fatal' }, '/severity'],
    ['unknown alg', { alg: 'md5' }, '/alg'],
    ['prev too short', { prev: 'abcd' }, '/prev'],
    ['prev not hex', { prev: 'z'.repeat(64) }, '/prev'],
    ['negative seq', { seq: -1 }, '/seq'],
    ['fractional seq', { seq: 1.5 }, '/seq'],
    ['stream with a newline', { stream: 'a\nb' }, '/stream'],
    ['unknown top-level member', { extra: 1 } as Partial<AuditRecordInput>, '/extra'],
    ['unknown actor member', { actor: { name: 'x' } as never }, '/actor/name'],
    ['actor not an object', { actor: 'alice' as never }, '/actor'],
    ['actor id float', { actor: { id: 1.5 } }, '/actor/id'],
    ['bad trace id', { request: { trace_id: 'xyz' } }, '/request/trace_id'],
    ['redacted not pointers', { redacted: ['details'] }, '/redacted/0'],
    ['version 2', { v: 2 }, '/v'],
    ['field too long', { action: 'a'.repeat(9000) }, '/action'],
  ])('rejects %s', (_name, extra, pointer) => {
    expect(errorOf(() => normalizeRecord(base(extra as Partial<AuditRecordInput>))).pointer).toBe(pointer);
  });

  it('rejects a non-object and non-plain record', () => {
    expect(errorOf(() => normalizeRecord(null as never)).pointer).toBe('');
    expect(errorOf(() => normalizeRecord(new Map() as never)).message).toMatch(/plain object/);
  });

  it('applies configurable depth and size limits', () => {
    expect(() => normalizeRecord(base({ details: [[[1]]] }), { maxDepth: 2 })).toThrow(/deeper than 2/);
    expect(normalizeRecord(base({ details: [[1]] }), { maxDepth: 2 }).details).toEqual([[1]]);
    expect(() => normalizeRecord(base({ details: 'x'.repeat(600) }), { maxLength: 500 })).toThrow(/maxLength/);
    expect(() => normalizeRecord(base(), { maxDepth: 0 })).toThrow(RangeError);
  });

  it('ignores symbol-keyed members, as JSON.stringify does', () => {
    const r = normalizeRecord(base({ details: { a: 1, [Symbol('k')]: 'x' } }));
    expect(r.details).toEqual({ a: 1 });
    expect(Object.getOwnPropertySymbols(r.details)).toEqual([]);
  });

  it('allows shared (non-cyclic) references', () => {
    const shared = { a: 1 };
    expect(normalizeRecord(base({ details: { x: shared, y: shared } })).details).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });

  it('canonical text of a normalised record equals the generic RFC 8785 writer on generated details', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (d, o) => {
        // -0 is refused by design; JSON round-trips turn it into 0.
        const [details, old] = [JSON.parse(JSON.stringify(d)), JSON.parse(JSON.stringify(o))];
        const r = normalizeRecord(base({ details, old }));
        // A structural copy is not marked, so it goes through the generic writer.
        const copy = JSON.parse(JSON.stringify(r));
        expect(canonicalize(r)).toBe(canonicalize(copy));
        expect(JSON.parse(canonicalize(r))).toEqual(copy);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('normalizeEvent', () => {
  it('accepts times up to 2^63-1 nanoseconds, as text or bigint, unchanged', () => {
    for (const time of ['0', '9', '1750000000000000000', '9223372036854775807']) {
      expect(normalizeEvent({ id: ID, time, type: 'auth', action: 'login', outcome: 'success' }).time).toBe(time);
    }
    expect(normalizeEvent({ id: ID, time: 2n ** 63n - 1n, type: 'auth', action: 'login', outcome: 'success' }).time).toBe('9223372036854775807');
  });

  it('validates the event members only', () => {
    const e = normalizeEvent({ id: ID, time: 1n, type: 'crud', action: 'create', outcome: 'success', new: { a: 1 } });
    expect(e).toEqual({ id: ID, time: '1', type: 'crud', action: 'create', outcome: 'success', severity: 'info', new: { a: 1 } });
    expect(() => normalizeEvent({ ...e, seq: 1 } as never)).toThrow(/\/seq: unknown record member/);
  });
});
