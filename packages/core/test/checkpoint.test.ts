import { createHash, createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, type CheckpointInput } from '../src/checkpoint-text.js';
import { checkpointOfNote, signCheckpoint, verifyCheckpoint } from '../src/checkpoint.js';
import { NoteFormatError } from '../src/errors.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../src/note-keys.js';
import { signNote } from '../src/signed-note.js';

// Signer key of Go's sumdb/note tests (golang.org/x/mod sumdb/note/note_test.go):
// a fixed key makes the signed checkpoints below deterministic.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peter = parseSignerKey(PETER_SKEY);

const ROOT = createHash('sha256').update('root').digest();
const T = 1_700_000_000_123_456_789n;
const CP: CheckpointInput = { origin: 'billing-api/01J9ZQ', size: 1234, rootHash: ROOT, timeUnixNano: T };
const TEXT = `billing-api/01J9ZQ\n1234\n${ROOT.toString('base64')}\ntime 1700000000123456789\n`;

function newKey(name: string) {
  const { signerKey, verifierKey } = generateNoteKey(name);
  return { signer: parseSignerKey(signerKey), verifierKey };
}

function formatError(fn: () => unknown): NoteFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteFormatError);
    return e as NoteFormatError;
  }
  throw new Error('expected NoteFormatError, nothing was thrown');
}

describe('formatCheckpoint / parseCheckpoint', () => {
  it('writes the DESIGN §4.3 text', () => {
    expect(formatCheckpoint(CP)).toBe(TEXT);
    expect(formatCheckpoint({ ...CP, rootHash: ROOT.toString('hex') })).toBe(TEXT);
    expect(formatCheckpoint({ ...CP, rootHash: ROOT.toString('hex').toUpperCase() })).toBe(TEXT);
    expect(formatCheckpoint({ ...CP, size: 0, timeUnixNano: 0n })).toBe(`billing-api/01J9ZQ\n0\n${ROOT.toString('base64')}\ntime 0\n`);
  });

  it('round-trips, extensions included', () => {
    const cp = parseCheckpoint(TEXT);
    expect(cp).toEqual({ origin: CP.origin, size: 1234, rootHash: ROOT, timeUnixNano: T, extensions: [] });
    const withExt = formatCheckpoint({ ...CP, extensions: ['x-witness a', 'timezone UTC'] });
    expect(withExt).toBe(`${TEXT}x-witness a\ntimezone UTC\n`);
    expect(parseCheckpoint(withExt).extensions).toEqual(['x-witness a', 'timezone UTC']);
    expect(formatCheckpoint(parseCheckpoint(withExt))).toBe(withExt);
  });

  it('accepts the time line anywhere among the extensions, and large sizes and times', () => {
    const root = ROOT.toString('base64');
    const cp = parseCheckpoint(`o\n${Number.MAX_SAFE_INTEGER}\n${root}\nx\ntime 18446744073709551615\ny\n`);
    expect(cp.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(cp.timeUnixNano).toBe(2n ** 64n - 1n);
    expect(cp.extensions).toEqual(['x', 'y']);
  });

  it('checks the root length against the algorithm', () => {
    // 64 hex digits are also valid base64 of 48 bytes (a sha384 length): only `alg` catches a hex root.
    const hexRoot = `o\n1\n${ROOT.toString('hex')}\ntime 1\n`;
    expect(parseCheckpoint(hexRoot).rootHash).toHaveLength(48);
    expect(formatError(() => parseCheckpoint(hexRoot, { alg: 'sha256' })).line).toBe(3);
    const sha384 = createHash('sha384').update('r').digest();
    const text = formatCheckpoint({ ...CP, rootHash: sha384 });
    expect(parseCheckpoint(text, { alg: 'sha384' }).rootHash).toEqual(sha384);
    expect(formatError(() => parseCheckpoint(text, { alg: 'sha256' })).message).toMatch(/line 3: root hash is 48 bytes; expected 32 \(sha256\)/);
  });

  const root = ROOT.toString('base64');
  const malformed: [string, string, number, RegExp][] = [
    ['empty text', '', 1, /empty/],
    ['missing final newline', TEXT.slice(0, -1), 4, /final newline/],
    ['CRLF', TEXT.replaceAll('\n', '\r\n'), 1, /carriage return/],
    ['empty origin', `\n1\n${root}\ntime 1\n`, 1, /origin line is empty/],
    ['origin only', 'o\n', 2, /missing tree size/],
    ['no root line', 'o\n1\n', 3, /missing root hash/],
    ['no time line', `o\n1\n${root}\n`, 4, /missing "time <Unix nanoseconds>"/],
    ['no time line among extensions', `o\n1\n${root}\nx\n`, 5, /missing "time/],
    ['leading zeros in size', `o\n01\n${root}\ntime 1\n`, 2, /without leading zeros/],
    ['negative size', `o\n-1\n${root}\ntime 1\n`, 2, /decimal/],
    ['size with plus', `o\n+1\n${root}\ntime 1\n`, 2, /decimal/],
    ['size in exponent form', `o\n1e3\n${root}\ntime 1\n`, 2, /decimal/],
    ['size with space', `o\n 1\n${root}\ntime 1\n`, 2, /decimal/],
    ['size beyond safe integers', `o\n9007199254740992\n${root}\ntime 1\n`, 2, /exceeds/],
    ['empty size', `o\n\n${root}\ntime 1\n`, 2, /tree size line is empty/],
    ['bad base64 root', `o\n1\n${root.replace(/^./, '*')}\ntime 1\n`, 3, /canonical standard base64/],
    ['unpadded root', `o\n1\n${root.replace('=', '')}\ntime 1\n`, 3, /canonical/],
    ['non-canonical root (trailing bits)', `o\n1\n${root.slice(0, 42)}${nextB64(root[42]!)}=\ntime 1\n`, 3, /canonical/],
    ['short root', `o\n1\n${ROOT.subarray(0, 20).toString('base64')}\ntime 1\n`, 3, /20 bytes/],
    ['duplicate time line', `o\n1\n${root}\ntime 1\ntime 1\n`, 5, /duplicate time line \(the first is line 4\)/],
    ['time with leading zero', `o\n1\n${root}\ntime 01\n`, 4, /time line/],
    ['time without value', `o\n1\n${root}\ntime\n`, 4, /time line/],
    ['time with empty value', `o\n1\n${root}\ntime \n`, 4, /time line/],
    ['negative time', `o\n1\n${root}\ntime -1\n`, 4, /time line/],
    ['fractional time', `o\n1\n${root}\ntime 1.5\n`, 4, /time line/],
    ['time beyond 64 bits', `o\n1\n${root}\ntime 18446744073709551616\n`, 4, /exceeds/],
    ['empty extension line', `o\n1\n${root}\ntime 1\n\n`, 5, /extension lines must be non-empty/],
    ['a signed note instead of its text', `o\n1\n${root}\ntime 1\n\n— k AAAAAAA=\n`, 5, /verifyCheckpoint/],
    ['control character in an extension', `o\n1\n${root}\ntime 1\nx\u0007\n`, 5, /U\+0007/],
    ['unpaired surrogate in the origin', `o\ud800\n1\n${root}\ntime 1\n`, 1, /unpaired surrogate/],
    ['huge input', `${'o'.repeat(70_000)}\n1\n${root}\ntime 1\n`, 0, /larger than 65536 bytes/],
  ];
  for (const [name, text, line, re] of malformed) {
    it(`rejects ${name} at line ${line}`, () => {
      const e = formatError(() => parseCheckpoint(text));
      expect(e.line).toBe(line);
      expect(e.message).toMatch(re);
    });
  }

  it('formatCheckpoint throws on misuse, naming the field', () => {
    const bad: [Partial<CheckpointInput>, ErrorConstructor, RegExp][] = [
      [{ origin: '' }, RangeError, /^checkpoint\.origin must be one non-empty line/],
      [{ origin: 'a\nb' }, RangeError, /^checkpoint\.origin/],
      [{ origin: 'a\rb' }, RangeError, /^checkpoint\.origin: line 1: carriage return/],
      [{ origin: 3 as never }, TypeError, /^checkpoint\.origin must be a string/],
      [{ size: -1 }, RangeError, /^checkpoint\.size/],
      [{ size: 1.5 }, RangeError, /^checkpoint\.size/],
      [{ size: 2 ** 53 }, RangeError, /^checkpoint\.size/],
      [{ size: 1n as never }, TypeError, /^checkpoint\.size must be a number/],
      [{ rootHash: 'xyz' }, RangeError, /^checkpoint\.rootHash must be hex/],
      [{ rootHash: 'abc' }, RangeError, /^checkpoint\.rootHash must be hex/],
      [{ rootHash: Buffer.alloc(20) }, RangeError, /^checkpoint\.rootHash must be 32, 48, 64 bytes/],
      [{ rootHash: 5 as never }, TypeError, /^checkpoint\.rootHash/],
      [{ timeUnixNano: 5 as never }, TypeError, /^checkpoint\.timeUnixNano must be a bigint/],
      [{ timeUnixNano: -1n }, RangeError, /^checkpoint\.timeUnixNano/],
      [{ extensions: ['time 5'] }, RangeError, /^checkpoint\.extensions\[0\] must not be a time line/],
      [{ extensions: ['ok', ''] }, RangeError, /^checkpoint\.extensions\[1\]/],
    ];
    for (const [patch, type, re] of bad) {
      expect(() => formatCheckpoint({ ...CP, ...patch })).toThrow(type);
      expect(() => formatCheckpoint({ ...CP, ...patch })).toThrow(re);
    }
    expect(() => formatCheckpoint(null as never)).toThrow(/^checkpoint must be an object/);
    expect(() => parseCheckpoint(7 as never)).toThrow(/^text must be a string/);
  });
});

describe('signCheckpoint / verifyCheckpoint', () => {
  const keyring = Keyring.from([PETER_VKEY]);
  const note = signCheckpoint(CP, [peter]);

  it('signs the checkpoint text exactly as an independent Ed25519 signature would', () => {
    // Differential: sign TEXT with node:crypto directly and assemble the line by hand.
    const seed = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const sig = Buffer.concat([Buffer.from('c74f20a3', 'hex'), sign(null, Buffer.from(TEXT), key)]);
    expect(note).toBe(`${TEXT}\n\u2014 PeterNeumann ${sig.toString('base64')}\n`);
  });

  it('a correctly signed checkpoint is valid', () => {
    const r = verifyCheckpoint(note, keyring);
    expect(r).toMatchObject({ status: 'valid', ok: true, keys: ['PeterNeumann+c74f20a3'] });
    expect(r.checkpoint).toEqual(parseCheckpoint(TEXT));
    expect(r.signatures).toEqual([{ keyId: 'PeterNeumann+c74f20a3', name: 'PeterNeumann', keyHash: 0xc74f20a3, line: 6, result: 'valid' }]);
    expect(r.message).toMatch(/is signed by PeterNeumann\+c74f20a3/);
    expect(verifyCheckpoint(Buffer.from(note), keyring).status).toBe('valid');
  });

  it('tampering any byte of the checkpoint text gives bad_signature, or malformed where it breaks the format', () => {
    const candidates = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let bad = 0;
    const malformedAt: string[] = [];
    for (let i = 0; i < TEXT.length; i++) {
      // The first replacement that still parses as a checkpoint, if any.
      const replacement = [...candidates].find((c) => {
        if (c === TEXT[i]) return false;
        try {
          parseCheckpoint(TEXT.slice(0, i) + c + TEXT.slice(i + 1));
          return true;
        } catch {
          return false;
        }
      });
      const tampered = note.slice(0, i) + (replacement ?? 'x') + note.slice(i + 1);
      const r = verifyCheckpoint(tampered, keyring);
      if (replacement !== undefined) {
        expect(r.status, `byte ${i}`).toBe('bad_signature');
        expect(r.keys).toEqual(['PeterNeumann+c74f20a3']);
        bad++;
      } else {
        expect(['malformed', 'bad_signature']).toContain(r.status);
        expect(r.ok).toBe(false);
        malformedAt.push(TEXT[i]!);
      }
    }
    // Only the newlines, the base64 padding and the "time " keyword cannot change and still parse.
    expect(malformedAt.join('')).toBe('\n\n=\ntime \n');
    expect(bad).toBe(TEXT.length - 10);
  });

  it('an altered signature is bad_signature', () => {
    const i = note.length - 10;
    const r = verifyCheckpoint(note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1), keyring);
    expect(r.status).toBe('bad_signature');
    expect(r.message).toMatch(/does not verify/);
  });

  it('only unknown keys: unknown_key, naming them', () => {
    const other = newKey('other.example/log');
    const r = verifyCheckpoint(signCheckpoint(CP, [other.signer]), keyring);
    expect(r.status).toBe('unknown_key');
    expect(r.keys).toEqual([`other.example/log+${other.signer.keyHash.toString(16).padStart(8, '0')}`]);
    expect(r.checkpoint?.size).toBe(1234);
    expect(verifyCheckpoint(note, new Keyring()).status).toBe('unknown_key');
  });

  it('unknown signatures are ignored beside a trusted one', () => {
    const other = newKey('other.example/log');
    const r = verifyCheckpoint(signCheckpoint(CP, [other.signer, peter]), keyring);
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => s.result)).toEqual(['unknown', 'valid']);
  });

  it('a valid trusted signature outweighs a failing one, which is still reported', () => {
    const b = newKey('b.example/log');
    const ring = Keyring.from([PETER_VKEY, b.verifierKey]);
    const signed = signCheckpoint(CP, [peter, b.signer]);
    const lines = signed.split('\n');
    const last = lines[lines.length - 2]!;
    lines[lines.length - 2] = last.slice(0, -6) + (last.at(-6) === 'A' ? 'B' : 'A') + last.slice(-5);
    const r = verifyCheckpoint(lines.join('\n'), ring);
    expect(r.status).toBe('valid');
    expect(r.signatures.map((s) => s.result)).toEqual(['valid', 'invalid']);
    expect(r.message).toMatch(/also carries a signature of b\.example\/log\+[0-9a-f]{8} that does not verify/);
  });

  it('bad_signature takes precedence over key_out_of_window and unknown_key', () => {
    const b = newKey('b.example/log');
    const ring = new Keyring().add(PETER_VKEY, { notAfter: T - 1n }).add(b.verifierKey);
    const signed = signCheckpoint(CP, [peter, b.signer, newKey('u').signer]);
    const lines = signed.split('\n');
    const sigLine = lines[6]!; // b's line
    lines[6] = sigLine.slice(0, -6) + (sigLine.at(-6) === 'A' ? 'B' : 'A') + sigLine.slice(-5);
    const r = verifyCheckpoint(lines.join('\n'), ring);
    expect(r.status).toBe('bad_signature');
    expect(r.keys).toEqual([b.verifierKey.split('+').slice(0, 2).join('+')]);
    expect(r.signatures.map((s) => s.result)).toEqual(['out_of_window', 'invalid', 'unknown']);
  });

  it('validity windows are inclusive at both ends', () => {
    const at = (w: { notBefore?: bigint; notAfter?: bigint }) => verifyCheckpoint(note, new Keyring().add(PETER_VKEY, w)).status;
    expect(at({ notBefore: T })).toBe('valid');
    expect(at({ notBefore: T + 1n })).toBe('key_out_of_window');
    expect(at({ notAfter: T })).toBe('valid');
    expect(at({ notAfter: T - 1n })).toBe('key_out_of_window');
    expect(at({ notBefore: T, notAfter: T })).toBe('valid');
    const r = verifyCheckpoint(note, new Keyring().add(PETER_VKEY, { notAfter: T - 1n }));
    expect(r.keys).toEqual(['PeterNeumann+c74f20a3']);
    expect(r.message).toMatch(/outside the key's validity window/);
  });

  it('key rotation: the old key stops counting when its window closes, the new key takes over', () => {
    const next = newKey('billing-api/01J9ZQ');
    const rotatedAt = T;
    const ring = Keyring.from([
      { key: PETER_VKEY, notAfter: rotatedAt - 1n },
      { key: next.verifierKey, notBefore: rotatedAt },
    ]);
    const before = { ...CP, timeUnixNano: rotatedAt - 1n };
    const after = { ...CP, timeUnixNano: rotatedAt };
    expect(verifyCheckpoint(signCheckpoint(before, [peter]), ring).status).toBe('valid');
    expect(verifyCheckpoint(signCheckpoint(after, [peter]), ring).status).toBe('key_out_of_window');
    expect(verifyCheckpoint(signCheckpoint(after, [next.signer]), ring).status).toBe('valid');
    expect(verifyCheckpoint(signCheckpoint(before, [next.signer]), ring).status).toBe('key_out_of_window');
    const both = verifyCheckpoint(signCheckpoint(after, [peter, next.signer]), ring);
    expect(both.status).toBe('valid');
    expect(both.signatures.map((s) => s.result)).toEqual(['out_of_window', 'valid']);
    // Re-opening a window for the old key (a union of windows) makes it count again.
    ring.add(PETER_VKEY, { notBefore: rotatedAt + 100n });
    expect(verifyCheckpoint(signCheckpoint({ ...CP, timeUnixNano: rotatedAt + 100n }, [peter]), ring).status).toBe('valid');
  });

  it('unsigned checkpoints: written on request, reported as unsigned, never valid', () => {
    expect(() => signCheckpoint(CP, [])).toThrow(/^signers must not be empty/);
    const unsigned = signCheckpoint(CP, [], { allowUnsigned: true });
    expect(unsigned).toBe(`${TEXT}\n`);
    const r = verifyCheckpoint(unsigned, keyring);
    expect(r).toMatchObject({ status: 'unsigned', ok: false, keys: [], signatures: [] });
    expect(r.checkpoint?.timeUnixNano).toBe(T);
    // Stripping the signatures off a signed checkpoint gives the same bytes, and the same verdict.
    expect(verifyCheckpoint(note.slice(0, TEXT.length + 1), keyring).status).toBe('unsigned');
  });

  it('malformed notes and checkpoints are reported with the line, not thrown', () => {
    const cases: [string | Uint8Array, number][] = [
      [TEXT, 5], // no blank line, no signatures
      [note.replace('\n\n', '\n'), 5], // signature line not preceded by a blank line
      [note.replace('time 1700000000123456789', 'time 01'), 4],
      [note.replace('\n1234\n', '\n01234\n'), 2],
      [note.replaceAll('\n', '\r\n'), 1],
      [signNote('hello\n', [peter]), 2],
      ['x'.repeat(2 << 20), 0],
      [Buffer.from([0xff, 0x0a, 0x0a]), 1],
    ];
    for (const [input, line] of cases) {
      const r = verifyCheckpoint(input, keyring);
      expect(r.status).toBe('malformed');
      expect(r.ok).toBe(false);
      expect(r.checkpoint).toBeUndefined();
      expect(r.error).toBeInstanceOf(NoteFormatError);
      expect(r.error?.line).toBe(line);
      expect(r.message).toMatch(new RegExp(`^malformed checkpoint note: (line ${line}: )?`));
    }
  });

  it('hostile inputs always produce a report', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const chars = [...note];
      for (let k = rand(4) + 1; k > 0; k--) chars.splice(rand(chars.length), rand(3), ...['\n', '—', ' ', 'A', '0', '=', '\r'].slice(rand(7), rand(7) + 1));
      const mutated = chars.join('');
      const r = verifyCheckpoint(mutated, keyring);
      expect(['valid', 'bad_signature', 'malformed', 'unknown_key', 'unsigned']).toContain(r.status);
      if (mutated !== note) expect(r.status, JSON.stringify(mutated)).not.toBe('valid');
    }
  });

  it('throws only on misuse', () => {
    expect(() => verifyCheckpoint(note, [PETER_VKEY] as never)).toThrow(/^keyring must be a Keyring/);
    expect(() => verifyCheckpoint(42 as never, keyring)).toThrow(/^noteText must be a string or Uint8Array/);
  });
});

/** The next base64 alphabet character: turns the last data character of a padded root into one with non-zero trailing bits. */
function nextB64(c: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return alphabet[(alphabet.indexOf(c) + 1) % 64]!;
}

describe('checkpointOfNote', () => {
  it('reads the checkpoint of a note signed by any key, or unsigned, and nothing of a note that does not parse', () => {
    const signed = checkpointOfNote(signCheckpoint(CP, [parseSignerKey(generateNoteKey('anyone').signerKey)]));
    expect(signed).toMatchObject({ origin: CP.origin, size: CP.size, timeUnixNano: CP.timeUnixNano });
    expect(checkpointOfNote(signNote(formatCheckpoint(CP), [], { allowUnsigned: true }))?.size).toBe(CP.size);
    expect(checkpointOfNote('not a note')).toBeUndefined();
    expect(checkpointOfNote('origin\nnot-a-size\nAAAA\n\n')).toBeUndefined();
  });
});
