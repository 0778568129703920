/**
 * The table of hostile inputs (STYLE: one table, run against every public
 * parse/verify/query function of the package). Each must be treated as data
 * or refused with TypeError, RangeError or an AuditError with a code —
 * never crash with another error, never change the store.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { AuditError } from '@otel-audit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteLogRecordExporter, verifyArchive, verifyBundle, type SqliteAuditStore } from '../src/index.js';
import { keyring, storeWith } from './helpers.js';

const HOSTILE: [string, () => unknown][] = [
  ['null', () => null],
  ['undefined', () => undefined],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['negative', () => -1],
  ['huge number', () => 1e300],
  ['bigint', () => 2n ** 70n],
  ['empty string', () => ''],
  ['SQL injection', () => "x' OR '1'='1'; DROP TABLE audit_logs; --"],
  ['LIKE wildcards', () => '%_%\\'],
  ['NUL byte', () => 'a\u0000b'],
  ['lone surrogate', () => '\ud800'],
  ['huge string', () => 'x'.repeat(1 << 20)],
  ['object', () => ({ $gt: '' })],
  ['array', () => ['a', 'b']],
  ['function', () => () => 1],
  ['symbol', () => Symbol('x')],
  ['Date invalid', () => new Date(NaN)],
  ['boolean', () => true],
];

let s: ReturnType<typeof storeWith>;
let store: SqliteAuditStore;
beforeAll(() => { s = storeWith(30); store = s.store; });
afterAll(() => s.close());

/** Engine errors that mean we did not check an argument ourselves. */
const UNCHECKED = /^Cannot (read|convert|destructure)|is not (a function|iterable)|Do not know how to serialize/;

function clear(e: unknown): void {
  const ok = e instanceof TypeError || e instanceof RangeError || (e instanceof AuditError && typeof e.code === 'string');
  expect(ok, `unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`).toBe(true);
  expect((e as Error).message).not.toMatch(UNCHECKED);
}

function acceptable(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    clear(e);
  }
}

async function acceptableAsync(run: () => Promise<unknown> | AsyncIterable<string>): Promise<void> {
  try {
    const r = run();
    if (r && typeof (r as AsyncIterable<string>)[Symbol.asyncIterator] === 'function') for await (const _ of r as AsyncIterable<string>) { /* drain */ }
    else await r;
  } catch (e) {
    clear(e);
  }
}

describe.each(HOSTILE)('hostile input %s', (_name, make) => {
  it('is data or a clear refusal for query, stats, verify, export, stream reads, bundles, archives, purged ranges, range start costs and the exporter', async () => {
    for (const key of ['stream', 'eventType', 'actorId', 'targetId', 'requestId', 'text', 'since', 'until', 'limit', 'offset', 'cursor', 'order']) {
      acceptable(() => store.query({ [key]: make() } as never));
    }
    acceptable(() => store.query(make() as never));
    acceptable(() => store.stats({ since: make() } as never));
    acceptable(() => store.stats({ bucket: make() } as never));
    acceptable(() => store.stats(make() as never));
    await acceptableAsync(() => store.verify({ fromSeq: make(), keyring } as never));
    await acceptableAsync(() => store.verify({ since: make(), keyring } as never));
    await acceptableAsync(() => store.verify({ streams: make(), keyring } as never));
    await acceptableAsync(() => store.verify(make() as never));
    await acceptableAsync(() => store.export({ format: make() } as never));
    await acceptableAsync(() => store.export({ format: 'csv', actorId: make() } as never));
    await acceptableAsync(() => store.export({ format: 'bundle', toSeq: make() } as never));
    acceptable(() => store.readStream(make() as never));
    for (const key of ['fromSeq', 'toSeq', 'limit']) acceptable(() => store.readStream('svc/1', { [key]: make() } as never));
    acceptable(() => store.readStream('svc/1', make() as never));
    acceptable(() => store.archive({ olderThan: make() } as never));
    acceptable(() => store.readArchive(make() as never));
    acceptable(() => store.archives(make() as never));
    for (const key of ['stream', 'streams', 'since', 'until', 'fromSeq', 'toSeq']) acceptable(() => store.purgedRanges({ [key]: make() } as never));
    acceptable(() => store.purgedRanges(make() as never));
    for (const key of ['streams', 'since', 'until', 'fromSeq', 'toSeq']) acceptable(() => store.rangeStartCost({ [key]: make() } as never));
    acceptable(() => store.rangeStartCost(make() as never));
    acceptable(() => verifyBundle(make() as never, keyring));
    acceptable(() => verifyBundle({ format: 'otel-audit-bundle', version: 1, streams: [{ stream: 's', alg: 'sha256', start: make(), checkpoints: [], records: [make()] }] } as never, keyring));
    acceptable(() => verifyArchive(make() as never, keyring));
    acceptable(() => store.appendSync(make() as never));
    acceptable(() => store.appendSync({ records: [make()], checkpoints: [] } as never));
    const results: unknown[] = [];
    new SqliteLogRecordExporter(store).export([{ body: make(), attributes: { 'audit.record.hash': make() } }] as never, (r) => results.push(r));
    expect(results).toHaveLength(1);
    expect([ExportResultCode.SUCCESS, ExportResultCode.FAILED]).toContain((results[0] as { code: number }).code);
    // The store is unchanged and still intact.
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(30);
    expect((await store.verify({ keyring })).ok).toBe(true);
  });
});
