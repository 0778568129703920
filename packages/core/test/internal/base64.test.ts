import { describe, expect, it } from 'vitest';
import { decodeBase64Canonical } from '../../src/internal/base64.js';

describe('decodeBase64Canonical', () => {
  it('accepts only the one canonical encoding of each byte string', () => {
    expect(decodeBase64Canonical('AQ==')).toEqual(Buffer.from([1]));
    expect(decodeBase64Canonical('AR==')).toBeUndefined(); // non-zero trailing bits
    expect(decodeBase64Canonical('AQ')).toBeUndefined(); // missing padding
    expect(decodeBase64Canonical('AQ=\n')).toBeUndefined();
    expect(decodeBase64Canonical('A-_=')).toBeUndefined(); // URL alphabet
    expect(decodeBase64Canonical('')).toEqual(Buffer.alloc(0));
  });
});
