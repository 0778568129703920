/**
 * The window words after a verifier key, as the CLI reads them (core's
 * key-line reader, its errors turned into the CLI's by keys.ts): the times
 * they accept (Unix nanoseconds, RFC 3339 with seconds and an offset,
 * 1970..2262) and the refusals, each naming the line and never echoing a
 * value that could be a key.
 */
import { parseKeyTime, parseKeyValidityWindow, type KeyValidityWindow } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.js';
import { asCliError } from '../../src/internal/keys.js';

const parseWindowTime = parseKeyTime;

function parseKeyWindow(words: readonly string[], where: string): KeyValidityWindow {
  try {
    return parseKeyValidityWindow(words, where);
  } catch (e) {
    throw asCliError(e);
  }
}

describe('parseWindowTime', () => {
  it('reads Unix nanoseconds and RFC 3339 date-times to the nanosecond, offsets applied', () => {
    expect(parseWindowTime('0')).toBe(0n);
    expect(parseWindowTime('1731000011750000000')).toBe(1_731_000_011_750_000_000n);
    expect(parseWindowTime('9223372036854775807')).toBe(9_223_372_036_854_775_807n);
    expect(parseWindowTime('2026-01-01T00:00:00Z')).toBe(1_767_225_600_000_000_000n);
    expect(parseWindowTime('2026-01-01t01:30:00+01:30')).toBe(1_767_225_600_000_000_000n);
    expect(parseWindowTime('2025-12-31T19:00:00-05:00')).toBe(1_767_225_600_000_000_000n);
    expect(parseWindowTime('1970-01-01T00:00:00.000000001z')).toBe(1n);
    expect(parseWindowTime('2024-02-29T12:00:00.5Z')).toBe(1_709_208_000_500_000_000n);
    expect(parseWindowTime('2262-04-11T23:47:16.854775807Z')).toBe(9_223_372_036_854_775_807n);
  });

  it('refuses anything else: out of range, impossible dates, no seconds or offset, other forms', () => {
    for (const bad of [
      '9223372036854775808', '-1', '1e18', '', ' 1', '2262-04-11T23:47:16.854775808Z', '1969-12-31T23:59:59Z',
      '2025-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01T00:00:60Z',
      '2026-01-01', '2026-01-01T00:00Z', '2026-01-01T00:00:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00.1234567890Z',
    ]) {
      expect(parseWindowTime(bad), bad).toBeUndefined();
    }
  });
});

describe('parseKeyWindow', () => {
  it('gives the bounds given, none for no words', () => {
    expect(parseKeyWindow([], 'line 1')).toEqual({});
    expect(parseKeyWindow(['not_after=5'], 'line 1')).toEqual({ notAfter: 5n });
    expect(parseKeyWindow(['not_after=5', 'not_before=5'], 'line 1')).toEqual({ notBefore: 5n, notAfter: 5n });
  });

  it('refuses with the place, the problem and the fix; a value that could be a key is not shown', () => {
    const refusal = (words: string[]): CliError => {
      try {
        parseKeyWindow(words, 'key file k.vkey line 4');
      } catch (e) {
        return e as CliError;
      }
      throw new Error('not refused');
    };
    const seed = 'Aem+IFeO2+L4/CKmJKQpUGZk0mpZO5e1BjivSIPuYC63';
    expect(refusal(['not_after=2026-01-32T00:00:00Z']).message).toBe('key file k.vkey line 4: not_after="2026-01-32T00:00:00Z" is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)');
    expect(refusal([`not_before=${seed}`]).message).not.toContain(seed);
    expect(refusal([seed]).message).toBe('key file k.vkey line 4: the first word after the key is not a window bound (only not_before= and not_after= may follow a key)');
    expect(refusal(['not_after=1', `x=${seed}`]).message).toMatch(/the second word after the key is x=\.\.\., not a window bound/);
    expect(refusal(['not_before=2', 'not_before=1']).message).toMatch(/not_before is given twice/);
    expect(refusal(['not_before=2', 'not_after=1']).message).toMatch(/not_before \(2\) is after not_after \(1\)/);
    expect(refusal(['not_after=x']).fix).toMatch(/not_before=TIME and\/or not_after=TIME/);
    expect(refusal(['not_after=x']).exitCode).toBe(2);
  });
});
