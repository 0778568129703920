import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { InMemoryLogRecordExporter, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AuditChain, Keyring, Verifier, createRecordId, type AuditBatch } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink, LogRecordExporterSink } from '../src/index.js';
import { KEYS } from './helpers.js';

function batchOf(n: number): AuditBatch {
  const chain = new AuditChain({ stream: 'x/1' });
  const records = Array.from({ length: n }, (_, i) => chain.append({ id: createRecordId(), time: String(1_700_000_000_000_000_000n + BigInt(i)), type: 'api', action: 'call' }));
  const note = chain.checkpoint(1_700_000_000_000_000_999n, []);
  return { records, checkpoints: [{ stream: 'x/1', size: n, rootHash: chain.rootHex(), timeUnixNano: 1_700_000_000_000_000_999n, note }] };
}

class ScriptedExporter implements LogRecordExporter {
  calls = 0;
  constructor(readonly script: (logs: ReadableLogRecord[], cb: (r: ExportResult) => void, call: number) => void) {}
  export(logs: ReadableLogRecord[], cb: (r: ExportResult) => void): void {
    this.script(logs, cb, ++this.calls);
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

describe('LogRecordExporterSink', () => {
  it('exports records as §4.6 LogRecords and checkpoints as audit.checkpoint, in one call per batch', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const resource = resourceFromAttributes({ 'service.name': 'billing' });
    const sink = new LogRecordExporterSink({ exporter, resource });
    const batch = batchOf(3);
    await sink.append(batch);
    const out = exporter.getFinishedLogRecords();
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).map((r) => r.body)).toEqual(batch.records.map((r) => r.canonical));
    expect(out[0]!.eventName).toBe('audit.api.call');
    expect(out[0]!.attributes['audit.record.hash']).toBe(batch.records[0]!.hash);
    expect(out[0]!.instrumentationScope.name).toBe('otel-audit');
    expect(out[0]!.resource).toBe(resource);
    expect(out[3]).toMatchObject({ eventName: 'audit.checkpoint', body: batch.checkpoints[0]!.note, attributes: { 'audit.stream': 'x/1', 'audit.checkpoint.size': 3 } });
    expect(await sink.head('x/1')).toBeUndefined();
  });

  it('FAILED, a throw, and silence past the timeout reject; a second or late callback is ignored', async () => {
    await expect(new LogRecordExporterSink({ exporter: new ScriptedExporter((_l, cb) => cb({ code: ExportResultCode.FAILED, error: new Error('503') })) }).append(batchOf(1))).rejects.toThrow('503');
    await expect(new LogRecordExporterSink({ exporter: new ScriptedExporter(() => { throw new Error('sync'); }) }).append(batchOf(1))).rejects.toThrow('sync');
    await expect(new LogRecordExporterSink({ exporter: new ScriptedExporter(() => undefined), exportTimeoutMillis: 20 }).append(batchOf(1))).rejects.toThrow(/did not answer/);
    const twice = new LogRecordExporterSink({
      exporter: new ScriptedExporter((_l, cb) => {
        cb({ code: ExportResultCode.SUCCESS });
        cb({ code: ExportResultCode.FAILED, error: new Error('late') });
      }),
    });
    await expect(twice.append(batchOf(1))).resolves.toBeUndefined();
    expect(() => new LogRecordExporterSink({ exporter: {} as never })).toThrow(TypeError);
    expect(() => new LogRecordExporterSink({ exporter: new InMemoryLogRecordExporter(), exportTimeoutMillis: 0 })).toThrow(RangeError);
  });

  describe('with the stock OTLP/HTTP exporter and a real receiver on loopback', () => {
    let server: Server;
    afterEach(() => new Promise<void>((r) => server.close(() => r())));

    it('delivers through receiver failures; what the receiver got verifies offline (dedup by id, order by seq)', async () => {
      const received: unknown[] = [];
      let requests = 0;
      server = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          requests++;
          if (requests <= 2) {
            res.writeHead(500).end('down');
            return;
          }
          received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const otlp = new LogRecordExporterSink({ exporter: new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs` }) });
      const primary = new InMemoryAuditSink();
      const processor = new AuditLogRecordProcessor({ stream: 'otlp/1', sinks: [primary, otlp], signerKey: KEYS.signerKey, flushIntervalMillis: 10, retryInitialMillis: 10, maxBatchSize: 20 });
      const provider = new LoggerProvider({ processors: [processor] });
      await processor.ready();
      const logger = provider.getLogger('otel-audit');
      for (let i = 0; i < 50; i++) logger.emit({ body: { type: 'api', action: 'call', details: { i } } });
      await provider.shutdown();
      expect(requests).toBeGreaterThan(2);
      const v = new Verifier({ keyring: Keyring.from([KEYS.verifierKey]) });
      const ids = new Set<string>();
      let records = 0;
      for (const body of received as { resourceLogs: { scopeLogs: { logRecords: { eventName?: string; body: { stringValue: string } }[] }[] }[] }[]) {
        for (const rl of body.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
          if (lr.eventName === 'audit.checkpoint') v.addCheckpoint(lr.body.stringValue);
          else {
            const id = (JSON.parse(lr.body.stringValue) as { id: string }).id;
            if (ids.has(id)) continue;
            ids.add(id);
            records++;
            v.addRecord(lr.body.stringValue);
          }
        }
      }
      const report = v.finish();
      expect(records).toBe(primary.records.length);
      expect(report.ok).toBe(true);
      expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(records);
    });

    it("carries each record's trace and span ids as the OTLP LogRecord's own (§4.6); a record without them has none", async () => {
      const received: { traceId?: string; spanId?: string; body: { stringValue: string } }[] = [];
      server = createServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceLogs: { scopeLogs: { logRecords: (typeof received)[number][] }[] }[] };
          for (const rl of body.resourceLogs) for (const sl of rl.scopeLogs) received.push(...sl.logRecords);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as { port: number }).port;
      const sink = new LogRecordExporterSink({ exporter: new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs` }) });
      const chain = new AuditChain({ stream: 'otlp/trace' });
      const traced = chain.append({ id: createRecordId(), time: '1700000000000000000', type: 'api', action: 'call', request: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' } });
      const untraced = chain.append({ id: createRecordId(), time: '1700000000000000001', type: 'api', action: 'call', request: { trace_id: '00000000000000000000000000000000', span_id: '00f067aa0ba902b7' } });
      await sink.append({ records: [traced, untraced], checkpoints: [] });
      await sink.shutdown();
      expect(received.map((r) => r.body.stringValue)).toEqual([traced.canonical, untraced.canonical]);
      expect(received[0]).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
      expect(received[1]!.traceId ?? '').toBe('');
      expect(received[1]!.spanId ?? '').toBe('');
    });
  });
});
