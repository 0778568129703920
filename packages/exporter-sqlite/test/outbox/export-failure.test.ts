/**
 * classifyExportError reads any exporter's failure — the outbox's transport,
 * the stock OTLP exporter, a network error — into retry, dead or partial,
 * with a message whose secrets are masked: it is what the outbox stores as
 * its last error and dead letters' reason, logs and reports.
 */
import { describe, expect, it } from 'vitest';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { classifyExportError, OtlpHttpError, OtlpPartialSuccessError } from '../../src/index.js';

describe('classifyExportError', () => {
  it('reads the status, Retry-After and rejected count', () => {
    expect(classifyExportError(new OtlpHttpError(401, 'no'))).toEqual({ kind: 'dead', status: 401, message: 'no' });
    expect(classifyExportError(new OtlpHttpError(503, 'busy', 2_000))).toEqual({ kind: 'retry', status: 503, retryAfterMillis: 2_000, message: 'busy' });
    expect(classifyExportError(new OtlpPartialSuccessError(2, 'bad'))).toMatchObject({ kind: 'partial', rejected: 2 });
    expect(classifyExportError(new OTLPExporterError('Forbidden', 403))).toEqual({ kind: 'dead', status: 403, message: 'HTTP 403: Forbidden' });
    expect(classifyExportError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4318'), { code: 'ECONNREFUSED' }))).toEqual({ kind: 'retry', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4318' });
  });

  it.each([
    ['a stock exporter error quoting the URL', new OTLPExporterError('Unauthorized for http://audit:Zq8pass@c:4318/v1/logs?api_key=Zq8query', 401), 'HTTP 401: Unauthorized for http://***@c:4318/v1/logs?api_key=***'],
    ['a network error quoting the URL', Object.assign(new TypeError('fetch failed for https://c/v1/logs?token=Zq8query'), { code: 'ECONNRESET' }), 'ECONNRESET: fetch failed for https://c/v1/logs?token=***'],
    ['an error that is not an Error', 'denied: Authorization: Bearer Zq8header', 'denied: Authorization: Bearer ***'],
    ['a partial success echoing a header', new OtlpPartialSuccessError(1, '{"x-api-key":"Zq8header"}'), 'the receiver rejected 1 log record(s): {"x-api-key":"***"}'],
  ])('masks the secrets in %s', (_name, error, message) => {
    const failure = classifyExportError(error);
    expect(failure.message).toBe(message);
    expect(JSON.stringify(failure)).not.toMatch(/Zq8/);
  });
});
