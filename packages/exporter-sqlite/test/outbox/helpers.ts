/**
 * Fixtures of the outbox tests: a scripted OTLP/JSON receiver on loopback
 * that records what it accepted, an OTLP exporter built on the outbox's
 * transport and the stock JSON serializer, and LogRecords to send.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { createOtlpHttpTransport } from '../../src/index.js';

export const resource = resourceFromAttributes({ 'service.name': 'outbox-test' });

/** A LogRecord whose body is `body`. */
export function log(body: string, attributes: Record<string, string | number> = {}): ReadableLogRecord {
  return {
    hrTime: [1_700_000_000, 0], hrTimeObserved: [1_700_000_000, 0], severityNumber: 9, severityText: 'info', body, eventName: 'audit.api.call',
    attributes: { 'audit.record.id': body, ...attributes }, droppedAttributesCount: 0, resource, instrumentationScope: { name: 'otel-audit' },
    spanContext: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
  };
}

/** Bodies of the log records of an OTLP/JSON request. */
export function bodiesOf(request: unknown): string[] {
  const out: string[] = [];
  for (const rl of (request as { resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[] }).resourceLogs) {
    for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) out.push(lr.body.stringValue);
  }
  return out;
}

export type Script = (bodies: string[], res: ServerResponse, req: IncomingMessage) => boolean | void;

/** A receiver on 127.0.0.1; `script` may answer (return true) or leave it to the default 200. */
export async function receiver(script: Script = () => false, port = 0): Promise<{ url: string; port: number; accepted: string[]; requests: number; close(): Promise<void> }> {
  const state = { accepted: [] as string[], requests: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const bodies = bodiesOf(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      if (script(bodies, res, req) === true) return;
      state.accepted.push(...bodies);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}/v1/logs`, port: p,
    get accepted() { return state.accepted; },
    get requests() { return state.requests; },
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** A receiver that answers 503 until `up` is set, then accepts. */
export async function downReceiver(): Promise<Awaited<ReturnType<typeof receiver>> & { up: boolean }> {
  const switchable = { up: false };
  const r = await receiver((_b, res) => {
    if (switchable.up) return false;
    res.writeHead(503).end();
    return true;
  });
  return Object.defineProperty(r, 'up', { get: () => switchable.up, set: (v: boolean) => { switchable.up = v; } }) as typeof r & { up: boolean };
}

/** OTLP/JSON exporter on the outbox's transport (what @otel-audit/node assembles with OTLPExporterBase). */
export function jsonExporter(url: string, headers?: Record<string, string>): LogRecordExporter & { calls: number } {
  const transport = createOtlpHttpTransport({ url, contentType: 'application/json', deserializeResponse: (d) => JsonLogsSerializer.deserializeResponse(d), ...(headers ? { headers } : {}) });
  const exporter = {
    calls: 0,
    export(logs: ReadableLogRecord[], cb: (r: ExportResult) => void) {
      exporter.calls++;
      void transport.send(JsonLogsSerializer.serializeRequest(logs)!, 2_000).then((r) =>
        cb(r.status === 'success' ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: r.error ?? new Error('retryable') }));
    },
    shutdown: async () => undefined,
    forceFlush: async () => undefined,
  };
  return exporter;
}

/** Export through `exporter` and resolve with the result. */
export function exportNow(exporter: LogRecordExporter, logs: ReadableLogRecord[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(logs, resolve));
}

/** Poll until `cond()` holds (timed on the monotonic clock: tests step the wall clock). */
export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
