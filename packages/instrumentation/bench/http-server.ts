/**
 * The server side of the http-overhead bench, one mode per process:
 * `plain` (no OpenTelemetry), `otel` (instrumentation-http with a no-op span
 * processor), `audit` (audit instrumentation + always-record sampler +
 * AuditSpanProcessor + the real audit processor into a SQLite store in a
 * temp dir — or a counting sink with BENCH_SINK=count — every request
 * audited at `metadata`). Prints `PORT <n>` when listening and
 * `RECORDS <n>` (committed) on SIGTERM. `audit-nolog`: the audit hooks, sampler and span
 * processor, but no audit processor on the LoggerProvider.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, ParentBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { AuditBatch, AuditSink } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { AuditLogRecordProcessor } from '../../processor/src/index.js';
import { AlwaysRecordSampler, AuditSpanProcessor, createHttpAuditInstrumentation } from '../src/index.js';

const mode = process.argv[2] ?? 'plain';
let committed = 0;
let stop = async (): Promise<number> => committed;

class CountingSink implements AuditSink {
  readonly name = 'counting';
  async append(batch: AuditBatch): Promise<void> {
    committed += batch.records.length;
  }
  async head(): Promise<undefined> {
    return undefined;
  }
}

/** The primary sink of the `audit` mode: SQLite unless BENCH_SINK=count; `close` reports the committed count. */
function benchSink(): { sink: AuditSink; close(): number } {
  if (process.env.BENCH_SINK === 'count') return { sink: new CountingSink(), close: () => committed };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-http-bench-'));
  const store = new SqliteAuditStore(path.join(dir, 'audit.db'));
  return {
    sink: store,
    close: () => {
      const n = (store.database.prepare("SELECT count(*) AS n FROM audit_logs WHERE event_type = 'api'").get() as { n: number }).n;
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
      return n;
    },
  };
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
  const primary = benchSink();
  const processor = new AuditLogRecordProcessor({ sinks: [primary.sink], stream: 'bench/http' });
  stop = async () => {
    await processor.forceFlush();
    return primary.close();
  };
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
  void stop().then((n) => {
    console.log(`RECORDS ${n}`);
    process.exit(0);
  });
});
