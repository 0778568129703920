import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore, SqliteLogRecordExporter } from '../src/index.js';
import { codes, fullEvent, keyring, sealBatch, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

function setup() {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  return { store, exporter: new SqliteLogRecordExporter(store) };
}

/** Call export and collect every callback invocation. */
function run(exporter: SqliteLogRecordExporter, logs: Partial<ReadableLogRecord>[]): ExportResult[] {
  const results: ExportResult[] = [];
  exporter.export(logs as ReadableLogRecord[], (r) => results.push(r));
  return results;
}

describe('SqliteLogRecordExporter', () => {
  it('stores audit LogRecords and checkpoints emitted through a real LoggerProvider, and the store verifies', async () => {
    const { store, exporter } = setup();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('otel-audit');
    const chain = new AuditChain({ stream: 'otel/1' });
    const batch = sealBatch(chain, 25, 10);
    let c = 0;
    for (const r of batch.records) {
      logger.emit({ eventName: `audit.${r.record.type}.${r.record.action}`, body: r.canonical, attributes: { 'audit.record.hash': r.hash, 'audit.stream': r.record.stream } });
      if ((r.record.seq + 1) % 10 === 0) logger.emit({ eventName: 'audit.checkpoint', body: batch.checkpoints[c++]!.note });
    }
    logger.emit({ body: 'an ordinary application log' });
    await provider.forceFlush();
    await provider.shutdown();
    expect(await store.head('otel/1')).toEqual(chain.head());
    const report = await store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual(['unsigned_tail@20']);
    expect(report.streams[0]!.checkpoints.verified).toBe(2);
  });

  it('commits a whole batch, calls back exactly once, and ignores non-audit records', () => {
    const { store, exporter } = setup();
    const chain = new AuditChain({ stream: 's' });
    const batch = sealBatch(chain, 3);
    const logs = [
      ...batch.records.map((r) => ({ body: r.canonical, attributes: { 'audit.record.hash': r.hash } })),
      { body: { structured: true }, attributes: {} },
      { body: 'plain text', attributes: {} },
    ];
    expect(run(exporter, logs)).toEqual([{ code: ExportResultCode.SUCCESS }]);
    expect(run(exporter, logs)).toEqual([{ code: ExportResultCode.SUCCESS }]);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(3);
  });

  it('fails the whole batch, once, when a record does not hash to its attribute or is not canonical', () => {
    const { store, exporter } = setup();
    const chain = new AuditChain({ stream: 's' });
    const [a, b] = sealBatch(chain, 2).records;
    const wrongHash = run(exporter, [{ body: a!.canonical, attributes: { 'audit.record.hash': a!.hash } }, { body: b!.canonical, attributes: { 'audit.record.hash': a!.hash } }]);
    expect(wrongHash).toHaveLength(1);
    expect(wrongHash[0]!.code).toBe(ExportResultCode.FAILED);
    expect(wrongHash[0]!.error!.message).toMatch(/does not hash to its audit.record.hash attribute/);
    const reordered = JSON.stringify(JSON.parse(a!.canonical), Object.keys(JSON.parse(a!.canonical)).reverse());
    expect(run(exporter, [{ body: reordered, attributes: { 'audit.record.hash': a!.hash } }])[0]!.error!.message).toMatch(/not its canonical/);
    expect(run(exporter, [{ body: '{oops', attributes: { 'audit.record.hash': 'x' } }])[0]!.error!.message).toMatch(/not JSON/);
    expect(run(exporter, [{ body: 'junk', eventName: 'audit.checkpoint' }])[0]!.code).toBe(ExportResultCode.FAILED);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(0);
  });

  it('reports a store failure through the callback instead of throwing, and refuses exports after shutdown', async () => {
    const { store, exporter } = setup();
    const chain = new AuditChain({ stream: 's' });
    chain.append(fullEvent(0));
    const gap = chain.append(fullEvent(1));
    const r = run(exporter, [{ body: gap.canonical, attributes: { 'audit.record.hash': gap.hash } }]);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ code: ExportResultCode.FAILED, error: expect.objectContaining({ code: 'AUDIT_STORE_CHAIN_CONFLICT' }) });
    await exporter.shutdown();
    await exporter.shutdown();
    expect(run(exporter, [])[0]!.code).toBe(ExportResultCode.FAILED);
    expect(() => store.query()).not.toThrow();
    await expect(exporter.forceFlush()).resolves.toBeUndefined();
  });
});
