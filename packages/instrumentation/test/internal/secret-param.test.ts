/** Which path parameters hold a credential, and how the recorded path masks them. */
import { describe, expect, it } from 'vitest';
import { isSecretParamName, maskPathSegments, secretParamValues } from '../../src/internal/secret-param.js';

describe('secret path parameters', () => {
  it('credential names are secret in any spelling; ids of credentials and ordinary ids are not', () => {
    const secret = [
      'token', 'resetToken', 'reset_token', 'RESET-TOKEN', 'resettoken', 'accessToken', 'secret', 'clientSecret', 'password', 'passwd', 'pwd',
      'signature', 'sig', 'credential', 'otp', 'auth', 'jwt', 'key', 'apiKey', 'api_key', 'APIKey', 'code', 'resetCode', 'inviteCode',
      'session', 'sessionId', 'sid', 'jsessionid',
    ];
    const plain = ['id', 'toolId', 'keyId', 'apiKeyId', 'apikeyid', 'tokenId', 'secretName', 'objectKey', 'countryCode', 'author', 'authorId', 'signup', 'keyword', 'slug'];
    expect(secret.filter((n) => !isSecretParamName(n))).toEqual([]);
    expect(plain.filter((n) => isSecretParamName(n))).toEqual([]);
  });

  it('masks every segment holding a secret value, a decoded "/" in its encoded form too', () => {
    expect(maskPathSegments('/reset/abc123/confirm', secretParamValues({ token: 'abc123', user: 'u1' }))).toBe('/reset/***/confirm');
    expect(maskPathSegments('/r/x-abc123', ['abc123'])).toBe('/r/***');
    expect(maskPathSegments('/r/a%2Fb', secretParamValues({ token: 'a/b' }))).toBe('/r/***');
    expect(maskPathSegments('/tools/t1', secretParamValues({ id: 't1' }))).toBe('/tools/t1');
  });
});
