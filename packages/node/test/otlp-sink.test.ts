/**
 * The `exporters.otlphttp` sink refuses an endpoint it cannot send to when
 * it is built (`createOtlpSink` is also called without `loadConfig`), naming
 * the key and the fix, and quoting the endpoint with its credentials and
 * tokens masked — in the message and anywhere else on the error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createOtlpSink } from '../src/index.js';
import { logsUrl } from '../src/otlp-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-otlp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const outbox = { path: join(dir, 'outbox.db') };

/** The error `createOtlpSink(config)` throws. */
function refusal(config: Parameters<typeof createOtlpSink>[0]): Error {
  try {
    createOtlpSink(config);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('createOtlpSink refuses a bad endpoint without showing its secrets', () => {
  it('a logs_endpoint that is not an http(s) URL: the key, the masked value and the fix', () => {
    const e = refusal({ logs_endpoint: 'ftp://audit:Zq8secret@collector:4318/v1/logs', outbox });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('exporters.otlphttp.logs_endpoint must be an http(s) URL; got "ftp://***@collector:4318/v1/logs" (fix: logs_endpoint: http://collector:4318/v1/logs)');
  });

  it('an endpoint without a scheme: its token is masked', () => {
    const e = refusal({ endpoint: 'collector:4318?access_token=Zq8token', outbox });
    expect(e.message).toBe('exporters.otlphttp.endpoint must be an http(s) URL; got "collector:4318?access_token=***" (fix: endpoint: http://collector:4318)');
  });

  it('an http URL that does not parse (port out of range): refused at its key with the URL masked, nothing of it kept on the error', () => {
    const e = refusal({ endpoint: 'http://audit:Zq8secret@collector:99999', outbox });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('exporters.otlphttp.endpoint must be an http(s) URL; got "http://***@collector:99999" (fix: endpoint: http://collector:4318)');
    expect(inspect(e)).not.toContain('Zq8secret');
  });
});

describe('logsUrl', () => {
  it('puts /v1/logs on the path of a base endpoint, before its query, and leaves a logs URL as written', () => {
    const cases: [endpoint: string, url: string][] = [
      ['http://collector:4318', 'http://collector:4318/v1/logs'],
      ['http://collector:4318/', 'http://collector:4318/v1/logs'],
      ['http://collector:4318/otlp/?tenant=a&token=t', 'http://collector:4318/otlp/v1/logs?tenant=a&token=t'],
      ['http://collector:4318?tenant=a', 'http://collector:4318/v1/logs?tenant=a'],
      ['http://collector:4318/v1/logs?tenant=a', 'http://collector:4318/v1/logs?tenant=a'],
      ['https://c/v1/logs/', 'https://c/v1/logs/'],
    ];
    for (const [endpoint, url] of cases) expect(logsUrl(endpoint), endpoint).toBe(url);
  });
});
