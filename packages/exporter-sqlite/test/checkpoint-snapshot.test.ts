/**
 * The compact range stored with a checkpoint row (src/internal/checkpoint-snapshot.ts,
 * the appender, schema version 2): written when the batch's head passes the
 * checkpoint's size, used as the start of a window deep in a stream (a scale
 * review: ten records at seq 740,000 took 7.9 s, every stored checksum before
 * them hashed), sound when forged (the window's root then mismatches its
 * signed checkpoint), skipped when it does not parse; and a time bound finds
 * its seq through the (stream, time) index.
 */
import { AuditChain, type ChainHead } from '@otel-audit/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { attacker, codes, keyring, MINUTE, sealBatch, sealedCheckpoint, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0).reverse()) c(); });

/** A store holding 200 records of svc/1, one a minute from T0, signed every 10 in the batch that holds them. */
function signedEvery10(): { file: string; store: SqliteAuditStore; heads: Map<number, ChainHead> } {
  const tmp = tempDb();
  cleanups.push(tmp.cleanup);
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => store.close());
  const chain = new AuditChain({ stream: 'svc/1' });
  const heads = new Map<number, ChainHead>();
  // Batches of 25 records: some checkpoints fall inside a batch, some at its end.
  for (let b = 0; b < 8; b++) {
    const batch = sealBatch(chain, 25);
    store.appendSync(batch);
    heads.set(chain.size, chain.head());
  }
  return { file: tmp.file, store, heads };
}

const snapshotAt = (store: SqliteAuditStore, size: number): unknown =>
  store.database.prepare("SELECT compact_range FROM audit_checkpoints WHERE stream = 'svc/1' AND size = ?").pluck().get(size);

describe('the compact range stored with a checkpoint', () => {
  it('is the stream\'s compact range at the checkpoint\'s size when the batch reaches it; NULL for a checkpoint delivered after later records', () => {
    const { store, heads } = signedEvery10();
    expect(JSON.parse(snapshotAt(store, 50) as string)).toEqual(heads.get(50)!.compactRange);
    expect(JSON.parse(snapshotAt(store, 200) as string)).toEqual(heads.get(200)!.compactRange);
    expect(JSON.parse(snapshotAt(store, 130) as string)).toMatchObject({ size: 130 });
    // A second stream: its checkpoint at 10 arrives only with records 20..29, when its head has passed 10.
    const chain = new AuditChain({ stream: 'svc/2' });
    store.appendSync(sealBatch(chain, 10, 1_000));
    const late = sealedCheckpoint(chain, T0);
    store.appendSync(sealBatch(chain, 10, 1_000));
    store.appendSync({ records: sealBatch(chain, 10, 1_000).records, checkpoints: [late] });
    // A checkpoint alone, at the stored head's size: placed from the head; one at the size a batch starts from, too.
    store.appendSync({ records: [], checkpoints: [sealedCheckpoint(chain, T0 + MINUTE)] });
    const rows = store.database.prepare("SELECT size, compact_range FROM audit_checkpoints WHERE stream = 'svc/2' ORDER BY size").all();
    expect(rows).toEqual([{ size: 10, compact_range: null }, { size: 30, compact_range: JSON.stringify(chain.head().compactRange) }]);
    const other = new AuditChain({ stream: 'svc/3' });
    store.appendSync(sealBatch(other, 20, 1_000));
    const at20 = other.head().compactRange;
    const cp20 = sealedCheckpoint(other, T0);
    store.appendSync({ records: sealBatch(other, 5, 1_000).records, checkpoints: [cp20] });
    expect(store.database.prepare("SELECT compact_range FROM audit_checkpoints WHERE stream = 'svc/3'").pluck().get()).toBe(JSON.stringify(at20));
  });

  it('starts a window deep in the stream: the walk reads the checksums after the nearest checkpoint, and the window verifies', async () => {
    const { store } = signedEvery10();
    expect(store.rangeStartCost({ streams: ['svc/1'], fromSeq: 175, toSeq: 180 })).toEqual({ rows: 5, longest: { stream: 'svc/1', seq: 175, from: 170, rows: 5, base: 'checkpoint' } });
    expect(store.rangeStartCost({ streams: ['svc/1'], fromSeq: 170 })).toEqual({ rows: 0, longest: undefined });
    for (const fromSeq of [170, 175]) {
      const report = await store.verify({ keyring, streams: ['svc/1'], fromSeq, toSeq: 180 });
      expect(report).toMatchObject({ ok: true, errors: 0, records: 181 - fromSeq });
      expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBeGreaterThan(180);
    }
  });

  it('forged, makes the window mismatch its signed checkpoint; unreadable, is skipped for the one below it', async () => {
    const { file, store } = signedEvery10();
    const state = JSON.parse(snapshotAt(store, 170) as string) as { size: number; hashes: string[] };
    state.hashes[1] = (state.hashes[1]![0] === '0' ? '1' : '0') + state.hashes[1]!.slice(1);
    const raw = attacker(file);
    raw.prepare("UPDATE audit_checkpoints SET compact_range = ? WHERE stream = 'svc/1' AND size = 170").run(JSON.stringify(state));
    const forged = await store.verify({ keyring, streams: ['svc/1'], fromSeq: 175, toSeq: 178 });
    expect(forged.ok).toBe(false);
    expect(forged.streams[0]!.findings).toContainEqual(expect.objectContaining({ code: 'root_mismatch', size: 180 }));
    // Not a compact range of the row's size: the start is built from the one at 160.
    raw.prepare("UPDATE audit_checkpoints SET compact_range = ? WHERE stream = 'svc/1' AND size = 170").run(JSON.stringify({ ...state, size: 171 }));
    raw.close();
    expect(store.rangeStartCost({ streams: ['svc/1'], fromSeq: 175 })).toMatchObject({ rows: 15, longest: { from: 160, base: 'checkpoint' } });
    expect(await store.verify({ keyring, streams: ['svc/1'], fromSeq: 175, toSeq: 178 })).toMatchObject({ ok: true, records: 4 });
  });

  it('forged, is named by a whole-store verify even when no window starts from it; an intact store passes', async () => {
    const { file, store } = signedEvery10();
    expect(await store.verify({ keyring })).toMatchObject({ ok: true, errors: 0 });
    const state = JSON.parse(snapshotAt(store, 90) as string) as { size: number; hashes: string[] };
    state.hashes[0] = (state.hashes[0]![0] === '0' ? '1' : '0') + state.hashes[0]!.slice(1);
    const raw = attacker(file);
    raw.prepare("UPDATE audit_checkpoints SET compact_range = ? WHERE stream = 'svc/1' AND size = 90").run(JSON.stringify(state));
    raw.prepare("UPDATE audit_checkpoints SET compact_range = 'x' WHERE stream = 'svc/1' AND size = 120").run();
    raw.close();
    const report = await store.verify({ keyring });
    expect(report.ok).toBe(false);
    const found = report.streams[0]!.findings.filter((f) => /compact range stored with it/.test(f.message));
    expect(found.map((f) => [f.code, f.size, f.actual === 'not a compact range'])).toEqual([['hash_mismatch', 90, false], ['hash_mismatch', 120, true]]);
  });

  it('a record rewritten inside a window started from a snapshot is still caught', async () => {
    const { file, store } = signedEvery10();
    const raw = attacker(file);
    raw.prepare("UPDATE audit_logs SET actor_id = 'mallory' WHERE stream = 'svc/1' AND seq = 176").run();
    raw.close();
    expect(codes(await store.verify({ keyring, streams: ['svc/1'], fromSeq: 175, toSeq: 178 }))).toContain('hash_mismatch@176');
  });

  it('a store of schema version 1 (no such column), opened read-only, verifies a window from seq 0', async () => {
    const { file, store } = signedEvery10();
    store.close();
    const raw = new Database(file);
    raw.exec('DROP INDEX audit_logs_stream_time; DROP INDEX audit_logs_request; ALTER TABLE audit_checkpoints DROP COLUMN compact_range;');
    raw.pragma('user_version = 1');
    raw.close();
    const reader = new SqliteAuditStore(file, { readOnly: true });
    try {
      expect(reader.rangeStartCost({ streams: ['svc/1'], fromSeq: 175 })).toMatchObject({ rows: 175, longest: { from: 0, base: 'start' } });
      expect(await reader.verify({ keyring, streams: ['svc/1'], fromSeq: 175, toSeq: 178 })).toMatchObject({ ok: true, records: 4 });
    } finally {
      reader.close();
    }
  });
});

describe('a time bound of a range', () => {
  it('finds its seqs through the (stream, time) index, not by walking the stream in seq order', () => {
    const { store } = signedEvery10();
    const db = store.database;
    const prepare = db.prepare.bind(db);
    const sql: string[] = [];
    db.prepare = ((source: string) => { sql.push(source); return prepare(source); }) as typeof db.prepare;
    let cost;
    try {
      cost = store.rangeStartCost({ streams: ['svc/1'], since: T0 + 175n * MINUTE, until: T0 + 179n * MINUTE });
    } finally {
      db.prepare = prepare as typeof db.prepare;
    }
    expect(cost).toMatchObject({ rows: 5, longest: { seq: 175, from: 170 } });
    const timed = sql.filter((s) => /FROM audit_logs WHERE[^]*time_unix_nano/.test(s));
    expect(timed.length).toBeGreaterThan(0);
    for (const s of timed) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${s}`).all(...Array(s.split('?').length - 1).fill(1)).map((r) => (r as { detail: string }).detail).join(' | ');
      expect(plan).toContain('USING INDEX audit_logs_stream_time (stream=? AND time_unix_nano>? AND time_unix_nano<?)');
    }
  });
});
