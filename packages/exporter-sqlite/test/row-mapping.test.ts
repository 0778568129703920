import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoFromDecimalNanos, isoFromNanos } from '../src/internal/row-mapping.js';

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
});
