/**
 * The server side of the http-overhead bench, one mode per process:
 * `plain` (no OpenTelemetry), `otel` (instrumentation-http with a no-op span
 * processor), `audit` (audit instrumentation + always-record sampler +
 * AuditSpanProcessor + the real audit processor into a counting sink, every
 * request audited at `metadata`). Prints `PORT <n>` when listening and
 * `RECORDS <n>` on SIGTERM. `audit-nolog`: the audit hooks, sampler and span
 * processor, but no audit processor on the LoggerProvider.
 */
import { createRequire } from 'node:module';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, ParentBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { AuditBatch, AuditSink } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '../../processor/src/index.js';
import { AlwaysRecordSampler, AuditSpanProcessor, createHttpAuditInstrumentation } from '../src/index.js';

const mode = process.argv[2] ?? 'plain';
let committed = 0;

class CountingSink implements AuditSink {
  readonly name = 'counting';
  async append(batch: AuditBatch): Promise<void> {
    committed += batch.records.length;
  }
  async head(): Promise<undefined> {
    return undefined;
  }
}

const noop: SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };

if (mode === 'otel') {
  const tp = new NodeTracerProvider({ spanProcessors: [noop] });
  tp.register();
  const inst = new HttpInstrumentation();
  inst.setTracerProvider(tp);
  inst.enable();
} else if (mode === 'audit' || mode === 'audit-nolog') {
  // audit-nolog: the same instrumentation and span processor, records emitted to a provider without
  // the audit processor — isolates this package's cost from the processor's.
  const processor = new AuditLogRecordProcessor({ sinks: [new CountingSink()], stream: 'bench/http' });
  const loggerProvider = new LoggerProvider({ processors: mode === 'audit' ? [processor] : [] });
  if (mode === 'audit') await processor.ready();
  const tp = new NodeTracerProvider({
    sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
    spanProcessors: [new AuditSpanProcessor({ loggerProvider }), noop],
  });
  tp.register();
  const inst = createHttpAuditInstrumentation({ rules: [{ match: { path: '/**' }, level: 'metadata', type: 'api' }] });
  inst.setTracerProvider(tp);
  inst.enable();
}

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
const payload = JSON.stringify({ ok: true, items: [1, 2, 3], name: 'otel-audit' });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(payload);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}`);
});
process.on('SIGTERM', () => {
  console.log(`RECORDS ${committed}`);
  process.exit(0);
});
