/**
 * The hostile-input table (hostile-inputs.ts) and a table of hostile texts,
 * run against every public parse, normalise and verify function of core:
 * each either accepts the input or refuses it with the documented error
 * type — never another exception, a hang or a crash — and the verifier
 * reports instead of throwing.
 */
import { describe, expect, it } from 'vitest';
import { AuditChain } from '../src/audit-chain.js';
import { canonicalize } from '../src/canonical.js';
import { parseCheckpoint } from '../src/checkpoint-text.js';
import { verifyCheckpoint } from '../src/checkpoint.js';
import { AuditError, NoteFormatError, RecordValidationError, VerifierKeyLineError } from '../src/errors.js';
import { Keyring } from '../src/keyring.js';
import { escapeTerminalText } from '../src/escape-terminal-text.js';
import { parseIpAddress } from '../src/ip-address.js';
import { CompactRange } from '../src/merkle-tree.js';
import { normalizeEvent } from '../src/normalize-record.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../src/note-keys.js';
import { createRecordId } from '../src/record-id.js';
import { openNote, parseNote } from '../src/signed-note.js';
import { Verifier } from '../src/verifier.js';
import { parseVerifierKeyLine, parseVerifierKeyLines } from '../src/verifier-key-lines.js';
import { HOSTILE_VALUES } from './hostile-inputs.js';

const keys = generateNoteKey('hostile-test');
const keyring = Keyring.from([keys.verifierKey]);
const chain = new AuditChain({ stream: 'hostile/1' });
const good = chain.append({ id: createRecordId(), time: '1', type: 'a', action: 'b' });
const goodNote = chain.checkpoint(1n, [parseSignerKey(keys.signerKey)]);

const HOSTILE_TEXTS: [string, string][] = [
  ['empty', ''],
  ['one newline', '\n'],
  ['NUL bytes', '\u0000\u0000\n\u0000\n'],
  ['lone surrogate', 'origin\ud800\n1\nAAAA\ntime 1\n\n'],
  ['CRLF line ends', goodNote.replace(/\n/g, '\r\n')],
  ['huge', 'x'.repeat(4 << 20)],
  ['huge line count', '\n'.repeat(200_000)],
  ['signature lines only', '— a AAAA\n'.repeat(1000)],
  ['junk after a valid note', goodNote + 'junk'],
  ['valid note twice', goodNote + goodNote],
  ['plus signs', '+'.repeat(1000)],
  ['private key prefix only', 'PRIVATE+KEY+'],
  ['key with bad base64', 'name+01234567+!!!!'],
  ['JSON null', 'null'],
  ['JSON array', '[1,2]'],
  ['JSON string', '"text"'],
  ['JSON instead of text', JSON.stringify({ origin: 'x', size: 1 })],
  ['deeply nested JSON', '['.repeat(100_000) + ']'.repeat(100_000)],
  ['record with deeply nested details', '{"stream":"s","seq":0,"id":"x","prev":"","alg":"sha256","details":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}'],
  ['emoji origin', '😀\n1\n' + Buffer.alloc(32).toString('base64') + '\ntime 1\n\n'],
];

/** Runs f; returns the error it threw, if any, after checking its type. */
function refusedWith(f: () => unknown, ...types: (new (...args: never[]) => Error)[]): void {
  try {
    f();
  } catch (e) {
    expect(types.some((t) => e instanceof t), `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`).toBe(true);
  }
}

describe('hostile values against the record functions', () => {
  it.each(HOSTILE_VALUES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    refusedWith(() => canonicalize(c.value()), RecordValidationError);
    const event = { id: createRecordId(), time: '1', type: 'a', action: 'b', details: c.value() };
    expect(() => normalizeEvent(event)).toThrow(RecordValidationError);
    const head = chain.head();
    expect(() => chain.append(event)).toThrow(RecordValidationError);
    expect(chain.head()).toEqual(head);

    // A stored record edited to hold the value: reported, never thrown.
    const v = new Verifier({ keyring });
    v.addCheckpoint(goodNote);
    v.addRecord({ ...JSON.parse(good.canonical), details: c.value() }, good.hash);
    const report = v.finish();
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings.map((f) => f.code)).toContain(
      report.streams[0]!.findings[0]!.code === 'malformed' ? 'malformed' : 'hash_mismatch',
    );
  });

  it('the verifier reports records that are not records at all', () => {
    const v = new Verifier({ keyring });
    for (const c of HOSTILE_VALUES) {
      const value = c.value();
      if (typeof value === 'object' && value !== null) v.addRecord(value);
    }
    for (const [, text] of HOSTILE_TEXTS) v.addRecord(text);
    const report = v.finish();
    expect(report.ok).toBe(false);
    expect(report.streams.flatMap((s) => s.findings).every((f) => f.code === 'malformed')).toBe(true);
  });
});

describe('hostile texts against the note, checkpoint and key parsers', () => {
  it.each(HOSTILE_TEXTS)('%s', (_name, text) => {
    refusedWith(() => parseNote(text), NoteFormatError);
    refusedWith(() => openNote(text, keyring), NoteFormatError);
    refusedWith(() => parseCheckpoint(text), NoteFormatError);
    const result = verifyCheckpoint(text, keyring);
    expect(result.ok).toBe(false);
    refusedWith(() => parseVerifierKey(text), AuditError);
    refusedWith(() => parseSignerKey(text), AuditError);
    refusedWith(() => parseVerifierKeyLine(text), VerifierKeyLineError);
    expect(parseVerifierKeyLines(text).errors.every((e) => e instanceof VerifierKeyLineError)).toBe(true);
    const v = new Verifier({ keyring });
    v.addCheckpoint(text);
    expect(v.finish().ok).toBe(false);
  });

  it('key parsers never echo a private key in their errors', () => {
    const secret = keys.signerKey.slice(0, -4) + 'AAA=';
    try {
      parseSignerKey(secret);
    } catch (e) {
      expect((e as Error).message).not.toContain(secret.split('+').slice(4).join('+')); // the key material (base64 may hold '+')
    }
  });
});

describe('hostile texts against the IP parser and the terminal escaper', () => {
  it.each(HOSTILE_TEXTS)('%s', (_name, text) => {
    expect(parseIpAddress(text)).toBeUndefined();
    // eslint-disable-next-line no-control-regex
    expect(escapeTerminalText(text)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Cs}]/u);
  });
});

describe('hostile compact range states', () => {
  it.each([
    ['null', null],
    ['negative size', { size: -1, hashes: [] }],
    ['size beyond 2^53', { size: 2 ** 60, hashes: [] }],
    ['wrong hash count', { size: 3, hashes: ['00'.repeat(32)] }],
    ['uppercase hex', { size: 1, hashes: ['AB'.repeat(32)] }],
    ['hash not a string', { size: 1, hashes: [7] }],
    ['hashes not an array', { size: 1, hashes: 'ab' }],
  ])('%s', (_name, state) => {
    refusedWith(() => CompactRange.restore('sha256', state as never), TypeError, RangeError);
    expect(() => CompactRange.restore('sha256', state as never)).toThrow();
  });
});
