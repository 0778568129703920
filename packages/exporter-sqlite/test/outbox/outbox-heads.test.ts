import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ExportResultCode } from '@opentelemetry/core';
import { AuditChain } from '@otel-audit/core';
import { OutboxLogRecordExporter } from '../../src/index.js';
import { tempDb } from '../helpers.js';
import { exportNow, jsonExporter, log, receiver } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `n` records of a chain as the LogRecords the processor exports (§4.6 attributes, canonical body). */
function sealedLogs(chain: AuditChain, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const s = chain.append({ id: crypto.randomUUID(), time: String(1_700_000_000_000_000_000n + BigInt(chain.size)), type: 'crud', action: 'update', details: { i } });
    return { ...log(s.canonical, { 'audit.stream': chain.stream, 'audit.sequence.number': s.record.seq, 'audit.record.hash': s.hash }), body: s.canonical };
  });
}

describe('OutboxLogRecordExporter heads', () => {
  it('keeps each stream head across shipping and reopening, and knows none for a stream it met after seq 0 or with a gap', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver();
    cleanups.push(() => r.close());
    const chain = new AuditChain({ stream: 'svc/a', alg: 'sha384' });
    const late = new AuditChain({ stream: 'svc/late' });
    const gap = new AuditChain({ stream: 'svc/gap' });
    const lateLogs = sealedLogs(late, 6).slice(3);
    const gapLogs = sealedLogs(gap, 6);
    gapLogs.splice(2, 1);
    const first = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url), initialBackoffMillis: 20 });
    for (const batch of [sealedLogs(chain, 5), sealedLogs(chain, 4), lateLogs, gapLogs]) expect((await exportNow(first, batch)).code).toBe(ExportResultCode.SUCCESS);
    await first.forceFlush();
    expect(r.accepted.length).toBe(9 + 3 + 5);
    expect(first.head('svc/a')).toEqual(chain.head());
    await first.shutdown();

    const second = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url) });
    cleanups.push(() => second.shutdown());
    expect(second.head('svc/a')).toEqual(chain.head()); // the shipped rows are gone; the head stayed
    expect(second.head('svc/late')).toBeUndefined();
    expect(second.head('svc/gap')).toBeUndefined();
    expect(second.head('svc/unknown')).toBeUndefined();
    // A retried batch does not move the head twice.
    const more = sealedLogs(chain, 2);
    await exportNow(second, more);
    await exportNow(second, more);
    expect(second.head('svc/a')).toEqual(chain.head());
  });

  it('a transaction that fails leaves the head where the file has it, and the retried batch moves it', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await receiver();
    cleanups.push(() => r.close());
    const chain = new AuditChain({ stream: 'svc/b' });
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url) });
    cleanups.push(() => outbox.shutdown());
    expect((await exportNow(outbox, sealedLogs(chain, 3))).code).toBe(ExportResultCode.SUCCESS);
    const before = chain.head();
    const batch = sealedLogs(chain, 2);
    const other = new Database(tmp.file);
    other.exec("CREATE TRIGGER refuse_head BEFORE UPDATE ON outbox_stream_heads BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    expect((await exportNow(outbox, batch)).code).toBe(ExportResultCode.FAILED);
    expect(outbox.head('svc/b')).toEqual(before);
    other.exec('DROP TRIGGER refuse_head');
    other.close();
    expect((await exportNow(outbox, batch)).code).toBe(ExportResultCode.SUCCESS);
    expect(outbox.head('svc/b')).toEqual(chain.head());
  });
});
