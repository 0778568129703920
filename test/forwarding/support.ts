/**
 * Shared parts of the forwarding end-to-end tests (DESIGN §1 use 3, §5):
 * a "service" — a real LoggerProvider with the AuditLogRecordProcessor whose
 * only sink is the `exporters.otlphttp` sink of @otel-audit/node (SQLite
 * outbox over the stock OTLP exporter machinery) — and the central
 * `collect` receiver over a real SQLite store, all on loopback.
 */
import { createServer } from 'node:http';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { generateNoteKey, Keyring } from '@otel-audit/core';
import type { DeadLetterInfo } from '@otel-audit/exporter-sqlite';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { createOtlpSink } from '@otel-audit/node';
import { startCollector, type CollectorOptions, type RunningCollector } from '@otel-audit/server';

export const KEYS = generateNoteKey('forwarding.test/audit');
export const keyring = Keyring.from([KEYS.verifierKey]);

/** A temp dir removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-fwd-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface ServiceOptions {
  endpoint: string;
  protocol?: 'http/json' | 'http/protobuf';
  outboxPath: string;
  compression?: 'gzip' | 'none';
  checkpointEveryRecords?: number;
  /** Stream id. Default `svc`. */
  stream?: string;
  onDeadLetter?: (info: DeadLetterInfo) => void;
  /** Headers of every export request (exporters.otlphttp.headers). */
  headers?: Record<string, string>;
}

/** A service whose audit records leave only over OTLP through the outbox. */
export function startService(options: ServiceOptions) {
  const sink = createOtlpSink(
    {
      endpoint: options.endpoint, protocol: options.protocol ?? 'http/protobuf', compression: options.compression ?? 'none', timeout: '2s',
      outbox: { path: options.outboxPath, retry_initial: '50ms', retry_max: '500ms' },
      ...(options.headers ? { headers: options.headers } : {}),
    },
    { ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}) },
  );
  const processor = new AuditLogRecordProcessor({
    stream: options.stream ?? 'svc', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20, checkpointEveryRecords: options.checkpointEveryRecords ?? 50,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const logger = provider.getLogger('otel-audit');
  let n = 0;
  return {
    processor,
    /** Emit one audit record (synchronous, like the app's call). */
    emit(details: Record<string, unknown> = {}): void {
      logger.emit({ body: { type: 'crud', action: 'update', actor: { id: `user-${n % 5}` }, target: { type: 'doc', id: String(n) }, details: { n: n++, ...details } } });
    },
    get emitted() {
      return n;
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The central receiver on 127.0.0.1 (port 0 = any). */
/** Run a service whose outbox at `outboxPath` ships to a loopback receiver that accepts everything, then stop both. */
export async function shipOnce(outboxPath: string): Promise<void> {
  const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  try {
    const svc = startService({ endpoint: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`, outboxPath });
    await svc.shutdown();
  } finally {
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}

export function collector(dbPath: string, options: Partial<CollectorOptions> = {}): Promise<RunningCollector> {
  return startCollector({ port: 0, dbPath, verifierKeys: [KEYS.verifierKey], ...options });
}

/** The services' `crud` records in the central store (pipeline start/stop and the collector's own records excluded). */
export function serviceRecords(c: RunningCollector): number {
  return c.store.database.prepare("SELECT count(*) FROM audit_logs WHERE event_type = 'crud'").pluck().get() as number;
}

/** Poll until `cond()` holds. */
export async function until(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A stdout/stderr stand-in for the CLI's `main`, keeping what was written. */
export function capture() {
  let text = '';
  return { write: (s: string) => { text += s; return true; }, get text() { return text; } };
}
