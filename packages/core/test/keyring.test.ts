import { describe, expect, it } from 'vitest';
import { AuditError } from '../src/errors.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey, parseVerifierKey, type NoteVerifier } from '../src/note-keys.js';
import { openNote, signNote } from '../src/signed-note.js';
import { parseSignerKey } from '../src/note-keys.js';

// Keys of Go's sumdb/note tests (golang.org/x/mod sumdb/note/note_test.go).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';

describe('Keyring', () => {
  it('holds keys by (name, key hash), from strings or verifiers', () => {
    const ring = new Keyring().add(PETER_VKEY).add(parseVerifierKey(ENOCH_VKEY));
    expect(ring.size).toBe(2);
    expect(ring.has('PeterNeumann', 0xc74f20a3)).toBe(true);
    expect(ring.has('PeterNeumann', 0xc74f20a4)).toBe(false); // same name, other key
    expect(ring.has('PeterNeuman', 0xc74f20a3)).toBe(false); // same hash, other name
    expect(ring.get('EnochRoot', 0xaf0cfe78)?.verifier.verifierKey).toBe(ENOCH_VKEY);
    expect(ring.findVerifier('PeterNeumann', 0xc74f20a3)?.name).toBe('PeterNeumann');
    expect(ring.findVerifier('nobody', 1)).toBeUndefined();
    expect(ring.get('PeterNeumann', -1)).toBeUndefined();
    expect(ring.get(5 as never, 0xc74f20a3)).toBeUndefined();
  });

  it('iterates entries in insertion order', () => {
    const ring = Keyring.from([ENOCH_VKEY, PETER_VKEY]);
    expect([...ring].map((e) => e.keyId)).toEqual(['EnochRoot+af0cfe78', 'PeterNeumann+c74f20a3']);
    expect([...ring][0]!.windows).toEqual([{}]);
  });

  it('adding the same key again adds a window; the key is valid in their union', () => {
    const ring = Keyring.from([
      { key: PETER_VKEY, notBefore: 10n, notAfter: 20n },
      { key: PETER_VKEY, notBefore: 30n, notAfter: 40n },
      { key: parseVerifierKey(PETER_VKEY), notBefore: 30n, notAfter: 40n }, // duplicate window: kept once
    ]);
    expect(ring.size).toBe(1);
    const entry = ring.get('PeterNeumann', 0xc74f20a3)!;
    expect(entry.windows).toEqual([
      { notBefore: 10n, notAfter: 20n },
      { notBefore: 30n, notAfter: 40n },
    ]);
    const covered = [9n, 10n, 20n, 21n, 29n, 30n, 40n, 41n].filter((t) => entry.covers(t));
    expect(covered).toEqual([10n, 20n, 30n, 40n]);
  });

  it('windows are inclusive and open-ended where a bound is absent', () => {
    const ring = new Keyring()
      .add(PETER_VKEY, { notBefore: 100n })
      .add(ENOCH_VKEY, { notAfter: 100n });
    const peter = ring.get('PeterNeumann', 0xc74f20a3)!;
    const enoch = ring.get('EnochRoot', 0xaf0cfe78)!;
    expect([peter.covers(99n), peter.covers(100n), peter.covers(10n ** 30n)]).toEqual([false, true, true]);
    expect([enoch.covers(0n), enoch.covers(100n), enoch.covers(101n)]).toEqual([true, true, false]);
    expect(() => peter.covers(100 as never)).toThrow(/^timeUnixNano must be a bigint/);
  });

  it('entries are snapshots: callers cannot widen a window', () => {
    const ring = new Keyring().add(PETER_VKEY, { notAfter: 5n });
    const entry = ring.get('PeterNeumann', 0xc74f20a3)!;
    expect(() => (entry.windows as unknown as object[]).push({})).toThrow(TypeError);
    expect(() => {
      (entry.windows[0] as { notAfter?: bigint }).notAfter = 100n;
    }).toThrow(TypeError);
    expect(ring.get('PeterNeumann', 0xc74f20a3)!.covers(6n)).toBe(false);
  });

  it('refuses a different key under the same name and key hash', () => {
    const real = parseVerifierKey(PETER_VKEY);
    const impostor: NoteVerifier = { ...real, verifierKey: 'PeterNeumann+c74f20a3+other', verify: () => true };
    const ring = new Keyring().add(real);
    expect(() => ring.add(impostor)).toThrow(RangeError);
    expect(() => ring.add(impostor)).toThrow(/^verifierKey: a different key with the same name and key hash PeterNeumann\+c74f20a3/);
    expect(ring.findVerifier('PeterNeumann', 0xc74f20a3)).toBe(real);
  });

  it('malformed keys are AUDIT_KEY_INVALID; misuse is TypeError/RangeError', () => {
    expect(() => new Keyring().add('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).toThrow(AuditError);
    expect(() => new Keyring().add(5 as never)).toThrow(/^verifierKey must be a verifier key string or a NoteVerifier/);
    expect(() => new Keyring().add({ name: 'x' } as never)).toThrow(TypeError);
    expect(() => new Keyring().add(PETER_VKEY, { notBefore: 5n, notAfter: 4n })).toThrow(RangeError);
    expect(() => new Keyring().add(PETER_VKEY, { notBefore: 5n, notAfter: 4n })).toThrow(/^window\.notBefore \(5\) must not be after window\.notAfter \(4\)/);
    expect(() => new Keyring().add(PETER_VKEY, { notBefore: 5 as never })).toThrow(/^window\.notBefore must be a bigint/);
    expect(() => new Keyring().add(PETER_VKEY, null as never)).toThrow(/^window must be an object/);
    expect(() => Keyring.from(PETER_VKEY as never)).toThrow(/^entries must be an iterable/);
  });

  it('serves openNote as a verifier lookup', () => {
    const { signerKey, verifierKey } = generateNoteKey('audit.example/k1');
    const note = signNote('hello\n', [parseSignerKey(signerKey)]);
    expect(openNote(note, Keyring.from([verifierKey])).verified).toHaveLength(1);
    expect(openNote(note, Keyring.from([PETER_VKEY])).unknown).toHaveLength(1);
  });
});
