/**
 * Verifier key lines (src/verifier-key-lines.ts, DESIGN §4.3 "Keyring"):
 * the one reader of `.vkey` text for the CLI, the server and
 * `verifier_keys_file` — keys with their windows, comments skipped, one
 * error per bad line naming the place, what is wrong and the fix, a signer
 * key never echoed — and times written back as RFC 3339 UTC to the
 * nanosecond.
 */
import { describe, expect, it } from 'vitest';
import { VerifierKeyLineError } from '../src/errors.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey } from '../src/note-keys.js';
import { formatKeyTime, formatKeyWindow, parseKeyTime, parseVerifierKeyLine, parseVerifierKeyLines } from '../src/verifier-key-lines.js';

const a = generateNoteKey('lines-test/a');
const b = generateNoteKey('lines-test/b');
const seed = a.signerKey.split('+').slice(4).join('+');

describe('parseVerifierKeyLines', () => {
  it('reads one key a line with its window; blank lines, # lines and trailing # comments skipped', () => {
    const text = [
      '# trusted.vkey',
      '',
      `  ${a.verifierKey}   not_after=2026-03-01T00:00:00Z   # retired`,
      `${b.verifierKey} not_before=1772323200000000000\r`,
      `${b.verifierKey}`,
    ].join('\n');
    const { keys, errors } = parseVerifierKeyLines(text);
    expect(errors).toEqual([]);
    expect(keys).toEqual([
      { key: a.verifierKey, notAfter: 1_772_323_200_000_000_000n },
      { key: b.verifierKey, notBefore: 1_772_323_200_000_000_000n },
      { key: b.verifierKey },
    ]);
    expect(Keyring.from(keys).size).toBe(2);
  });

  it('reports every bad line with its place, the problem and the fix; a signer key is never shown, not even in a comment', () => {
    const text = [
      `${a.verifierKey}`,
      `${a.signerKey}`,
      `${a.verifierKey} not_after=2026-02-30T00:00:00Z`,
      `# ${a.signerKey}`,
      'nobody+12345678+AAAA',
      `${a.verifierKey} expires=2026-01-01T00:00:00Z`,
      `${a.verifierKey} not_before=2026-01-01T00:00:00Z not_after=2025-01-01T00:00:00Z`,
    ].join('\n');
    const { keys, errors } = parseVerifierKeyLines(text, (n) => `trusted.vkey line ${n}`);
    expect(keys).toEqual([{ key: a.verifierKey }]);
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'trusted.vkey line 2 holds a signer (private) key; it is not shown'],
      [3, 'trusted.vkey line 3: not_after="2026-02-30T00:00:00Z" is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)'],
      [4, 'trusted.vkey line 4 holds a signer (private) key; it is not shown'],
      [5, expect.stringMatching(/^trusted\.vkey line 5 is not a valid verifier key: /)],
      [6, 'trusted.vkey line 6: the first word after the key is expires=..., not a window bound (only not_before= and not_after= may follow a key)'],
      [7, 'trusted.vkey line 7: not_before (1767225600000000000) is after not_after (1735689600000000000), so the key would never count'],
    ]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(VerifierKeyLineError);
      expect(e.code).toBe('AUDIT_KEY_INVALID');
      expect(e.fix.length).toBeGreaterThan(20);
      expect(e.message).not.toContain(seed);
    }
    expect(errors[0]!.fix).toMatch(/verifier keys \(\.vkey\) only/);
    expect(errors[1]!.fix).toMatch(/not_before=TIME and\/or not_after=TIME/);
  });
});

describe('parseVerifierKeyLine', () => {
  it('reads a key and its window given on their own, and refuses what a file line refuses, in the same words', () => {
    expect(parseVerifierKeyLine(`${a.verifierKey} not_before=2026-01-01T01:00:00+01:00`)).toEqual({ key: a.verifierKey, notBefore: 1_767_225_600_000_000_000n });
    const refusal = (text: string): VerifierKeyLineError => {
      try {
        parseVerifierKeyLine(text, '--key value');
      } catch (e) {
        return e as VerifierKeyLineError;
      }
      throw new Error('not refused');
    };
    expect(refusal(`${a.verifierKey} not_after=${a.signerKey}`).message).toBe('--key value holds a signer (private) key; it is not shown');
    expect(refusal(`${a.verifierKey} not_after=${seed}`).message).toBe('--key value: not_after=(a value that is not shown) is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)');
    expect(refusal('  # only a comment').message).toBe('--key value holds no key');
    const inFile = parseVerifierKeyLines(`${a.verifierKey} not_after=1 not_after=2`, () => '--key value').errors[0]!;
    expect(refusal(`${a.verifierKey} not_after=1 not_after=2`)).toMatchObject({ message: inFile.message, fix: inFile.fix, line: 0 });
  });
});

describe('formatKeyTime and formatKeyWindow', () => {
  it('write RFC 3339 UTC exact to the nanosecond, read back by parseKeyTime', () => {
    expect(formatKeyTime(1_764_412_345_000_000_000n)).toBe('2025-11-29T10:32:25Z');
    expect(formatKeyTime(1_764_412_345_500_000_000n)).toBe('2025-11-29T10:32:25.5Z');
    expect(formatKeyTime(1_764_412_345_000_000_001n)).toBe('2025-11-29T10:32:25.000000001Z');
    expect(formatKeyTime(0n)).toBe('1970-01-01T00:00:00Z');
    expect(formatKeyTime(9_223_372_036_854_775_807n)).toBe('2262-04-11T23:47:16.854775807Z');
    expect(formatKeyTime(-1n)).toBe('-1');
    for (const ns of [1n, 1_764_412_345_123_456_789n, 9_223_372_036_854_775_807n]) expect(parseKeyTime(formatKeyTime(ns))).toBe(ns);
    expect(formatKeyWindow({ notBefore: 1_764_412_345_000_000_000n, notAfter: 1_767_225_600_000_000_000n })).toBe('not_before=2025-11-29T10:32:25Z not_after=2026-01-01T00:00:00Z');
    expect(formatKeyWindow({})).toBe('always');
  });
});
