/**
 * `SqliteAuditStore.readStream` (src/internal/read-stream.ts): a stream's
 * records by seq range, oldest first, as `query` returns them, bounded by
 * `limit`, read through the (stream, seq) index — never a walk of the rows
 * before the range, which a bundle export's start is (so a range whose
 * earlier rows give no start still reads).
 */
import { AuditChain } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { BundleExportError, SqliteAuditStore } from '../src/index.js';
import { READ_STREAM_SQL } from '../src/internal/read-stream.js';
import { attacker, collectText, sealBatch, storesPerTest, storeWith } from './helpers.js';

const setup = storesPerTest();

describe('SqliteAuditStore.readStream', () => {
  it('returns the records of a seq range of one stream in seq order, with checksum and timestamp as query gives them, at most limit', () => {
    const s = setup(30);
    const other = new AuditChain({ stream: 'other/1' });
    s.store.appendSync(sealBatch(other, 30));
    const got = s.store.readStream('svc/1', { fromSeq: 12, toSeq: 20 });
    expect(got.map((r) => r.record.seq)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(got.map((r) => r.record)).toEqual(s.batch.records.slice(12, 21).map((r) => r.record));
    expect(got.map((r) => r.checksum)).toEqual(s.batch.records.slice(12, 21).map((r) => r.hash));
    const queried = s.store.query({ stream: 'svc/1', order: 'oldest', limit: 100 }).records.slice(12, 21);
    expect(got).toEqual(queried);
    expect(got[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

    expect(s.store.readStream('svc/1', { fromSeq: 25, limit: 3 }).map((r) => r.record.seq)).toEqual([25, 26, 27]);
    expect(s.store.readStream('svc/1', { fromSeq: 28 }).map((r) => r.record.seq)).toEqual([28, 29]);
    expect(s.store.readStream('svc/1').length).toBe(30);
    expect(s.store.readStream('svc/1', { fromSeq: 30 })).toEqual([]);
    expect(s.store.readStream('nope/1')).toEqual([]);
  });

  it('decrypts sealed members on an encrypted store', () => {
    const s = storeWith(5, { encryption: { keyId: 'k1', key: Buffer.alloc(32, 7) } });
    try {
      const [r] = s.store.readStream('svc/1', { fromSeq: 3, limit: 1 });
      expect(r!.record).toEqual(s.batch.records[3]!.record);
      expect(r!.record.details).toMatchObject({ i: 3 });
      // In the file, details are ciphertext.
      expect(s.store.database.prepare('SELECT details FROM audit_logs WHERE seq = 3').pluck().get()).not.toContain('"i":3');
    } finally {
      s.close();
    }
  });

  it('reads the range through the (stream, seq) index, without a sort, so the rows before it are never read', () => {
    const s = setup(5);
    const plan = (s.store.database.prepare(`EXPLAIN QUERY PLAN ${READ_STREAM_SQL}`).all('svc/1', 0, 1, 1) as { detail: string }[]).map((p) => p.detail);
    expect(plan).toEqual(['SEARCH audit_logs USING INDEX audit_logs_stream_seq (stream=? AND seq>? AND seq<?)']);
  });

  it('reads a range whose earlier rows give no verifiable start, which a bundle export of it refuses', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    // Between the compact range stored with the checkpoint at 10 and the range.
    db.exec('DELETE FROM audit_logs WHERE seq IN (14, 15)');
    db.close();
    await expect(collectText(s.store.export({ format: 'bundle', fromSeq: 17, toSeq: 19 }))).rejects.toThrow(BundleExportError);
    expect(s.store.readStream('svc/1', { fromSeq: 17, toSeq: 19 }).map((r) => r.record.seq)).toEqual([17, 18, 19]);
  });

  it('refuses bad arguments naming them', () => {
    const s = setup(3);
    expect(() => s.store.readStream(1 as unknown as string)).toThrow(TypeError);
    expect(() => s.store.readStream('svc/1', { fromSeq: -1 })).toThrow(/^options\.fromSeq must be a non-negative integer; got -1$/);
    expect(() => s.store.readStream('svc/1', { toSeq: 1.5 })).toThrow(/^options\.toSeq must be a non-negative integer/);
    expect(() => s.store.readStream('svc/1', { limit: 0 })).toThrow(/^options\.limit must be an integer in 1\.\.10000; got 0$/);
    expect(() => s.store.readStream('svc/1', { limit: 10_001 })).toThrow(RangeError);
    expect(() => s.store.readStream('svc/1', { since: 1 } as never)).toThrow(/^options\.since is not an option of readStream/);
    s.store.close();
    expect(() => s.store.readStream('svc/1')).toThrow(/is closed/);
  });

  it('reads a read-only store', () => {
    const s = setup(4);
    const ro = new SqliteAuditStore(s.file, { readOnly: true });
    try {
      expect(ro.readStream('svc/1', { fromSeq: 2 }).map((r) => r.record.seq)).toEqual([2, 3]);
    } finally {
      ro.close();
    }
  });
});
