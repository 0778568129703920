import { gunzipSync } from 'node:zlib';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore, verifyArchive, type ArchiveOptions } from '../src/index.js';
import { codes, keyring, MINUTE, sealBatch, signer, T0, tempDb } from './helpers.js';

type Progress = Parameters<NonNullable<ArchiveOptions['onProgress']>>[0];

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** `n` records one minute apart on r/1 and `n` on r/2, signed every 10. */
function setup(n = 100) {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  for (const stream of ['r/1', 'r/2']) store.appendSync(sealBatch(new AuditChain({ stream }), n));
  return { ...tmp, store };
}

const at = (minutes: number) => T0 + BigInt(minutes) * MINUTE;
const count = (store: SqliteAuditStore, sql: string) => store.database.prepare(sql).pluck().get() as number;
/** The hourly counts the dashboard reads must stay those of the rows left. */
const hourlyTotal = (store: SqliteAuditStore) => count(store, 'SELECT coalesce(sum(n), 0) FROM audit_stats_hourly');

describe('retention progress and interruption', () => {
  it('reports each archive created and each archive purged, with running totals', async () => {
    const { store } = setup();
    const archived: Progress[] = [];
    const created = store.archive({ olderThan: at(45), maxRecordsPerArchive: 20, onProgress: (p) => archived.push(p) });
    expect(created).toHaveLength(4);
    expect(archived.map((p) => [p.stream, p.archiveId, p.firstSeq, p.lastSeq, p.records, p.doneArchives, p.doneRecords])).toEqual(
      created.map((a, i) => [a.stream, a.archiveId, a.firstSeq, a.lastSeq, a.records, i + 1, created.slice(0, i + 1).reduce((n, x) => n + x.records, 0)]),
    );
    const purged: Progress[] = [];
    const results = await store.purge({ olderThan: at(45), signers: [signer], nowUnixNano: at(200), onProgress: (p) => purged.push(p) });
    expect(results.map((r) => r.records)).toEqual([40, 40]);
    expect(purged.map((p) => [p.stream, p.archiveId, p.records, p.doneArchives, p.doneRecords])).toEqual([
      ['r/1', created[0]!.archiveId, 20, 1, 20], ['r/1', created[1]!.archiveId, 20, 2, 40],
      ['r/2', created[2]!.archiveId, 20, 3, 60], ['r/2', created[3]!.archiveId, 20, 4, 80],
    ]);
  });

  it('a purge stopped between two archives leaves a store that verifies, and the next run finishes it', async () => {
    const { store } = setup();
    store.archive({ olderThan: at(45), maxRecordsPerArchive: 20, streams: ['r/1'] });
    const stop = new Error('stopped after the first archive');
    await expect(store.purge({ olderThan: at(45), signers: [signer], nowUnixNano: at(200), onProgress: () => { throw stop; } })).rejects.toBe(stop);
    // Whole archives only: the first is purged (with its purge row), the second still in the log.
    expect(store.archives('r/1').map((a) => [a.firstSeq, a.lastSeq, a.purged])).toEqual([[0, 19, true], [20, 39, false]]);
    expect(count(store, "SELECT min(seq) FROM audit_logs WHERE stream = 'r/1'")).toBe(20);
    expect(hourlyTotal(store)).toBe(count(store, 'SELECT count(*) FROM audit_logs'));
    const halfway = await store.verify({ keyring });
    expect(codes(halfway)).toEqual([]);
    expect(halfway.ok).toBe(true);
    expect(store.purgedRanges({ stream: 'r/1' }).map((r) => [r.firstSeq, r.lastSeq])).toEqual([[0, 19]]);

    const [rest] = await store.purge({ olderThan: at(45), signers: [signer], nowUnixNano: at(201) });
    expect(rest).toMatchObject({ stream: 'r/1', firstSeq: 20, lastSeq: 39, records: 20 });
    expect(store.archives('r/1').every((a) => a.purged)).toBe(true);
    expect(count(store, "SELECT min(seq) FROM audit_logs WHERE stream = 'r/1'")).toBe(40);
    expect(hourlyTotal(store)).toBe(count(store, 'SELECT count(*) FROM audit_logs'));
    const after = await store.verify({ keyring });
    expect(codes(after)).toEqual([]);
    expect(store.purgedRanges({ stream: 'r/1' }).map((r) => [r.firstSeq, r.lastSeq, r.purgeRecordIds.length])).toEqual([[0, 39, 2]]);
  });

  it('refuses an onProgress that is no function and a pauseBetweenArchives that is no boolean, naming the option', async () => {
    const { store } = setup();
    expect(() => store.archive({ olderThan: at(45), onProgress: 'bar' as never })).toThrow(/^options\.onProgress must be a function; got/);
    expect(store.archives()).toEqual([]);
    store.archive({ olderThan: at(45) });
    await expect(store.purge({ olderThan: at(45), onProgress: 1 as never })).rejects.toThrow(/^options\.onProgress must be a function/);
    await expect(store.purge({ olderThan: at(45), pauseBetweenArchives: 'no' as never })).rejects.toThrow(/^options\.pauseBetweenArchives must be a boolean/);
    expect(store.archives().some((a) => a.purged)).toBe(false);
  });

  it('an archive larger than one gzip member reads back whole and verifies', () => {
    const { store } = setup(3_000);
    const [archive] = store.archive({ olderThan: at(2_999), streams: ['r/1'] });
    expect(archive).toMatchObject({ firstSeq: 0, lastSeq: 2_989 });
    const read = store.readArchive(archive!.archiveId);
    expect(verifyArchive(read, keyring).ok).toBe(true);
    const text = gunzipSync(read.data).toString('utf8');
    expect(text.length).toBeGreaterThan(2 << 20); // several members of 1 MiB of text each
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => (JSON.parse(l) as { record: { seq: number } }).record.seq)).toEqual([...Array(2_990).keys()]);
  });
});
