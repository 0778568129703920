/**
 * `store.query({ order: 'stored' })`: records in the order the store
 * committed them, whatever their times, with a cursor on every page (also
 * the last) that a later call resumes from, so a follower (`tail -f`) gets
 * each record committed after it once; `cursor: 'end'` starts at the end,
 * `afterId` after a given record.
 */
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidCursorError, SqliteAuditStore } from '../src/index.js';
import { fullEvent, MINUTE, sealBatch, T0, tempDb } from './helpers.js';

const open: { store: SqliteAuditStore; cleanup: () => void }[] = [];
afterEach(() => { for (const o of open.splice(0)) { o.store.close(); o.cleanup(); } });

function newStore(): SqliteAuditStore {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  open.push({ store, cleanup: tmp.cleanup });
  return store;
}

const ids = (page: { records: { record: { stream: string; seq: number } }[] }): string[] => page.records.map((r) => `${r.record.stream}#${r.record.seq}`);

describe("SqliteAuditStore.query({ order: 'stored' })", () => {
  it('pages in commit order whatever the times, and resumes from the last page cursor with what was committed since, each once', () => {
    const store = newStore();
    const a = new AuditChain({ stream: 'a/1' });
    const b = new AuditChain({ stream: 'b/1' });
    // a/1 dated now, b/1 a day ahead, a/1 again an hour back.
    store.appendSync(sealBatch(a, 3, 100, (i) => fullEvent(i, T0 + BigInt(i))));
    store.appendSync(sealBatch(b, 2, 100, (i) => fullEvent(i, T0 + 1_440n * MINUTE + BigInt(i))));
    store.appendSync(sealBatch(a, 2, 100, (i) => fullEvent(i, T0 - 60n * MINUTE + BigInt(i))));
    const first = store.query({ order: 'stored', limit: 4 });
    expect(ids(first)).toEqual(['a/1#0', 'a/1#1', 'a/1#2', 'b/1#0']);
    const last = store.query({ order: 'stored', limit: 4, cursor: first.nextCursor! });
    expect(ids(last)).toEqual(['b/1#1', 'a/1#3', 'a/1#4']);
    expect(last.nextCursor).toEqual(expect.any(String));
    expect(ids(store.query({ order: 'stored', cursor: last.nextCursor! }))).toEqual([]);
    store.appendSync(sealBatch(b, 1, 100, (i) => fullEvent(i, T0 - 600n * MINUTE)));
    const later = store.query({ order: 'stored', cursor: last.nextCursor! });
    expect(ids(later)).toEqual(['b/1#2']);
    expect(ids(store.query({ order: 'stored', cursor: later.nextCursor! }))).toEqual([]);
  });

  it("starts at the store's end with cursor 'end'; filters apply, and a filtered poll moves past the records it skipped", () => {
    const store = newStore();
    const a = new AuditChain({ stream: 'a/1' });
    store.appendSync(sealBatch(a, 5, 100));
    const end = store.query({ order: 'stored', cursor: 'end', stream: 'b/1' });
    expect(end.records).toEqual([]);
    store.appendSync(sealBatch(a, 2, 100));
    const b = new AuditChain({ stream: 'b/1' });
    store.appendSync(sealBatch(b, 1, 100));
    const page = store.query({ order: 'stored', cursor: end.nextCursor!, stream: 'b/1' });
    expect(ids(page)).toEqual(['b/1#0']);
    const skipped = store.query({ order: 'stored', cursor: end.nextCursor!, stream: 'none' });
    expect(skipped.records).toEqual([]);
    expect(skipped.nextCursor).toBe(store.query({ order: 'stored', cursor: 'end' }).nextCursor);
  });

  it('starts after the record afterId names, and refuses an id the store does not hold or afterId with a time order', () => {
    const store = newStore();
    const a = new AuditChain({ stream: 'a/1' });
    const sealed = sealBatch(a, 4, 100, (i) => fullEvent(i, T0 - BigInt(i) * MINUTE));
    store.appendSync(sealed);
    expect(ids(store.query({ order: 'stored', afterId: sealed.records[1]!.record.id }))).toEqual(['a/1#2', 'a/1#3']);
    expect(() => store.query({ order: 'stored', afterId: 'no-such-id' })).toThrow(/query.afterId "no-such-id" is not a record of this store/);
    expect(() => store.query({ order: 'oldest', afterId: sealed.records[1]!.record.id })).toThrow(/query.afterId goes with order 'stored' only/);
  });

  it('refuses a cursor made for another order, and a stored cursor for a time order', () => {
    const store = newStore();
    store.appendSync(sealBatch(new AuditChain({ stream: 'a/1' }), 3, 100));
    const byTime = store.query({ order: 'oldest', limit: 1 }).nextCursor!;
    expect(() => store.query({ order: 'stored', cursor: byTime })).toThrow(InvalidCursorError);
    expect(() => store.query({ order: 'stored', cursor: byTime })).toThrow(/made for order 'oldest', not 'stored'/);
    const stored = store.query({ order: 'stored', limit: 1 }).nextCursor!;
    expect(() => store.query({ order: 'newest', cursor: stored })).toThrow(/made for order 'stored', not 'newest'/);
    expect(() => store.query({ order: 'newest', cursor: 'end' })).toThrow(InvalidCursorError);
    expect(() => store.query({ order: 'sorted' as 'stored' })).toThrow(/query.order must be 'newest', 'oldest' or 'stored'/);
  });
});
