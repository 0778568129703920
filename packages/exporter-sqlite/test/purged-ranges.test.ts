/**
 * `SqliteAuditStore.purgedRanges` (DESIGN §6 retention): after a purge, a
 * query or export whose stream, time or seq range reaches into the purged
 * prefix learns which records went, when, and which archives hold them;
 * one over live records only learns nothing. A real SQLite file in a temp
 * dir, purged by the store's own retention.
 */
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { MINUTE, sealBatch, signer, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const at = (minutes: number) => T0 + BigInt(minutes) * MINUTE;
const iso = (minutes: number) => new Date(Number(at(minutes) / 1_000_000n)).toISOString();

/** 100 records of `r/1` one minute apart (signed every 10), and 20 of `other/1`. */
function setup() {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  store.appendSync(sealBatch(new AuditChain({ stream: 'r/1' }), 100));
  store.appendSync(sealBatch(new AuditChain({ stream: 'other/1' }), 20));
  return store;
}

describe('purgedRanges', () => {
  it('reports the purged prefix a query or export reaches into, and nothing for one over live records only', async () => {
    const store = setup();
    store.archive({ olderThan: at(45), maxRecordsPerArchive: 25, streams: ['r/1'] });
    expect(store.purgedRanges({ stream: 'r/1' })).toEqual([]); // archived, not yet purged: the records are still in the log
    const [purge] = await store.purge({ olderThan: at(45), streams: ['r/1'], signers: [signer], nowUnixNano: at(500) });
    const archiveIds = store.archives('r/1').map((a) => a.archiveId);

    // The defect: the query answers with fewer records and nothing else.
    const query = { stream: 'r/1', since: iso(0), until: iso(50), order: 'oldest' as const, limit: 1000 };
    expect(store.query(query).records.map((r) => r.record.seq)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    const purged = store.purgedRanges(query);
    expect(purged).toHaveLength(1);
    const p = purged[0]!;
    expect(p).toMatchObject({ stream: 'r/1', firstSeq: 0, lastSeq: 39, records: 40, firstTimeUnixNano: at(0), lastTimeUnixNano: at(39), archiveIds, purgeRecordIds: [purge!.purgeRecordId] });
    expect(archiveIds).toHaveLength(2);
    // One purge, stamped on each archive as it deleted it.
    expect(Number(p.firstPurgedUnixNano / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    expect(p.lastPurgedUnixNano >= p.firstPurgedUnixNano && p.lastPurgedUnixNano - p.firstPurgedUnixNano < 10_000_000_000n).toBe(true);

    // Only the archive the time range reaches.
    expect(store.purgedRanges({ stream: 'r/1', since: iso(25), until: iso(30) })).toMatchObject([{ firstSeq: 20, lastSeq: 39, records: 20, archiveIds: [archiveIds[1]] }]);
    // Export options and bundle bounds are taken as they are.
    expect(store.purgedRanges({ format: 'ndjson', actorId: 'user-1', order: 'newest' })).toMatchObject([{ stream: 'r/1', firstSeq: 0, lastSeq: 39 }]);
    expect(store.purgedRanges({ format: 'bundle', streams: ['r/1'], fromSeq: 10, toSeq: 15 })).toMatchObject([{ firstSeq: 0, lastSeq: 19, archiveIds: [archiveIds[0]] }]);

    // Live records only, another stream, or a seq range after the cut: nothing purged there.
    expect(store.purgedRanges({ stream: 'r/1', since: iso(40) })).toEqual([]);
    expect(store.purgedRanges({ stream: 'r/1', until: iso(0) })).toEqual([]);
    expect(store.purgedRanges({ stream: 'other/1' })).toEqual([]);
    // A query that leaves the stream out reaches none of its purged records.
    expect(store.purgedRanges({ excludeStream: 'r/1' })).toEqual([]);
    expect(store.purgedRanges({ excludeStream: 'other/1' })).toMatchObject([{ stream: 'r/1', firstSeq: 0, lastSeq: 39 }]);
    expect(store.purgedRanges({ format: 'bundle', streams: ['other/1', 'r/1'], fromSeq: 40 })).toEqual([]);
    expect(store.purgedRanges({ stream: 'r/1', streams: ['other/1'] })).toEqual([]);
  });

  it('merges consecutive purges of a stream into one run, with each purge record', async () => {
    const store = setup();
    store.archive({ olderThan: at(25), streams: ['r/1'] });
    const [first] = await store.purge({ olderThan: at(25), streams: ['r/1'], nowUnixNano: at(500) });
    store.archive({ olderThan: at(45), streams: ['r/1'] });
    const [second] = await store.purge({ olderThan: at(45), streams: ['r/1'], nowUnixNano: at(501) });
    const runs = store.purgedRanges({});
    expect(runs).toMatchObject([{ stream: 'r/1', firstSeq: 0, lastSeq: 39, records: 40, purgeRecordIds: [first!.purgeRecordId, second!.purgeRecordId] }]);
    expect(runs[0]!.archiveIds).toEqual(store.archives('r/1').map((a) => a.archiveId));
    expect(runs[0]!.firstPurgedUnixNano <= runs[0]!.lastPurgedUnixNano).toBe(true);
  });

  it('refuses a bound of the wrong type or an unknown member, naming it', () => {
    const store = setup();
    expect(() => store.purgedRanges({ fromSeq: -1 } as never)).toThrow(/^filter\.fromSeq must be a non-negative integer/);
    expect(() => store.purgedRanges({ since: 'yesterday' })).toThrow(/^filter\.since must be an ISO-8601 date-time/);
    expect(() => store.purgedRanges({ streams: 'r/1' } as never)).toThrow(TypeError);
    expect(() => store.purgedRanges({ sinse: iso(0) } as never)).toThrow(/^filter\.sinse is not a known option/);
    expect(() => store.purgedRanges({ since: iso(5), until: iso(1) })).toThrow(/^filter\.since must not be after filter\.until/);
  });
});
