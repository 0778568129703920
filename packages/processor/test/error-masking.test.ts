/**
 * Never log secrets: a sink's error may quote a URL with credentials or carry
 * its request's headers. The processor reports sink failures to
 * OpenTelemetry's global error handler by default, and the default handler
 * writes every own property of the error to diag — the `cause` included —
 * so what it reports must be masked through and through (red team, helper 61).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { AuditBatch, ChainHead } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../src/index.js';
import { KEYS, until } from './helpers.js';

const SECRET_URL = 'https://alice:pw-0123456789@collector.example:4318/v1/logs?api_key=k-0123456789';

class Failing extends InMemoryAuditSink {
  #appendFailures: number;
  #headFailures: number;
  constructor(appendFailures: number, headFailures: number) {
    super();
    this.#appendFailures = appendFailures;
    this.#headFailures = headFailures;
  }
  override async append(batch: AuditBatch): Promise<void> {
    if (this.#appendFailures-- > 0) throw Object.assign(new Error(`POST ${SECRET_URL} failed: 401`), { code: 'E401', config: { headers: { Authorization: 'Bearer hdr-0123456789' } } });
    return super.append(batch);
  }
  override async head(stream: string): Promise<ChainHead | undefined> {
    if (this.#headFailures-- > 0) throw new Error('cannot connect postgres://audit:db-0123456789@db/x');
    return super.head(stream);
  }
}

const lines: string[] = [];
afterEach(() => {
  diag.disable();
  lines.length = 0;
});

describe('errors the processor reports with the default error handler', () => {
  it.each([
    ['a failed append', 2, 0, /audit sink \\?"memory\\?" failed \(attempt 1\)/],
    ['a failed head lookup at start', 0, 1, /could not read the head of stream/],
  ])('%s reaches diag with the secrets masked, in the message and the cause', async (_, appends, heads, said) => {
    const log = (...a: unknown[]) => void lines.push(a.map(String).join(' '));
    diag.setLogger({ error: log, warn: log, info: log, debug: () => {}, verbose: () => {} }, DiagLogLevel.INFO);
    const sink = new Failing(appends, heads);
    const processor = new AuditLogRecordProcessor({ stream: 'mask/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 10, retryInitialMillis: 20, retryMaxMillis: 40 });
    const provider = new LoggerProvider({ processors: [processor] });
    provider.getLogger('otel-audit').emit({ body: { type: 'auth', action: 'login' } });
    await until(() => sink.records.some((r) => r.record.action === 'login'));
    await provider.shutdown();
    const text = lines.join('\n');
    expect(text).toMatch(said);
    expect(text).toContain('***@');
    expect(text).not.toMatch(/0123456789/);
  });
});
