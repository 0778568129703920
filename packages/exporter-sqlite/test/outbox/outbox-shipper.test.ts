/**
 * The shipper never takes the host process down and never stalls behind a
 * row it cannot send: a damaged row is dead-lettered at once and the rows
 * around it are shipped; an unexpected failure of the loop goes to the
 * OpenTelemetry global error handler and shipping goes on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { createNoopMeter, type MeterProvider } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { OutboxLogRecordExporter, readOutboxStatus, type DeadLetterInfo } from '../../src/index.js';
import { tempDb } from '../helpers.js';
import { downReceiver, exportNow, jsonExporter, log, receiver, until } from './helpers.js';

const fast = { initialBackoffMillis: 20, maxBackoffMillis: 200 };
const cleanups: (() => Promise<void> | void)[] = [];
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};
process.on('unhandledRejection', onRejection);
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
  setGlobalErrorHandler(loggingErrorHandler());
});

describe('OutboxShipper', () => {
  it('dead-letters rows it cannot decode, ships the rows around them, and rejects nothing into the host process', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    // Rows written while the receiver is down stay in the file.
    const first = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter('http://127.0.0.1:9/v1/logs'), ...fast, shutdownTimeoutMillis: 50 });
    await exportNow(first, [log('a'), log('b')]);
    await first.shutdown();
    // The file is damaged: rows that are not JSON, not a stored record, or name a resource that is not there.
    const db = new Database(tmp.file);
    db.pragma('foreign_keys = OFF');
    const good = db.prepare('SELECT resource_id, log FROM outbox_records ORDER BY id LIMIT 1').get() as { resource_id: number; log: string };
    const insert = db.prepare('INSERT INTO outbox_records (enqueued_at, resource_id, log) VALUES (?, ?, ?)');
    insert.run(Date.now(), good.resource_id, '{"t":[1700000000,0],"o":');
    insert.run(Date.now(), good.resource_id, '{"b":"no times, no scope"}');
    insert.run(Date.now(), 999, good.log.replace('"a"', '"orphan"'));
    db.close();

    const r = await receiver();
    cleanups.push(() => r.close());
    const dead: DeadLetterInfo[] = [];
    const second = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url), ...fast, onDeadLetter: (i) => dead.push(i) });
    cleanups.push(() => second.shutdown());
    await exportNow(second, [log('c')]);
    await until(() => r.accepted.length === 3);
    expect(r.accepted).toEqual(['a', 'b', 'c']);
    expect(dead.map((d) => [d.records, d.reason])).toEqual([
      [1, expect.stringMatching(/^undecodable outbox row 3: .*JSON/)],
      [1, expect.stringMatching(/^undecodable outbox row 4: not a stored log record/)],
      [1, expect.stringMatching(/^undecodable outbox row 5: its resource row 999 is missing/)],
    ]);
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: 0, deadLetters: 3, lastError: { message: expect.stringMatching(/undecodable/) } });
    expect(rejections).toEqual([]);
  });

  it('reports a failure of the loop itself to the global error handler and keeps shipping', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const reported: Error[] = [];
    setGlobalErrorHandler((e) => reported.push(e as Error));
    // The host's metrics pipeline is broken: every counter throws.
    const meterProvider: MeterProvider = {
      getMeter: () => Object.assign(createNoopMeter(), { createCounter: () => ({ add: () => { throw new Error('metrics backend is down'); } }) }),
    };
    const r = await receiver();
    cleanups.push(() => r.close());
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url), ...fast, meterProvider });
    cleanups.push(() => outbox.shutdown());
    await exportNow(outbox, [log('x1')]);
    await until(() => r.accepted.length === 1 && reported.length > 0);
    await exportNow(outbox, [log('x2')]);
    await until(() => r.accepted.length === 2);
    expect(r.accepted).toEqual(['x1', 'x2']);
    expect(reported[0]!.message).toMatch(/^otel-audit outbox .*: shipping failed and will be retried: metrics backend is down/);
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: 0, deadLetters: 0 });
    expect(rejections).toEqual([]);
  });

  it('keeps retrying when the wall clock steps forward past max_age during an outage, and delivers once the receiver is back', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const r = await downReceiver();
    cleanups.push(() => r.close());
    const outbox = new OutboxLogRecordExporter({ path: tmp.file, exporter: jsonExporter(r.url), ...fast, maxAgeMillis: 60_000 });
    cleanups.push(() => outbox.shutdown());
    await exportNow(outbox, [log('a'), log('b')]);
    await until(() => r.requests >= 1);
    // NTP fixes a clock that was 8 days behind at boot; the records have been failing for a moment only.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 8 * 86_400_000);
    const seen = r.requests;
    await until(() => r.requests >= seen + 3 || readOutboxStatus(tmp.file).deadLetters > 0); // several retries after the step
    expect(readOutboxStatus(tmp.file)).toMatchObject({ depth: 2, deadLetters: 0 });
    r.up = true;
    await until(() => r.accepted.length === 2);
    expect(r.accepted).toEqual(['a', 'b']);
  });
});
