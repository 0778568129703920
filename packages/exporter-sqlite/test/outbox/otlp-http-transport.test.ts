/**
 * The outbox's OTLP/HTTP transport refuses a URL it cannot send to when it is
 * created, quoting the URL with its credentials and tokens masked: in the
 * message and nowhere else on the error (the URL constructor's own error
 * would carry the whole URL as its `input`).
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createOtlpHttpTransport } from '../../src/index.js';

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
