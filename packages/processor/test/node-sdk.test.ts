import { describe, expect, it } from 'vitest';
import { logs } from '@opentelemetry/api-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { requestReceipt } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../src/index.js';
import { KEYS, verifySink } from './helpers.js';

describe('inside NodeSDK', () => {
  it('audits records from the global otel-audit logger; checkpoints and system records travel downstream as LogRecords', async () => {
    process.env.OTEL_TRACES_EXPORTER = 'none';
    process.env.OTEL_METRICS_EXPORTER = 'none';
    process.env.OTEL_LOGS_EXPORTER = 'none';
    const sink = new InMemoryAuditSink();
    const exporter = new InMemoryLogRecordExporter();
    const processor = new AuditLogRecordProcessor({ sinks: [sink], signerKey: KEYS.signerKey, flushIntervalMillis: 10, checkpointEveryRecords: 10 });
    const sdk = new NodeSDK({
      resource: resourceFromAttributes({ 'service.name': 'orders', 'service.instance.id': 'i-1' }),
      autoDetectResources: false,
      instrumentations: [],
      logRecordProcessors: [processor, new SimpleLogRecordProcessor({ exporter })],
    });
    sdk.start();
    try {
      const logger = logs.getLogger('otel-audit');
      const body = { type: 'crud', action: 'create', target: { type: 'order', id: '1' }, details: { token: 't0ken-value' } };
      const receipt = requestReceipt(body);
      logger.emit({ body });
      const first = await receipt;
      expect(first).toMatchObject({ stream: 'orders/i-1', seq: 1 });
      for (let i = 0; i < 20; i++) logger.emit({ body: { type: 'crud', action: 'view', details: { i } } });
      logs.getLogger('app').emit({ body: 'plain app log' });
      await processor.forceFlush();
      await new Promise((r) => setTimeout(r, 10));
      const out = exporter.getFinishedLogRecords();
      expect(out.filter((r) => r.eventName === 'audit.checkpoint').length).toBeGreaterThanOrEqual(2);
      expect(out.some((r) => r.eventName === 'audit.system.stream_started')).toBe(true);
      expect(out.find((r) => r.instrumentationScope.name === 'app')!.body).toBe('plain app log');
      expect(JSON.stringify(out.map((r) => [r.body, r.attributes]))).not.toContain('t0ken-value');
    } finally {
      await sdk.shutdown();
    }
    expect(sink.records.at(-1)!.record.action).toBe('pipeline_stopped');
    expect(verifySink(sink).ok).toBe(true);
  });
});
