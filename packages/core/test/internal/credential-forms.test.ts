/**
 * Tests of the credential forms masked wherever they appear
 * (internal/credential-forms.ts): PEM private keys of every kind, also cut
 * or JSON-escaped, prefixed tokens, keys of a published shape, Slack
 * webhook URLs and JWTs, also after a percent-escape or a `-`; what only
 * resembles them (certificates, `sess_expired`, a token inside a word, a
 * shape of the wrong length) is kept.
 */
import { describe, expect, it } from 'vitest';
import { maskCredentialForms, maskPrivateKeys, maskTokens } from '../../src/internal/credential-forms.js';

/** `n` characters of `alphabet`: a fake key of a real length. */
const chars = (n: number, alphabet = 'Zq8aB2cD3e') => alphabet.repeat(Math.ceil(n / alphabet.length)).slice(0, n);
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

  it('masks a block whose label is in lower case or has doubled blanks', () => {
    expect(maskPrivateKeys(pem('private KEY'))).toBe(pem('private KEY', '***'));
    expect(maskPrivateKeys(pem(' EC  PRIVATE KEY'))).toBe(pem(' EC  PRIVATE KEY', '***'));
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
  it.each([
    ['aws AKIAIOSFODNN7EXAMPLE,', 'aws AKIA***,'],
    ['ASIAZQ8ABCDEFGH23456', 'ASIA***'],
    [`npm ${'npm_' + chars(36)}`, 'npm npm_***'],
    [`"hf_${chars(34, 'ZqaBcDeF')}"`, '"hf_***"'],
    [`key=AIza${chars(35, 'Zq8-_aB')}&x=1`, 'key=AIza***&x=1'],
    [`SG.${chars(22)}.${chars(43, 'Zq8-_aB')}`, 'SG.***'],
    [`openai sk-${chars(48)}`, 'openai sk-***'],
    [`sk-proj-${chars(20, 'Zq8-_aB')}T3BlbkFJ${chars(20)}`, 'sk-proj-***'],
    [`sk-svcacct-${chars(60)}`, 'sk-svcacct-***'],
    [`x-api-key: sk-ant-api03-${chars(93, 'Zq8-_aB')}AA`, 'x-api-key: sk-ant-***'],
    ['slack xapp-1-A0Zq8B2C3D4-1234567890123-abc123def456', 'slack xapp-***'],
    ['post to https://hooks.slack.com/services/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 now', 'post to https://hooks.slack.com/services/*** now'],
    ['hooks.slack.com/workflows/T0ZQ8AB12/A0ZQ8CD34/123/Zq8a1B2c3D4e5F6g', 'hooks.slack.com/workflows/***'],
  ])('masks the shaped key %j', (input, expected) => {
    expect(maskTokens(input)).toBe(expected);
    expect(maskTokens(expected)).toBe(expected);
  });

  it('keeps words that only start like a shaped key: wrong length, case or alphabet, or inside a word', () => {
    for (const text of [
      'AKIAIOSFODNN7EXAMPL', 'AKIAIOSFODNN7EXAMPLEX', 'akiaiosfodnn7example', 'AKIAiosfodnn7example', 'xAKIAIOSFODNN7EXAMPLE',
      `npm_${chars(35)}`, 'npm_config_cache', 'hf_hub_download', `hf_${chars(34)}`, `AIza${chars(34)}`, 'SG.short.key',
      'sk-learn', `sk-${chars(47)}`, 'sk-proj-short', 'https://hooks.slack.com/services/', 'AKIA***', 'sk-proj-***',
    ]) {
      expect(maskTokens(text)).toBe(text);
    }
  });

  it('masks a token after a percent-escape (URL-encoded JSON, %20) or a -, but not inside an identifier', () => {
    expect(maskTokens('?state=%7B%22t%22%3A%22ghp_Zq8a1B2c3D4e5F6%22%7D')).toBe('?state=%7B%22t%22%3A%22ghp_***%22%7D');
    expect(maskTokens('q=foo%20ghp_Zq8a1B2c3D4e5F6&x=1')).toBe('q=foo%20ghp_***&x=1');
    expect(maskTokens('q=%22eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJaCjEyMyJ9.Zq8sig%22')).toBe('q=%22***%22');
    expect(maskTokens('id%3DAKIAIOSFODNN7EXAMPLE')).toBe('id%3DAKIA***');
    expect(maskTokens('key-ghp_Zq8a1B2c3D4e5F6 and x-sk_live_Zq8a1b2c3')).toBe('key-ghp_*** and x-sk_live_***');
    for (const text of ['task_live_Zq8a1b2c3', 'my_sk_live_Zq8a1b2c3', 'mysk_live_Zq8a1b2c3', 'a.ghp_Zq8a1B2c3D4e5F6', '100%ghp_Zq8a1B2c3D4e5F6', 'x%2ghp_Zq8a1B2c3D4e5F6']) {
      expect(maskTokens(text)).toBe(text);
    }
  });
});

describe('maskCredentialForms', () => {
  it('masks tokens, JWTs and PEM private keys, and nothing else', () => {
    expect(maskCredentialForms(`ghp_Zq8a1B2c3D4e5F6 ${pem('PRIVATE KEY')}`)).toBe(`ghp_*** ${pem('PRIVATE KEY', '***')}`);
    for (const text of ['password=Zq8', 'https://u:Zq8@h/', 'Bearer Zq8abc', 'alice']) expect(maskCredentialForms(text)).toBe(text);
  });
});
