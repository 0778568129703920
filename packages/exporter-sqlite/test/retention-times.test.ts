/**
 * Retention judged by the times the records carry, which need not grow with
 * seq (a producer-supplied time, a backfill, a wrong clock where a record was
 * written): a purge waits until every record of an archive is old enough, and
 * a record dated in the future that stops a stream's archiving is reported.
 */
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { fullEvent, MINUTE, sealBatch, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const at = (minutes: number) => T0 + BigInt(minutes) * MINUTE;

/** A store holding one stream whose record `i` is dated `timeOf(i)`, signed every 10 records. */
function storeOf(n: number, timeOf: (i: number) => bigint) {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  store.appendSync(sealBatch(new AuditChain({ stream: 'r/1' }), n, 10, (i) => fullEvent(i, timeOf(i))));
  return store;
}

const count = (store: SqliteAuditStore) => store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get();

describe('retention with record times out of seq order', () => {
  it('keeps an archive until all its records are older than the cut-off, even when its last record was backfilled with an older time', async () => {
    // seq 0..8 at minutes 100..108, seq 9 backfilled to minute 0.
    const store = storeOf(10, (i) => (i === 9 ? at(0) : at(100 + i)));
    expect(store.archive({ olderThan: at(200) }).map((a) => [a.firstSeq, a.lastSeq])).toEqual([[0, 9]]);
    // At minute 50 only seq 9 is old enough: seq 0..8 (minute 100+) must stay.
    expect(await store.purge({ olderThan: at(50), nowUnixNano: at(300) })).toEqual([]);
    expect(count(store)).toBe(10);
    // Once the youngest record (minute 108) is older than the cut-off, the archive goes.
    expect((await store.purge({ olderThan: at(109), nowUnixNano: at(300) })).map((p) => [p.firstSeq, p.lastSeq])).toEqual([[0, 9]]);
    expect(count(store)).toBe(1);
  });

  it('tells onFutureRecord which record dated in the future stops a stream from being archived', () => {
    const future = BigInt(Date.now() + 10 * 365 * 86_400_000) * 1_000_000n;
    // seq 2 is dated ten years ahead; the 20 records after it are as old as the rest.
    const store = storeOf(23, (i) => (i === 2 ? future : at(i)));
    const blocked: [string, number, bigint][] = [];
    const created = store.archive({ olderThan: at(1000), onFutureRecord: (stream, seq, timeUnixNano) => blocked.push([stream, seq, timeUnixNano]) });
    expect(created).toEqual([]);
    expect(blocked).toEqual([['r/1', 2, future]]);
    // A stream whose archiving stops at a record of the past is not reported.
    const plain = storeOf(23, (i) => at(i));
    const none: unknown[] = [];
    plain.archive({ olderThan: at(15), onFutureRecord: (...a) => none.push(a) });
    expect(none).toEqual([]);
  });
});
