/**
 * Records a receiver refuses for good are themselves audited: the OTLP sink
 * of @otel-audit/node turns dead letters into a `system/integrity_failure`
 * record (what the built-in `audit_integrity` alert matches) through the
 * global logger — one at once, then at most a summary a minute, so a receiver
 * that refuses everything cannot start a feedback loop.
 */
import { createServer } from 'node:http';
import * as path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { logs } from '@opentelemetry/api-logs';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { createOtlpSink } from '@otel-audit/node';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '@otel-audit/processor';
import { KEYS, tempDir, until } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('a batch refused with 403 becomes one system/integrity_failure audit record, not one per refusal', async () => {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(403).end('forbidden')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const local = new InMemoryAuditSink();
  const otlp = createOtlpSink({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, outbox: { path: path.join(tmp.dir, 'outbox.db'), retry_initial: '20ms' } });
  const processor = new AuditLogRecordProcessor({ stream: 'svc', signerKey: KEYS.signerKey, sinks: [local, otlp], flushIntervalMillis: 20 });
  const provider = new LoggerProvider({ processors: [processor] });
  logs.setGlobalLoggerProvider(provider);
  cleanups.push(() => provider.shutdown(), () => logs.disable());
  const logger = provider.getLogger('otel-audit');
  for (let i = 0; i < 10; i++) logger.emit({ body: { type: 'crud', action: 'update', details: { i } } });
  const failures = () => local.records.filter((r) => r.record.type === 'system' && r.record.action === 'integrity_failure');
  await until(() => failures().length === 1, 10_000, 'integrity_failure record');
  // The integrity_failure record itself is refused too: that must not produce another record now.
  await new Promise((r) => setTimeout(r, 500));
  expect(failures()).toHaveLength(1);
  const record = failures()[0]!.record;
  expect(record).toMatchObject({ outcome: 'failure', severity: 'critical', target: { type: 'outbox' } });
  expect(record.details).toMatchObject({ statuses: [403] });
});
