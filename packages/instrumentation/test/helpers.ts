/**
 * Test wiring: the real OpenTelemetry SDK (NodeTracerProvider with the
 * always-record sampler over a parent-based AlwaysOn sampler, LoggerProvider
 * with the real audit processor over an in-memory sink), the audit HTTP
 * instrumentation patched into node:http, and helpers to wait for records.
 */
import { createRequire } from 'node:module';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, ParentBasedSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../processor/src/index.js';
import {
  AlwaysRecordSampler,
  AuditSpanProcessor,
  createHttpAuditInstrumentation,
  type AuditSpanProcessorOptions,
  type HttpAuditPolicyOptions,
} from '../src/index.js';

/** A record as the sink holds it (deeply read-only). */
export type StoredRecord = InMemoryAuditSink['records'][number]['record'];

export interface Pipeline {
  sink: InMemoryAuditSink;
  processor: AuditLogRecordProcessor;
  loggerProvider: LoggerProvider;
  tracerProvider: NodeTracerProvider;
  spans: InMemorySpanExporter;
  /** Audit records that are not the pipeline's own `system` records. */
  records(): StoredRecord[];
  /** Wait for the HTTP-level record of the request with this request id. */
  recordOf(requestId: string, timeoutMs?: number): Promise<StoredRecord>;
  shutdown(): Promise<void>;
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await tick(5);
  }
}

/** Set up the whole pipeline once per test file (instrumentation patches node:http process-wide). */
export async function setupPipeline(policy?: HttpAuditPolicyOptions, spanOptions: AuditSpanProcessorOptions = {}): Promise<Pipeline> {
  const sink = new InMemoryAuditSink();
  const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'test/http', flushIntervalMillis: 10 });
  const loggerProvider = new LoggerProvider({ processors: [processor] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({
    sampler: new AlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
    spanProcessors: [new AuditSpanProcessor({ loggerProvider, ...spanOptions }), new SimpleSpanProcessor(spans)],
  });
  tracerProvider.register();
  const instrumentation = createHttpAuditInstrumentation(policy);
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.enable();
  // The instrumentation patches node:http when it is required (require-in-the-middle);
  // Server.prototype is shared with `import 'node:http'`, so ESM servers are patched too.
  createRequire(import.meta.url)('node:http');
  await processor.ready();
  const records = () => sink.records.map((r) => r.record).filter((r) => r.type !== 'system');
  return {
    sink,
    processor,
    loggerProvider,
    tracerProvider,
    spans,
    records,
    async recordOf(requestId, timeoutMs = 5000) {
      let found: StoredRecord | undefined;
      // The HTTP-level record (it names the endpoint); explicit records of the request share its id.
      await until(() => (found = records().find((r) => r.request?.id === requestId && r.request?.endpoint !== undefined)) !== undefined, timeoutMs);
      return found!;
    },
    async shutdown() {
      instrumentation.disable();
      await tracerProvider.shutdown();
      await loggerProvider.shutdown();
    },
  };
}

/** A fresh request id for a test request. */
let n = 0;
export function rid(label: string): string {
  return `t-${label}-${process.pid}-${++n}`;
}

/** An unsigned JWT with these claims (the audit never verifies it without verifyJwt). */
export function jwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.sig`;
}
