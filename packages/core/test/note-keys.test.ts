import { describe, expect, it } from 'vitest';
import { AuditError } from '../src/errors.js';
import {
  formatVerifierKey,
  generateNoteKey,
  isValidKeyName,
  noteKeyHash,
  noteKeyId,
  parseSignerKey,
  parseVerifierKey,
} from '../src/note-keys.js';

// Test vectors of Go's signed-note implementation, golang.org/x/mod
// sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestVerifierList):
// https://github.com/golang/mod/blob/master/sumdb/note/note_test.go
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const PETER_BAD_KEYS = [
  'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==', // wrong length key, adjusted hash
  'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // unknown algorithm, adjusted hash
];

function keyError(fn: () => unknown): AuditError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AuditError);
    expect((e as AuditError).code).toBe('AUDIT_KEY_INVALID');
    return e as AuditError;
  }
  throw new Error('expected AUDIT_KEY_INVALID, nothing was thrown');
}

/** Every proper substring and every single-character increment of `key`, as Go's tests mangle keys. */
function manglings(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= key.length; i++) {
    for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
  }
  for (let i = 0; i < key.length; i++) {
    out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
  }
  return out;
}

describe('verifier keys', () => {
  it('parses the Go PeterNeumann verifier key', () => {
    const v = parseVerifierKey(PETER_VKEY);
    expect(v.name).toBe('PeterNeumann');
    expect(v.keyHash).toBe(0xc74f20a3);
    expect(v.publicKey).toEqual(Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64').subarray(1));
    expect(v.verifierKey).toBe(PETER_VKEY);
    expect(noteKeyHash(v.name, v.publicKey)).toBe(0xc74f20a3);
    expect(formatVerifierKey(v.name, v.publicKey)).toBe(PETER_VKEY);
    expect(parseVerifierKey(ENOCH_VKEY).keyHash).toBe(0xaf0cfe78);
  });

  it('rejects every substring and single-character mangling of the Go key', () => {
    for (const k of [...manglings(PETER_VKEY), ...PETER_BAD_KEYS]) keyError(() => parseVerifierKey(k));
  });

  it('says what is wrong', () => {
    expect(keyError(() => parseVerifierKey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).message).toMatch(
      /key hash c74f20a4 does not match the key \(its hash is c74f20a3\)/,
    );
    expect(keyError(() => parseVerifierKey(PETER_BAD_KEYS[1]!)).message).toMatch(/unsupported key algorithm 0x65/);
    // Go accepts PETER_BAD_KEYS[0]'s base64 (non-zero trailing bits); here it already fails as non-canonical.
    expect(keyError(() => parseVerifierKey(PETER_BAD_KEYS[0]!)).message).toMatch(/not canonical standard base64/);
    const long = Buffer.concat([Buffer.from([1]), Buffer.alloc(33, 7)]).toString('base64');
    expect(keyError(() => parseVerifierKey(`PeterNeumann+c74f20a3+${long}`)).message).toMatch(/must be 32 bytes.*got 33/);
    expect(keyError(() => parseVerifierKey('Peter Neumann+c74f20a3+ARpc')).message).toMatch(/key name "Peter Neumann" is invalid/);
    expect(keyError(() => parseVerifierKey('PeterNeumann+c74f20a+ARpc')).message).toMatch(/8 hexadecimal digits/);
    expect(keyError(() => parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX')).message).toMatch(
      /does not match/,
    );
    expect(keyError(() => parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcU=')).message).toMatch(/canonical standard base64/);
    expect(keyError(() => parseVerifierKey(`${PETER_VKEY}\n`)).message).toMatch(/white space/);
    expect(keyError(() => parseVerifierKey('PeterNeumann')).message).toMatch(/expected <name>\+<8 hex key hash>\+<base64 key>/);
    const priv = keyError(() => parseVerifierKey(PETER_SKEY));
    expect(priv.message).toMatch(/private signer key/);
    expect(priv.message).not.toContain('AYEKFALV');
  });

  it('accepts an upper-case key hash as Go does, and writes it canonically', () => {
    expect(parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'C74F20A3')).verifierKey).toBe(PETER_VKEY);
  });

  it('verify is false, not a throw, for malformed signatures', () => {
    const v = parseVerifierKey(PETER_VKEY);
    expect(v.verify('hi', Buffer.alloc(0))).toBe(false);
    expect(v.verify('hi', Buffer.alloc(65))).toBe(false);
    expect(v.verify('hi', 'x'.repeat(64) as unknown as Uint8Array)).toBe(false);
    expect(() => v.verify(42 as unknown as string, Buffer.alloc(64))).toThrow(TypeError);
  });

  it('a public key that is not a curve point verifies nothing', () => {
    const pub = Buffer.alloc(32, 0xff);
    const v = parseVerifierKey(formatVerifierKey('odd', pub));
    expect(v.verify('hi', Buffer.alloc(64))).toBe(false);
  });

  it('misuse throws TypeError with the argument name first', () => {
    expect(() => parseVerifierKey(1 as unknown as string)).toThrow(/^verifierKey must be a string/);
    expect(() => noteKeyHash('a', Buffer.alloc(31))).toThrow(RangeError);
    expect(() => noteKeyHash('a', Buffer.alloc(31))).toThrow(/^publicKey must be 32 bytes/);
    expect(() => noteKeyHash('a b', Buffer.alloc(32))).toThrow(/^name "a b" is not a valid key name/);
  });
});

describe('signer keys', () => {
  it('parses the Go PeterNeumann signer key; its verifier key is the Go verifier key', () => {
    const s = parseSignerKey(PETER_SKEY);
    expect(s.name).toBe('PeterNeumann');
    expect(s.keyHash).toBe(0xc74f20a3);
    expect(s.verifierKey).toBe(PETER_VKEY);
    const v = parseVerifierKey(PETER_VKEY);
    const sig = s.sign('hi');
    expect(sig).toHaveLength(64);
    expect(v.verify('hi', sig)).toBe(true);
    expect(v.verify(Buffer.from('hi'), sig)).toBe(true);
  });

  it('rejects every substring and mangling of the Go signer key, never echoing key material', () => {
    const seedB64 = PETER_SKEY.slice(PETER_SKEY.lastIndexOf('+', PETER_SKEY.length - 20) + 1);
    for (const k of manglings(PETER_SKEY)) {
      const e = keyError(() => parseSignerKey(k));
      for (let i = 0; i + 6 <= seedB64.length; i++) expect(e.message).not.toContain(seedB64.slice(i, i + 6));
    }
  });

  it('says what is wrong', () => {
    expect(keyError(() => parseSignerKey(PETER_VKEY)).message).toMatch(/must start with PRIVATE\+KEY\+/);
    expect(keyError(() => parseSignerKey(PETER_SKEY.replace('c74f20a3', 'c74f20a4'))).message).toMatch(
      /key hash does not match the key derived from the private key/,
    );
    expect(keyError(() => parseSignerKey('PRIVATE+KEY+PeterNeumann+c74f20a3+ZYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz')).message).toMatch(
      /unsupported key algorithm/,
    );
    expect(() => parseSignerKey(undefined as unknown as string)).toThrow(/^signerKey must be a string/);
  });

  it('the signer object does not expose the seed', () => {
    const s = parseSignerKey(PETER_SKEY);
    expect(JSON.stringify(s)).not.toContain('AYEKFALV');
    expect(Object.keys(s).sort()).toEqual(['keyHash', 'name', 'publicKey', 'sign', 'verifierKey']);
  });
});

describe('generateNoteKey', () => {
  it('generates a self-consistent key pair in the documented formats', () => {
    const { signerKey, verifierKey } = generateNoteKey('billing-api.example/audit');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+billing-api\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(verifierKey).toMatch(/^billing-api\.example\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const s = parseSignerKey(signerKey);
    const v = parseVerifierKey(verifierKey);
    expect(s.verifierKey).toBe(verifierKey);
    expect(s.keyHash).toBe(v.keyHash);
    const msg = Buffer.from('hi');
    const sig = s.sign(msg);
    expect(v.verify(msg, sig)).toBe(true);
    sig[0]! ^= 1;
    expect(v.verify(msg, sig)).toBe(false);
    sig[0]! ^= 1;
    msg[0]! ^= 1;
    expect(v.verify(msg, sig)).toBe(false);
  });

  it('generates distinct keys', () => {
    expect(generateNoteKey('k').verifierKey).not.toBe(generateNoteKey('k').verifierKey);
  });

  it('refuses names that signed-note forbids', () => {
    for (const name of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2028b', 'a\u0001b', 'a\ud800b']) {
      expect(() => generateNoteKey(name)).toThrow(RangeError);
    }
    expect(() => generateNoteKey(7 as unknown as string)).toThrow(/^name must be a string/);
  });
});

describe('helpers', () => {
  it('isValidKeyName follows C2SP: non-empty, no Unicode space, no plus', () => {
    expect(isValidKeyName('example.com/log42')).toBe(true);
    expect(isValidKeyName('Ünïcödé/😀')).toBe(true);
    expect(isValidKeyName('a\u0085b')).toBe(false); // NEL is Unicode white space
    expect(isValidKeyName('a\u3000b')).toBe(false);
    expect(isValidKeyName(undefined)).toBe(false);
  });

  it('noteKeyId writes the 8-hex key hash', () => {
    expect(noteKeyId('PeterNeumann', 0xc74f20a3)).toBe('PeterNeumann+c74f20a3');
    expect(noteKeyId('x', 1)).toBe('x+00000001');
    expect(() => noteKeyId('x', 2 ** 32)).toThrow(/^keyHash/);
  });

});
