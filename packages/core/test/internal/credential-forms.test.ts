/**
 * Tests of the credential forms masked wherever they appear
 * (internal/credential-forms.ts): PEM private keys of every kind, also cut
 * or JSON-escaped, and prefixed tokens and JWTs; what only resembles them
 * (certificates, `sess_expired`, a token inside a word) is kept.
 */
import { describe, expect, it } from 'vitest';
import { maskPrivateKeys, maskTokens } from '../../src/internal/credential-forms.js';

const pem = (label: string, body = 'MIIEpQIBAAKCAQEAZq8') => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;

describe('maskPrivateKeys', () => {
  it.each(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PGP PRIVATE KEY BLOCK'])('masks the body of a %s and keeps its lines', (label) => {
    expect(maskPrivateKeys(`key: ${pem(label)} end`)).toBe(`key: ${pem(label, '***')} end`);
  });

  it('masks JSON-escaped blocks, several blocks, and a block cut before its END line', () => {
    expect(maskPrivateKeys('{"k":"-----BEGIN EC PRIVATE KEY-----\\nMHcZq8\\n-----END EC PRIVATE KEY-----"}')).toBe('{"k":"-----BEGIN EC PRIVATE KEY-----***-----END EC PRIVATE KEY-----"}');
    expect(maskPrivateKeys(`${pem('PRIVATE KEY', 'Zq8a')} and ${pem('RSA PRIVATE KEY', 'Zq8b')}`)).toBe(`${pem('PRIVATE KEY', '***')} and ${pem('RSA PRIVATE KEY', '***')}`);
    expect(maskPrivateKeys('cut: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbZq8')).toBe('cut: -----BEGIN OPENSSH PRIVATE KEY-----\n***');
  });

  it('keeps certificates, public keys and masked blocks as they are', () => {
    for (const text of [pem('CERTIFICATE'), pem('PUBLIC KEY'), pem('RSA PRIVATE KEY', '***'), '-----BEGIN RSA PRIVATE KEY-----\n\n-----END RSA PRIVATE KEY-----', 'no key here']) {
      expect(maskPrivateKeys(text)).toBe(text);
    }
  });

  it('answers hostile text in linear time', () => {
    for (const hostile of ['-----BEGIN RSA PRIVATE KEY-----'.repeat(40_000), `-----BEGIN ${'A '.repeat(400_000)}`, '-----BEGIN -----END '.repeat(50_000)]) {
      const start = performance.now();
      maskPrivateKeys(hostile);
      expect(performance.now() - start).toBeLessThan(1000);
    }
  });
});

describe('maskTokens', () => {
  it.each([
    ['pushed with ghp_Zq8a1B2c3D4e5F6g7H8', 'pushed with ghp_***'],
    ['(gho_Zq8a1b2c3d4)', '(gho_***)'],
    ['pat github_pat_11AZq8x_yz0123', 'pat github_pat_***'],
    ['glpat-Zq8a1b2c3d4e5', 'glpat-***'],
    ['key sk_live_51HZq8abc, test rk_test_Zq8a1b2c3', 'key sk_live_***, test rk_test_***'],
    ['slack xoxb-1234-Zq8abc', 'slack xoxb-***'],
    ['cookie sess_Zq8a1b2c3d', 'cookie sess_***'],
    ['id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJaCjEyMyJ9.Zq8sig-_x', 'id_token ***'],
  ])('masks %j', (input, expected) => {
    expect(maskTokens(input)).toBe(expected);
    expect(maskTokens(expected)).toBe(expected);
  });

  it('keeps words that only start like a token', () => {
    for (const text of ['sess_expired', 'session_token_count', 'my_sess_a1b2c3d4', 'ghp_short1', 'eyJ.not.a.jwt', 'sk_live_', 'ghp_***']) {
      expect(maskTokens(text)).toBe(text);
    }
  });
});
