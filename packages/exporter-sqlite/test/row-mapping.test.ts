import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditChain, canonicalize, createRecordId } from '@otel-audit/core';
import { isOneJsonValue, isoFromDecimalNanos, isoFromNanos, recordToRow, rowToCanonical, rowToRecord, timestampMatches } from '../src/internal/row-mapping.js';

describe('timestamps', () => {
  it('formats Unix nanoseconds as ISO-8601 with nine fraction digits', () => {
    expect(isoFromNanos(0n)).toBe('1970-01-01T00:00:00.000000000Z');
    expect(isoFromNanos(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(isoFromNanos((1n << 63n) - 1n)).toBe('2262-04-11T23:47:16.854775807Z');
  });

  it('gives the same text on the cached append path for any time, in any order', () => {
    fc.assert(fc.property(fc.array(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), { minLength: 1, maxLength: 20 }), (times) => {
      for (const t of times) {
        expect(isoFromDecimalNanos(t.toString())).toBe(isoFromNanos(t));
        expect(isoFromDecimalNanos((t + 1n).toString())).toBe(isoFromNanos(t + 1n));
      }
    }));
    expect(isoFromDecimalNanos('5')).toBe('1970-01-01T00:00:00.000000005Z');
  });

  it('matches a timestamp column to its time exactly, on the cached path and off it', () => {
    const edit = (s: string, at: number) => s.slice(0, at) + (s[at] === '1' ? '2' : '1') + s.slice(at + 1);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.nat(29), (t, at) => {
      const time = t.toString();
      const iso = isoFromNanos(t);
      expect(timestampMatches(time, iso)).toBe(true);
      expect(timestampMatches(time, iso)).toBe(true); // second call: the cached second
      expect(timestampMatches(time, edit(iso, at))).toBe(false);
      expect(timestampMatches(time, iso + ' ')).toBe(false);
      expect(timestampMatches((t + 1n).toString(), iso)).toBe(false);
    }));
    expect(timestampMatches('12a', '1970-01-01T00:00:00.00000012aZ')).toBe(false);
  });
});

describe('rowToCanonical', () => {
  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
  const event = fc.record({
    type: text,
    action: text,
    outcome: fc.constantFrom('success', 'failure', 'error', 'unknown'),
    actor: fc.option(fc.record({ id: text, ip: text, user_agent: text }, { requiredKeys: [] }), { nil: undefined }),
    target: fc.option(fc.record({ type: text, id: text, name: text }, { requiredKeys: [] }), { nil: undefined }),
    error: fc.option(text, { nil: undefined }),
    details: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
    old: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
  });

  it('rebuilds from the columns of an untouched row exactly the text that was hashed, or declines by mismatch', () => {
    const chain = new AuditChain({ stream: 'svc/1' });
    let exact = 0;
    fc.assert(fc.property(event, (e) => {
      // JSON round trip: -0 is refused by design.
      const input = JSON.parse(JSON.stringify({ ...e, id: createRecordId(), time: '1700000000000000000' }));
      const sealed = chain.append(input);
      const row = recordToRow(sealed.record as never, sealed.hash, undefined);
      const rebuilt = rowToCanonical([...row, 0], undefined);
      if (rebuilt === sealed.canonical) exact++;
      // Only member names that JavaScript orders ahead of insertion order
      // (array-index-like) make the stored JSON non-canonical; the verifier
      // then takes the exact path, which this equality covers.
      else expect(JSON.stringify(sealed.record)).toMatch(/"\d[^"]*":/);
      expect(canonicalize(rowToRecord([...row, 0], undefined).record)).toBe(sealed.canonical);
    }), { numRuns: 500 });
    expect(exact).toBeGreaterThan(400);
  });

  it('declines a row whose JSON column carries the next member spliced in, and takes every JSON value as one', () => {
    const chain = new AuditChain({ stream: 'svc/1' });
    fc.assert(fc.property(event, fc.jsonValue({ maxDepth: 3 }), text, (e, details, error) => {
      const input = JSON.parse(JSON.stringify({ ...e, details, error, id: createRecordId(), time: '1700000000000000000' }));
      const sealed = chain.append(input);
      const row = [...recordToRow(sealed.record as never, sealed.hash, undefined), 0];
      // error_message moved into details: pasted, the columns give the same text.
      row[23] = `${String(row[23])},"error":${JSON.stringify(row[24])}`;
      row[24] = null;
      expect(rowToCanonical(row, undefined)).toBeUndefined();
      expect(canonicalize(rowToRecord(row, undefined).record)).not.toBe(sealed.canonical);
      expect(isOneJsonValue(JSON.stringify(details))).toBe(true);
    }), { numRuns: 300 });
    for (const t of ['"a\\"', '["a",1]]', '[', '"x', '1:2', '1,2', '']) expect(isOneJsonValue(t), t).toBe(false);
  });
});
