/**
 * The outbox's OTLP/HTTP transport refuses a URL it cannot send to when it is
 * created, quoting the URL with its credentials and tokens masked: in the
 * message and nowhere else on the error (the URL constructor's own error
 * would carry the whole URL as its `input`). What a receiver answers (status
 * text, body, partial-success message) reaches its errors masked too.
 */
import { createServer } from 'node:http';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { createOtlpHttpTransport, OtlpHttpError, OtlpPartialSuccessError } from '../../src/index.js';

function refusal(url: string): Error {
  try {
    createOtlpHttpTransport({ url, contentType: 'application/json' });
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('createOtlpHttpTransport refuses a bad URL without showing its secrets', () => {
  it.each([
    ['another scheme', 'ftp://audit:Zq8secret@collector:4318/v1/logs?api_key=Zq8key', 'ftp://***@collector:4318/v1/logs?api_key=***'],
    ['a URL that does not parse', 'http://audit:Zq8secret@collector:99999/v1/logs?token=Zq8key', 'http://***@collector:99999/v1/logs?token=***'],
  ])('%s', (_name, url, shown) => {
    const e = refusal(url);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe(`options.url must be an http(s) URL; got ${shown}`);
    expect(inspect(e)).not.toMatch(/Zq8secret|Zq8key/);
  });
});

describe('createOtlpHttpTransport quotes what the receiver answered with its secrets masked', () => {
  it.each([
    ['a refusal whose body and status text echo the request', 401, 'text/plain'],
    ['a retryable answer whose body is cut after 500 characters', 503, 'text/plain'],
    ['a partial success whose message echoes the request', 200, 'application/json'],
  ])('%s', async (_name, status, type) => {
    const server = createServer((req, res) => {
      req.resume();
      const echo = `bad creds for ${req.url} with ${req.headers.authorization} and {"api_key":"${req.headers['x-api-key']}"}`;
      req.on('end', () => {
        if (status === 200) res.writeHead(200, { 'content-type': type }).end(JSON.stringify({ partialSuccess: { rejectedLogRecords: '1', errorMessage: echo } }));
        else res.writeHead(status, `Denied token=${req.headers['x-api-key']}`, { 'content-type': type }).end(`${'x'.repeat(status === 503 ? 420 : 0)} ${echo}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const transport = createOtlpHttpTransport({
        url: `http://audit:Zq8pass@127.0.0.1:${port}/v1/logs?api_key=Zq8query`, contentType: 'application/json',
        headers: { 'x-api-key': 'Zq8header' }, deserializeResponse: (d) => JsonLogsSerializer.deserializeResponse(d),
      });
      const response = await transport.send(new TextEncoder().encode('{}'), 2_000);
      expect(response.status).not.toBe('success');
      const error = (response as { error: Error }).error;
      expect(error).toBeInstanceOf(status === 200 ? OtlpPartialSuccessError : OtlpHttpError);
      expect(error.message).toContain('api_key=***');
      expect(inspect(error)).not.toMatch(/Zq8pass|Zq8query|Zq8header|YXVkaXQ6WnE4cGFzcw/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('createOtlpHttpTransport hides configured credentials that the receiver quotes bare', () => {
  it.each([
    ['a refusal quoting the bearer token', 403, { authorization: 'Bearer Zq8bearer-token' }, 'invalid API key Zq8bearer-token', /Zq8bearer/],
    ['a refusal quoting a custom header value', 401, { 'x-honeycomb-team': 'Zq8team-key' }, 'unknown team Zq8team-key (check the key)', /Zq8team/],
    ['a refusal quoting a Basic password decoded', 401, { authorization: `Basic ${Buffer.from('svc:Zq8basic-pw').toString('base64')}` }, 'wrong password Zq8basic-pw for svc', /Zq8basic/],
    ['a partial success quoting the token', 200, { authorization: 'Bearer Zq8partial-token' }, 'token Zq8partial-token may not write here', /Zq8partial/],
  ] as const)('%s', async (_name, status, headers, said, secret) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (status === 200) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ partialSuccess: { rejectedLogRecords: '2', errorMessage: said } }));
        else res.writeHead(status, said, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 16, message: said }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const transport = createOtlpHttpTransport({
        url: `http://127.0.0.1:${port}/v1/logs`, contentType: 'application/json', headers: { ...headers },
        deserializeResponse: (d) => JsonLogsSerializer.deserializeResponse(d),
      });
      const response = await transport.send(new TextEncoder().encode('{}'), 2_000);
      const error = (response as { error: Error }).error;
      expect(error).toBeInstanceOf(status === 200 ? OtlpPartialSuccessError : OtlpHttpError);
      // What the receiver said is still there, less the credential.
      expect(error.message).toContain(said.replace(/Zq8[\w-]+/, '***'));
      expect(inspect(error)).not.toMatch(secret);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('createOtlpHttpTransport quotes a failed answer\'s google.rpc.Status by its message', () => {
  const message = 'the request body is larger than 8388608 bytes; send smaller batches';
  /** Status { code = 8, message } in protobuf, as an OTLP receiver answers a protobuf request. */
  const protobufStatus = (): Buffer => {
    const text = Buffer.from(message, 'utf8');
    return Buffer.concat([Buffer.from([0x08, 8, 0x12, text.length]), text]);
  };
  it.each([
    ['protobuf', 'application/x-protobuf', protobufStatus()],
    ['JSON', 'application/json', Buffer.from(JSON.stringify({ code: 8, message }))],
    ['plain text from a proxy', 'text/plain', Buffer.from(message)],
  ] as const)('%s', async (_name, type, body) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(413, { 'content-type': type }).end(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const transport = createOtlpHttpTransport({ url: `http://127.0.0.1:${port}/v1/logs`, contentType: type === 'application/json' ? type : 'application/x-protobuf' });
      const response = await transport.send(new Uint8Array([1, 2, 3]), 2_000);
      expect((response as { error: Error }).error.message).toBe(`the receiver answered HTTP 413 Payload Too Large: ${message}`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
