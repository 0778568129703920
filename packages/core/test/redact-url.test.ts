/**
 * Tests of redactUrl, the one masking of URLs shown in messages, logs and
 * records: userinfo with and without a password, secret-looking query
 * parameters, text that is not a URL, and URLs without secrets unchanged.
 */
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/redact-url.js';

describe('redactUrl', () => {
  it('replaces the whole userinfo, with or without a password', () => {
    expect(redactUrl('https://user:secret@collector:4318/v1/logs')).toBe('https://***@collector:4318/v1/logs');
    expect(redactUrl('https://ghp_Zq8token@collector:4318')).toBe('https://***@collector:4318');
    expect(redactUrl('ftp://user:secret@host')).toBe('ftp://***@host');
    expect(redactUrl('http://user:p@ss@collector:4318/')).toBe('http://***@collector:4318/');
  });

  it('replaces the values of query and fragment parameters whose names look secret, and keeps the others', () => {
    expect(redactUrl('https://c:4318/v1/logs?api_key=k1&tenant=acme&access_token=t1')).toBe('https://c:4318/v1/logs?api_key=***&tenant=acme&access_token=***');
    expect(redactUrl('https://bucket.example/o?X-Amz-Credential=AKIA&X-Amz-Signature=abc&sig=s1&sv=2024')).toBe('https://bucket.example/o?X-Amz-Credential=***&X-Amz-Signature=***&sig=***&sv=2024');
    expect(redactUrl('https://c/?password=p;Secret=s#auth=a')).toBe('https://c/?password=***;Secret=***#auth=***');
    expect(redactUrl('https://c/?api%5Fkey=k1')).toBe('https://c/?api%5Fkey=***');
    expect(redactUrl('https://u:p@c/?token=t')).toBe('https://***@c/?token=***');
  });

  it('masks text that does not parse as a URL: anything between // and the last @', () => {
    const garbage = ['http://user:Zq8pw@host:99999/x', 'http://us er:Zq8pw@host', 'https://user:pa?Zq8pw@host', '//user:Zq8pw@host', 'http://user:pa/Zq8pw@host'];
    for (const g of garbage) {
      expect(redactUrl(g), g).not.toContain('Zq8pw');
      expect(redactUrl(g), g).toContain('***@');
    }
    expect(redactUrl('user:Zq8pw@host:4319')).toBe('***@host:4319');
    expect(redactUrl('not a url ?token=Zq8')).toBe('not a url ?token=***');
  });

  it('leaves a URL without secrets, and text that is no URL, exactly as written', () => {
    for (const s of ['http://collector:4318', 'https://collector:4318/v1/logs?tenant=acme#top', 'https://host/users/@me', 'https://host/a//b@c', 'collector:4318', 'alice@example.com', '', 'http://[::1]:4318/']) {
      expect(redactUrl(s)).toBe(s);
    }
  });

  it('masking a masked URL changes nothing', () => {
    for (const s of ['https://user:secret@c:4318/?api_key=k', 'user:pw@host:4319', 'http://u:p@host:99999']) {
      expect(redactUrl(redactUrl(s))).toBe(redactUrl(s));
    }
  });

  it('answers long and odd text in linear time, and refuses a non-string', () => {
    const long = `http://${'a:'.repeat(500_000)}@h/?${'k=v&'.repeat(200_000)}`;
    const start = performance.now();
    expect(redactUrl(long).startsWith('http://***@h/?')).toBe(true);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(redactUrl('http://u:p\u0000@h')).toBe('http://***@h');
    expect(() => redactUrl(42 as unknown as string)).toThrow(TypeError);
  });
});
