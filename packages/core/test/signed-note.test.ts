import { describe, expect, it } from 'vitest';
import { NoteFormatError } from '../src/errors.js';
import { generateNoteKey, parseSignerKey, parseVerifierKey, type NoteVerifier } from '../src/note-keys.js';
import { MAX_NOTE_SIGNATURES, openNote, parseNote, signNote } from '../src/signed-note.js';

// Test vectors of Go's signed-note implementation, golang.org/x/mod
// sumdb/note/note_test.go (TestSign, TestOpen):
// https://github.com/golang/mod/blob/master/sumdb/note/note_test.go
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peter = parseVerifierKey(PETER_VKEY);

/** Go's `s[:i] + x + s[i:]` on bytes: the Go tests cut signature lines at byte offsets. */
function insertAtByte(s: string, i: number, x: string): string {
  const b = Buffer.from(s);
  return Buffer.concat([b.subarray(0, i), Buffer.from(x), b.subarray(i)]).toString();
}
const enoch = parseVerifierKey(ENOCH_VKEY);

function formatError(fn: () => unknown): NoteFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteFormatError);
    expect((e as NoteFormatError).code).toBe('AUDIT_NOTE_MALFORMED');
    return e as NoteFormatError;
  }
  throw new Error('expected NoteFormatError, nothing was thrown');
}

describe('signNote', () => {
  it('reproduces the Go signed note byte for byte', () => {
    expect(signNote(TEXT, [parseSignerKey(PETER_SKEY)])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('writes one line per signer in order, each verifiable', () => {
    const a = parseSignerKey(generateNoteKey('a.example/log').signerKey);
    const b = parseSignerKey(generateNoteKey('b.example/log').signerKey);
    const note = signNote('x\n', [a, b]);
    const opened = openNote(note, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]);
    expect(opened.verified.map((s) => [s.name, s.line])).toEqual([
      ['a.example/log', 3],
      ['b.example/log', 4],
    ]);
  });

  it('writes the unsigned form only when asked', () => {
    expect(() => signNote('x\n', [])).toThrow(/^signers must not be empty/);
    expect(signNote('x\n', [], { allowUnsigned: true })).toBe('x\n\n');
  });

  it('throws on misuse, naming the argument', () => {
    const s = parseSignerKey(PETER_SKEY);
    expect(() => signNote('abc', [s])).toThrow(RangeError);
    expect(() => signNote('abc', [s])).toThrow(/^text must be non-empty and end in "\\n"/);
    expect(() => signNote('', [s])).toThrow(/^text/);
    expect(() => signNote('a\r\n', [s])).toThrow(/^text: line 1: carriage return/);
    expect(() => signNote('a\nb\u0000\n', [s])).toThrow(/^text: line 2: control character U\+0000/);
    expect(() => signNote('a\ud800\n', [s])).toThrow(/^text: line 1: unpaired surrogate/);
    expect(() => signNote(5 as unknown as string, [s])).toThrow(TypeError);
    expect(() => signNote('x\n', [s, s])).toThrow(/^signers\[1\]: key PeterNeumann\+c74f20a3 signs twice/);
    expect(() => signNote('x\n', [{} as never])).toThrow(/^signers\[0\] must be a NoteSigner/);
    expect(() => signNote('x\n', { length: 1 } as never)).toThrow(TypeError);
    const many = Array.from({ length: MAX_NOTE_SIGNATURES + 1 }, () => s);
    expect(() => signNote('x\n', many)).toThrow(/^signers: at most 100/);
  });

  it('round-trips texts with empty lines and dash-like lines: the separator is the last blank line', () => {
    const s = parseSignerKey(PETER_SKEY);
    for (const text of ['\n', 'a\n\n', 'a\n\nb\n', '— PeterNeumann AAAA\n', 'a\n\n\n\n', 'Ünïcödé 😀\n']) {
      const opened = openNote(signNote(text, [s]), [peter]);
      expect(opened.text).toBe(text);
      expect(opened.verified).toHaveLength(1);
    }
  });
});

describe('openNote with the Go vectors', () => {
  const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;

  it('one key known: one verified, one unknown', () => {
    const n = openNote(both, [peter]);
    expect(n.text).toBe(TEXT);
    expect(n.verified.map((s) => [s.name, s.keyHash, s.line])).toEqual([['PeterNeumann', 0xc74f20a3, 4]]);
    expect(n.unknown.map((s) => [s.name, s.keyHash, s.line])).toEqual([['EnochRoot', 0xaf0cfe78, 5]]);
    expect(n.invalid).toEqual([]);
  });

  it('both keys known: both verified', () => {
    const n = openNote(both, [peter, enoch]);
    expect(n.verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(n.unknown).toEqual([]);
  });

  it('no key known: nothing verified, both reported unknown', () => {
    const n = openNote(both, []);
    expect(n.verified).toEqual([]);
    expect(n.unknown.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
  });

  it('a duplicated identical verifier is fine; two keys under one id are refused', () => {
    expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]).verified).toHaveLength(1);
    const impostor: NoteVerifier = { ...enoch, verifierKey: 'EnochRoot+af0cfe78+other', verify: () => true };
    expect(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, impostor])).toThrow(/^verifiers\[1\]: two different keys/);
  });

  it('more than 100 signatures is malformed, at the 101st line', () => {
    expect(formatError(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter])).line).toBe(4 + 100);
    expect(formatError(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [])).line).toBe(104);
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peter]).verified).toHaveLength(1);
  });

  it('an altered signature of a known key is reported invalid, not thrown', () => {
    const bad = insertAtByte(PETER_SIG, 60, 'ABCD');
    const n = openNote(`${TEXT}\n${bad}`, [peter]);
    expect(n.verified).toEqual([]);
    expect(n.invalid).toHaveLength(1);
    expect(n.invalid[0]).toMatchObject({ name: 'PeterNeumann', keyHash: 0xc74f20a3, line: 4 });
    expect(n.invalid[0]!.reason).toMatch(/PeterNeumann\+c74f20a3 does not verify/);
  });

  it('drops repeated identical lines, as Go does', () => {
    const enochAbcd = insertAtByte(ENOCH_SIG, 60, 'ABCD');
    const n = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochAbcd}`, [peter]);
    expect(n.signatures).toHaveLength(5);
    expect(n.verified.map((s) => s.line)).toEqual([4]);
    expect(n.unknown.map((s) => s.line)).toEqual([6, 8]);
    // Go's enochABCD signature value.
    const goEnochAbcd = 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n' + 'ABCD' + '2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
    expect(n.unknown[1]!.signature).toEqual(Buffer.from(goEnochAbcd, 'base64').subarray(4));
  });

  it('a key with the same name but another key hash is unknown, not invalid', () => {
    const renamed = PETER_SIG.replace('x08go', 'xxxxx');
    const n = openNote(`${TEXT}\n${renamed}`, [peter]);
    expect(n.unknown).toHaveLength(1);
    expect(n.invalid).toEqual([]);
  });

  it('a lookup that answers for the wrong key cannot make a signature count', () => {
    const misnamed = PETER_SIG.replace('PeterNeumann', 'CarmenSandiego');
    const n = openNote(`${TEXT}\n${misnamed}`, { findVerifier: () => peter });
    expect(n.verified).toEqual([]);
    expect(n.invalid[0]!.reason).toMatch(/returned PeterNeumann\+c74f20a3 for CarmenSandiego\+c74f20a3/);
  });

  it('rejects the Go malformed messages, each at its line', () => {
    const cases: [string | Uint8Array, number, RegExp][] = [
      [TEXT, 3, /missing the blank line/],
      [`${TEXT}\n`, 4, /no signature lines/],
      [`${TEXT}\n${PETER_SIG.slice(0, -1)}`, 4, /missing final newline/],
      [`\x01${TEXT}\n${PETER_SIG}`, 1, /control character U\+0001/],
      [Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), 1, /not valid UTF-8/],
      [`${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`, 4, /final newline/],
      [`${TEXT}\n${PETER_SIG}Unexpected line.\n`, 5, /must start with an em dash/],
    ];
    for (const [msg, line, re] of cases) {
      const e = formatError(() => openNote(msg, [peter]));
      expect(e.line, String(msg)).toBe(line);
      expect(e.message).toMatch(re);
      expect(e.message).toMatch(new RegExp(`^line ${line}: `));
    }
  });
});

describe('parseNote', () => {
  const note = `${TEXT}\n${PETER_SIG}`;

  it('splits text and signatures without verifying', () => {
    const n = parseNote(note);
    expect(n.text).toBe(TEXT);
    expect(n.signatures).toHaveLength(1);
    expect(n.signatures[0]).toMatchObject({ name: 'PeterNeumann', keyHash: 0xc74f20a3, line: 4 });
    expect(n.signatures[0]!.signature).toHaveLength(64);
    expect(parseNote(Buffer.from(note))).toEqual(n);
    expect(parseNote(new Uint8Array(Buffer.from(note)))).toEqual(n);
  });

  it('reads an unsigned note only with allowUnsigned', () => {
    expect(parseNote('a\n\n', { allowUnsigned: true })).toEqual({ text: 'a\n', signatures: [] });
    expect(formatError(() => parseNote('a\n\n')).line).toBe(3);
  });

  const sigB64 = PETER_SIG.slice('— PeterNeumann '.length, -1);
  const malformed: [string, string | Uint8Array, number][] = [
    ['empty note', '', 1],
    ['missing final newline', `${TEXT}\n${PETER_SIG.trimEnd()}`, 4],
    ['text without final newline', 'abc', 1],
    ['CRLF line endings', note.replaceAll('\n', '\r\n'), 1],
    ['CR in a signature line', `${TEXT}\n${PETER_SIG.replace('\n', '\r\n')}`, 4],
    ['tab', `a\tb\n\n${PETER_SIG}`, 1],
    ['no blank line before the signature', `${TEXT}${PETER_SIG}`, 3],
    ['no blank line and no signature', TEXT, 3],
    ['empty text', `\n${PETER_SIG}`, 1],
    ['signature line only', PETER_SIG, 1],
    ['hyphen instead of em dash', `${TEXT}\n- PeterNeumann ${sigB64}\n`, 4],
    ['en dash instead of em dash', `${TEXT}\n\u2013 PeterNeumann ${sigB64}\n`, 4],
    ['em dash without space', `${TEXT}\n\u2014PeterNeumann ${sigB64}\n`, 4],
    ['two spaces after the name', `${TEXT}\n— PeterNeumann  ${sigB64}\n`, 4],
    ['empty key name', `${TEXT}\n—  ${sigB64}\n`, 4],
    ['no signature after name', `${TEXT}\n— PeterNeumann\n`, 4],
    ['empty signature', `${TEXT}\n— PeterNeumann \n`, 4],
    ['name with plus', `${TEXT}\n— Peter+Neumann ${sigB64}\n`, 4],
    ['bad base64', `${TEXT}\n— PeterNeumann ${sigB64.replace('x08g', 'x0*g')}\n`, 4],
    ['URL-safe base64', `${TEXT}\n— PeterNeumann ${sigB64.replaceAll('/', '_')}\n`, 4],
    ['unpadded base64', `${TEXT}\n— PeterNeumann ${sigB64.replace('=', '')}\n`, 4],
    ['non-canonical base64 (trailing bits)', `${TEXT}\n— PeterNeumann ${sigB64.replace('AM=', 'AN=')}\n`, 4],
    ['trailing space', `${TEXT}\n${PETER_SIG.replace('\n', ' \n')}`, 4],
    ['short signature (3 bytes)', `${TEXT}\n— PeterNeumann x08g\n`, 4],
    ['short signature (4 bytes, hash only)', `${TEXT}\n— PeterNeumann x08goA==\n`, 4],
    ['second signature malformed', `${TEXT}\n${PETER_SIG}— EnochRoot !!\n`, 5],
    ['lone surrogate on line 2', `a\nb\ud800\n\n${PETER_SIG}`, 2],
    ['invalid UTF-8 on line 2', Buffer.concat([Buffer.from('a\nb'), Buffer.from([0xc3, 0x28]), Buffer.from(`\n\n${PETER_SIG}`)]), 2],
    ['UTF-8 encoded surrogate on line 2', Buffer.concat([Buffer.from('a\n'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`\n\n${PETER_SIG}`)]), 2],
    ['truncated UTF-8 at the end', Buffer.concat([Buffer.from(`${TEXT}\n${PETER_SIG}`), Buffer.from([0xe2, 0x80])]), 5],
    ['huge input', 'a'.repeat(2 << 20), 0],
    ['huge multi-byte input', '😀'.repeat(300_000), 0],
  ];

  for (const [name, input, line] of malformed) {
    it(`rejects ${name} at line ${line}`, () => {
      const e = formatError(() => parseNote(input));
      expect(e.line).toBe(line);
    });
  }

  it('honours maxBytes', () => {
    expect(formatError(() => parseNote(note, { maxBytes: 100 })).message).toMatch(/larger than 100 bytes/);
    expect(parseNote(note, { maxBytes: Buffer.byteLength(note) }).text).toBe(TEXT);
    expect(() => parseNote(note, { maxBytes: 0 })).toThrow(/^options\.maxBytes/);
  });

  it('misuse throws TypeError', () => {
    expect(() => parseNote(null as never)).toThrow(/^noteText must be a string or Uint8Array/);
    expect(() => openNote(note, 5 as never)).toThrow(/^verifiers must be/);
  });

  it('hostile inputs end in a NoteFormatError or a parse, never anything else', () => {
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = ['\n', '\n\n', '— ', '—', ' ', 'a', '+', '=', 'x08go/', '\r', '\u0000', '\ud800', 'é', 'PeterNeumann'];
    const inputs: (string | Uint8Array)[] = ['\n', '\n\n', '\n\n\n', '— \n', '\n— \n', '\u2014'.repeat(1000), '\n'.repeat(10_000)];
    for (let i = 0; i < 500; i++) {
      let s = '';
      for (let j = rand(40); j > 0; j--) s += alphabet[rand(alphabet.length)];
      inputs.push(s, `${TEXT}\n${s}`);
      inputs.push(Uint8Array.from({ length: rand(64) }, () => rand(256)));
    }
    for (const input of inputs) {
      try {
        openNote(input, [peter]);
      } catch (e) {
        expect(e).toBeInstanceOf(NoteFormatError);
        expect(Number.isInteger((e as NoteFormatError).line)).toBe(true);
      }
    }
  });
});

describe('tampering', () => {
  it('changing any byte of the text never leaves a verified signature', () => {
    const note = `${TEXT}\n${PETER_SIG}`;
    let invalid = 0;
    for (let i = 0; i < TEXT.length; i++) {
      const tampered = note.slice(0, i) + (note[i] === 'x' ? 'y' : 'x') + note.slice(i + 1);
      try {
        const n = openNote(tampered, [peter]);
        expect(n.verified).toEqual([]);
        expect(n.invalid).toHaveLength(1);
        invalid++;
      } catch (e) {
        expect(e).toBeInstanceOf(NoteFormatError);
      }
    }
    // Only the text's final newline is structural; every other change is a bad signature.
    expect(invalid).toBe(TEXT.length - 1);
  });

  it('changing any byte of the signature never verifies', () => {
    const start = TEXT.length + 1 + '— PeterNeumann '.length + 6; // past the key hash
    const note = `${TEXT}\n${PETER_SIG}`;
    for (let i = start; i < note.length - 3; i++) {
      const tampered = note.slice(0, i) + (note[i] === 'Q' ? 'R' : 'Q') + note.slice(i + 1);
      const n = openNote(tampered, [peter]);
      expect(n.verified).toEqual([]);
    }
  });
});
