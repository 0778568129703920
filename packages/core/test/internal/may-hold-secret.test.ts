/**
 * Tests of the masking pre-check (internal/may-hold-secret.ts): it says yes
 * for every credential form redactSecrets masks — checked form by form and
 * as a property over strings built from the pieces of those forms — and no
 * for the ordinary strings of a typical record, in linear time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayHoldSecret } from '../../src/internal/may-hold-secret.js';
import { redactSecrets } from '../../src/redact-url.js';

describe('mayHoldSecret', () => {
  it.each([
    'password: hunter2', '{"password":"x"}', "{'secret' : 'x'}", 'Authorization: token ghp_x', 'BEARER x', 'Bearer\tx', 'bearer\u00a0x', 'basic\u3000YWJj',
    'api_key: x', 'x-api-key: x', 'password=x', 'p%61ssword=x', '/cb%3Ftoken%3Dx', 'https://u:p@h', '//u:p@h', 'u:p@h',
    'ghp_a1b2c3d4e5', 'gho_a1b2c3d4e5', 'GITHUB_PAT_a1b2c3d4', 'glpat-a1b2c3d4', 'sk_live_a1b2c3d4', 'rk_test_a1b2c3d4', 'xoxb-a1b2c3d4', 'sess_a1b2c3d4',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', '-----BEGIN RSA PRIVATE KEY-----', 'x -----BEGIN PRIVATE KEY-----abc',
    'AKIAIOSFODNN7EXAMPLE', 'ASIAIOSFODNN7EXAMPLE', `AIza${'a'.repeat(35)}`, `npm_${'a1'.repeat(18)}`, `hf_${'a'.repeat(34)}`, `SG.${'a'.repeat(22)}.${'b'.repeat(43)}`,
    `sk-${'a1'.repeat(24)}`, `sk-proj-${'a1'.repeat(10)}`, `sk-ant-${'a1'.repeat(10)}`, 'xapp-1-A0123-1234-abc1', 'hooks.slack.com/services/T0/B0/a1b2c3d4',
    'pw: hunter2', 'PW : x', '{"pw": "x1"}', "{'pw':'x'}", 'pin: 4821', 'pass: x', 'otp: 123456', 'cvv: 123',
  ])('says yes for %j', (text) => {
    expect(mayHoldSecret(text)).toBe(true);
  });

  it('says no for the ordinary strings and member names of a record', () => {
    for (const text of [
      '', 'reason', 'ticket', 'attempt', 'maintenance', 'OPS-12345', 'Tool number 517', '/admin/tools/517', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0',
      '2025-06-15T10:00:00.000Z', '10.0.3.21', 'user-42', 'rv:128.0', 'password reset requested', 'a number here', 'x86_64', 'some.dotted.name',
    ]) {
      expect(mayHoldSecret(text), text).toBe(false);
    }
  });

  it('is true whenever redactSecrets would change the text (property over the pieces of every form)', () => {
    // Few pieces, mostly words and blanks: a string whose only credential is
    // one form is common, so a form the pre-check missed shows up.
    const words = ['Bearer', 'BASIC', 'basic', 'token', 'Passwd', 'key', 'sig', 'author', 'session', 'sess', 'ghp', 'sk', 'live', 'xoxb', 'glpat', 'github', 'pat', 'eyJhbGciOiJI', 'YWJjOmRlZg==', 'abc', 'a1b2c3d4e5', '12345678', 'x'];
    const joins = [' ', '\t', '\u00a0', '\u3000', '\n', ':', '_', '-', '.', '"', "'", ',', '(', '=', '@', '/', '//', '%3D'];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...words), fc.constantFrom(...joins)), { maxLength: 6 }), (parts) => {
        const text = parts.join('');
        if (redactSecrets(text) !== text) expect(mayHoldSecret(text), JSON.stringify(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    const pieces = [
      'password', 'Passwd', 'token', 'TOKEN', 'key', 'secret', 'sig', 'signature', 'auth', 'author', 'session', 'pwd', 'credential', 'authorization', 'x-api-',
      'pw', 'PW', 'pass', 'pin', 'otp', 'totp', 'hotp', 'cvv', 'cvc',
      ':', '=', '%3D', '%3f', '%61', '"', "'", ' ', '\t', '\u00a0', '\n', '//', '/', '@', '.', '_', '-', ';', '&', '?', '#',
      'Bearer', 'BASIC', 'basic', 'ghp_', 'sess_', 'sk_live_', 'xoxb-', 'glpat-', 'github_pat_', 'eyJ', 'eyJhbGciOi', 'a1b2c3d4e5', 'abc', 'YWJjOmRlZg==', '12345678',
      '-----BEGIN ', 'RSA ', 'PRIVATE KEY-----', '-----END ', 'http:', 'u:p', 'x',
      'AKIA', 'ASIA', 'AIza', 'IOSFODNN7EXAMPLE', 'npm_', 'hf_', 'SG.', 'sk-', 'sk-proj-', 'sk-ant-', 'xapp-', 'hooks.slack.com/services/', '%22', '%20',
      'abcdefghijklmnopq', 'a1b2c3d4e5f6g7h8i9j0k', 'A1B2C3D4E5F6G7H8',
    ];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        if (redactSecrets(text) !== text) expect(mayHoldSecret(text), JSON.stringify(text)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('answers long and hostile text in linear time', () => {
    for (const hostile of ['a'.repeat(1_000_000), 'a:'.repeat(300_000), `${'a'.repeat(500_000)}:`, 'ab_'.repeat(300_000), 'a.'.repeat(300_000), '-'.repeat(600_000), `${'a-'.repeat(300_000)}.`, ' '.repeat(600_000), 'r '.repeat(300_000)]) {
      const start = performance.now();
      mayHoldSecret(hostile);
      expect(performance.now() - start, hostile.slice(0, 10)).toBeLessThan(1000);
    }
  });
});
