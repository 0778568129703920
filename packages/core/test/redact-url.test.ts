/**
 * Tests of redactUrl, the one masking of URLs shown in messages, logs and
 * records: userinfo with and without a password, secret-looking query
 * parameters (query, fragment, `;matrix`, an escaped query), text that is
 * not a URL, and URLs without secrets unchanged; and of redactSecrets, its
 * counterpart for free text a receiver or a transport wrote (response
 * bodies, error messages) and for the strings of audit records: URLs in it,
 * secret pairs in query, header, JSON and prose form, Authorization
 * credentials in any case, prefixed tokens, JWTs and PEM private keys —
 * and words that only contain a secret word (`author`, `tokenizer`) kept.
 */
import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl } from '../src/redact-url.js';

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

  it('replaces secret-named ;matrix parameters of the path and an escaped (%3F / %3D) query', () => {
    expect(redactUrl('https://h/app;jsessionid=Zq8s/items;v=2?page=1')).toBe('https://h/app;jsessionid=***/items;v=2?page=1');
    expect(redactUrl('https://h/m;access_token=Zq8t')).toBe('https://h/m;access_token=***');
    expect(redactUrl('https://h/cb%3Faccess_token%3DZq8t%26state%3Dx')).toBe('https://h/cb%3Faccess_token%3D***%26state%3Dx');
    expect(redactUrl('https://h/cb%3fstate=x%26password=Zq8p')).toBe('https://h/cb%3fstate=x%26password=***');
    expect(redactUrl('https://h/files;version=3/what%3F.txt')).toBe('https://h/files;version=3/what%3F.txt');
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

describe('redactSecrets', () => {
  const masked: [string, string, string][] = [
    ['a URL in a sentence: userinfo and token', 'POST http://admin:Zq8pass@127.0.0.1:4318/base/v1/logs?api_key=Zq8key failed', 'POST http://***@127.0.0.1:4318/base/v1/logs?api_key=*** failed'],
    ['the echo of a request path', 'HTTP 401 Unauthorized: denied: bad creds for /base/v1/logs?api_key=sk_live_Zq8key&tenant=a', 'HTTP 401 Unauthorized: denied: bad creds for /base/v1/logs?api_key=***&tenant=a'],
    ['a URL in parentheses and quotes', 'see (https://u:Zq8pass@c/x) and "http://c/?token=Zq8key"', 'see (https://***@c/x) and "http://c/?token=***"'],
    ['a URL without scheme', 'proxy //u:Zq8pass@proxy:3128 refused', 'proxy //***@proxy:3128 refused'],
    ['user:password@host without scheme', 'cannot reach audit:Zq8pass@collector:4318 now', 'cannot reach ***@collector:4318 now'],
    ['name=value in prose', 'token=Zq8key rejected; password = Zq8pass was wrong', 'token=*** rejected; password = *** was wrong'],
    ['a form body', 'grant_type=client&client_secret=Zq8key&scope=a', 'grant_type=client&client_secret=***&scope=a'],
    ['a whole value with separators in it', 'password=Zq8p,a;s&s next', 'password=*** next'],
    ['a value ending where the next pair starts', 'Cookie: session=Zq8key; path=/; Secure', 'Cookie: session=***; path=/; Secure'],
    ['header lines', 'Authorization: Bearer Zq8key.jwt-part\r\nx-api-key: Zq8key2\r\nHost: c', 'Authorization: Bearer ***\r\nx-api-key: ***\r\nHost: c'],
    ['a Basic header and a bare header value', 'Proxy-Authorization: Basic YXVkaXQ6WnE4cGFzcw==, X-Auth-Token:Zq8key)', 'Proxy-Authorization: Basic ***, X-Auth-Token:***'],
    ['a standalone Bearer and Basic credential', 'sent Bearer Zq8key and Basic abc== and basic YXVkaXQ6WnE4cGFzcw', 'sent Bearer *** and Basic *** and basic ***'],
    ['JSON members, escaped quotes, numbers, nested objects', '{"user":"alice","password":"Zq8\\"pass","api_key":1234,"auth":{"access_token": "Zq8key"}}', '{"user":"alice","password":"***","api_key":***,"auth":{"access_token": "***"}}'],
    ['single-quoted members', "{'secret': 'Zq8 key', 'n': 1}", "{'secret': '***', 'n': 1}"],
    ['an unterminated quoted value (a cut body)', 'x {"token":"Zq8key', 'x {"token":"***'],
    ['percent-encoded and signature names', 'api%5Fkey=Zq8key X-Amz-Signature=Zq8sig&sig=Zq8s&sv=1', 'api%5Fkey=*** X-Amz-Signature=***&sig=***&sv=1'],
    ['a doubled separator', 'expected key == Zq8key', 'expected key == ***'],
    ['a scheme in capitals and after a tab or a no-break space', 'BEARER Zq8a, Bearer\tZq8b, bearer\u00a0Zq8c', 'BEARER ***, Bearer\t***, bearer\u00a0***'],
    ['a URL with a secret matrix parameter', 'GET https://h/m;jsessionid=Zq8s/x failed', 'GET https://h/m;jsessionid=***/x failed'],
    ['a path with a matrix parameter, its segment ending the value', '/api/m;access_token=Zq8t/items?page=2', '/api/m;access_token=***/items?page=2'],
    ['an escaped query', 'redirect to /cb%3Faccess_token%3DZq8t%26state%3Dx', 'redirect to /cb%3Faccess_token%3D***%26state%3Dx'],
    ['prefixed tokens anywhere, in a URL path too', 'pushed ghp_Zq8a1B2c3D4e5F6 to https://h/x/glpat-Zq8a1b2c3d4 via xoxb-1234-Zq8abc', 'pushed ghp_*** to https://h/x/glpat-*** via xoxb-***'],
    ['a session id with its prefix', 'resumed sess_Zq8a1b2c3d4', 'resumed sess_***'],
    ['a JWT without a scheme', 'id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJaCjEyMyJ9.Zq8sig', 'id_token ***'],
    ['a PEM private key', 'tls: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEZq8\n-----END EC PRIVATE KEY-----', 'tls: -----BEGIN EC PRIVATE KEY-----\n***\n-----END EC PRIVATE KEY-----'],    ['keys of a published shape under innocent names', 'aws AKIAZQ8ABCDEFGHIJKLM, npm npm_Zq8aB2cD3eZq8aB2cD3eZq8aB2cD3eZq8aB2, google AIzaZq8aB2cD3eZq8aB2cD3eZq8aB2cD3eZq8aB', 'aws AKIA***, npm npm_***, google AIza***'],
    ['AI provider keys', 'model sk-proj-Zq8aB2cD3e_Zq8aB2cD3e-Zq8 and sk-ant-api03-Zq8aB2cD3eZq8aB2cD3e', 'model sk-proj-*** and sk-ant-***'],
    ['a Slack webhook URL, its secret in the path', 'POST https://hooks.slack.com/services/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: 404', 'POST https://hooks.slack.com/services/***: 404'],
    ['short secret names as whole names (pass, pin, otp, cvv) in text, JSON and a query', 'login pass=Hunter2x {"pin": "4821", "otp":"918273"} /v?cvv=123&x=1', 'login pass=*** {"pin": "***", "otp":"***"} /v?cvv=***&x=1'],
    ['a token in URL-encoded JSON, after %20 and after a -', '/cb?state=%7B%22t%22%3A%22ghp_Zq8a1B2c3D4e5F6%22%7D&q=foo%20ghp_Zq8b1B2c3D4e5F6 key-ghp_Zq8c1B2c3D4e5F6', '/cb?state=%7B%22t%22%3A%22ghp_***%22%7D&q=foo%20ghp_*** key-ghp_***'],
  ];
  it.each(masked)('masks %s', (_name, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(redactSecrets(input)).not.toMatch(/Zq8|YXVkaXQ6|abc==/);
  });

  it('leaves text without secrets exactly as written', () => {
    for (const s of [
      '', 'connect ECONNREFUSED 127.0.0.1:4318', 'the receiver answered HTTP 503 Service Unavailable', 'HTTP 401 Unauthorized: denied',
      'http://collector:4318/v1/logs?tenant=acme', 'https://auth.example.com:443/token/v1/logs', 'HTTP 400: field "body" is required, got {"code":3,"message":"bad"}',
      'alice@example.com wrote mailto:alice@example.com', 'Basic auth failed', 'WWW-Authenticate: Bearer realm="audit", error="invalid_token"',
      'exporter did not answer within 30000 ms', 'undecodable outbox row 5: Unexpected token } in JSON at position 3', 'at file:///srv/app.js:10:5', 'Grüße, 世界 ✓',
      '{"password":""}', 'token=', 'a=1&b=2', 'shipping=5 compass=north passport=no spinner=1 pins=2 bypass=x',
    ]) {
      expect(redactSecrets(s), s).toBe(s);
    }
  });

  it('leaves words that only contain a secret word, and forms that only resemble a credential', () => {
    for (const s of [
      'author: bob', 'author=bob', 'authority: internal-ca', 'authentication: failed', 'Unauthorized: retry', 'tokenizer: bpe', 'tokenized=true', 'keyboard: us', 'keyword=search',
      'password reset requested', 'tokenizer', 'Basic plan', 'https://example.com/docs/a?lang=en', 'sess_expired', 'ghp_short1', 'see -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    ]) {
      expect(redactSecrets(s), s).toBe(s);
    }
  });

  it('masks a URL as redactUrl does', () => {
    for (const url of ['https://user:secret@c:4318/v1/logs?api_key=k1&tenant=a', 'http://u:p@ss@c/?password=p;Secret=s#auth=a', 'https://ghp_token@c', 'https://c/?X-Amz-Credential=A&sv=1']) {
      expect(redactSecrets(url)).toBe(redactUrl(url));
    }
  });

  it('masking masked text changes nothing', () => {
    for (const [, input] of masked) expect(redactSecrets(redactSecrets(input)), input).toBe(redactSecrets(input));
  });

  it('answers long and hostile text in linear time, and refuses a non-string', () => {
    for (const hostile of [
      'a'.repeat(1_000_000), 'token='.repeat(200_000), `${'a:'.repeat(300_000)}@h`, '&a'.repeat(300_000), `x ${'"token":"'.repeat(100_000)}`, `key${'= '.repeat(300_000)}v`, ' Bearer'.repeat(150_000), `${'http://'.repeat(100_000)}`,
      ';token=x'.repeat(100_000), '%3Ftoken%3D'.repeat(80_000), `%26${'a'.repeat(500_000)}`, ' sess_'.repeat(150_000), ` sess_${'a'.repeat(500_000)}`, ' eyJaaaaaaaa.'.repeat(70_000), '-----BEGIN RSA PRIVATE KEY-----'.repeat(30_000),
      '%20'.repeat(300_000), 'AKIA'.repeat(250_000), `sk-proj-${'a'.repeat(1_000_000)}!`, 'hooks.slack.com/services/'.repeat(40_000), `${'-'.repeat(500_000)}ghp_`,
    ]) {
      const start = performance.now();
      redactSecrets(hostile);
      expect(performance.now() - start, hostile.slice(0, 20)).toBeLessThan(1000);
    }
    expect(() => redactSecrets(undefined as unknown as string)).toThrow(TypeError);
  });
});
