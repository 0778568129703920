/**
 * The integrity badge on a long stream (scale review F4): a window deep in a
 * stream whose beginning was never purged is verified from the Merkle
 * compact range the store keeps with each checkpoint row, not by hashing
 * every stored checksum from seq 0 — which made such a window a 422 (or a
 * walk of the whole prefix) on a store of millions of records. The stored
 * compact range is unsigned: a forged one must leave the window not
 * verified, and a record rewritten inside the window is still caught.
 */
import { createRecordId } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { describe, expect, it } from 'vitest';
import { appendEvents, AUDITOR_TOKEN, call, fixturesPerTest } from './helpers.js';

const fixture = fixturesPerTest();

const RECORDS = 5_000;
const BATCH = 100;
const T_START = Date.now() - 2 * 3_600_000;
/** Record i's time: one a second, from two hours ago. */
const timeOf = (i: number): Date => new Date(T_START + i * 1_000);

/** A server whose stream svc/1 holds 5,000 records, signed every 100 (each checkpoint in the batch of the records it covers), 200 verified per request. */
async function longStream() {
  const fx = await fixture(0, { maxIntegrityRecords: 200 });
  for (let b = 0; b < RECORDS / BATCH; b++) {
    appendEvents(fx.store, fx.chain, Array.from({ length: BATCH }, (_, k) => ({ id: createRecordId(), time: timeOf(b * BATCH + k), type: 'api', action: 'call' })));
  }
  return fx;
}

/** The attacker with write access to the file: the append-only triggers dropped, then `sql`. */
function tamper(store: SqliteAuditStore, sql: string, ...args: unknown[]): void {
  const db = store.database;
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
  db.prepare(sql).run(...args);
}

describe('GET /api/audit/integrity on a window deep in a long stream', () => {
  it('verifies a seq window and a time window thousands of records in, starting from the compact range stored with the nearest checkpoint', async () => {
    const fx = await longStream();
    const seqs = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=4250&to_seq=4260', AUDITOR_TOKEN);
    expect(seqs.status).toBe(200);
    const body = await seqs.json();
    expect(body).toMatchObject({ intact: true, report: { ok: true, records: 11 } });
    expect(body.report.streams[0]).toMatchObject({ stream: 'svc/1', firstSeq: 4250, lastSeq: 4260 });
    // The badge's question: the last few minutes of the stream.
    const since = encodeURIComponent(timeOf(4_880).toISOString());
    const window = await call(fx, `/api/audit/integrity?stream=svc%2F1&since=${since}`, AUDITOR_TOKEN);
    expect(window.status).toBe(200);
    expect(await window.json()).toMatchObject({ intact: true, report: { ok: true, records: 120 } });
    // The store reads at most the 99 checksums after the nearest checkpoint, not the 4,250 before the window.
    expect(fx.store.rangeStartCost({ streams: ['svc/1'], fromSeq: 4250 })).toEqual({ rows: 50, longest: { stream: 'svc/1', seq: 4250, from: 4200, rows: 50, base: 'checkpoint' } });
  });

  it('reports a window not verified, never intact, when the stored compact range is forged', async () => {
    const fx = await longStream();
    const row = fx.store.database.prepare("SELECT compact_range FROM audit_checkpoints WHERE stream = 'svc/1' AND size = 4200").pluck().get() as string;
    const state = JSON.parse(row) as { size: number; hashes: string[] };
    // A well-formed range of the right size whose first subtree root was changed.
    state.hashes[0] = (state.hashes[0]![0] === '0' ? '1' : '0') + state.hashes[0]!.slice(1);
    tamper(fx.store, "UPDATE audit_checkpoints SET compact_range = ? WHERE stream = 'svc/1' AND size = 4200", JSON.stringify(state));
    for (const q of ['from_seq=4200&to_seq=4210', 'from_seq=4250&to_seq=4260']) {
      const body = await (await call(fx, `/api/audit/integrity?stream=svc%2F1&${q}`, AUDITOR_TOKEN)).json();
      expect(body.intact).toBe(false);
      expect(body.report.ok).toBe(false);
      expect(body.report.streams[0].findings).toContainEqual(expect.objectContaining({ code: 'root_mismatch' }));
    }
  });

  it('still catches a record rewritten inside the window', async () => {
    const fx = await longStream();
    tamper(fx.store, "UPDATE audit_logs SET actor_id = 'mallory' WHERE stream = 'svc/1' AND seq = 4255");
    const body = await (await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=4250&to_seq=4260', AUDITOR_TOKEN)).json();
    expect(body.intact).toBe(false);
    expect(body.report.streams[0].findings).toContainEqual(expect.objectContaining({ code: 'hash_mismatch', seq: 4255 }));
  });

  it('still refuses a window whose start is too far from any stored compact range, naming where the walk starts', async () => {
    const fx = await fixture(0, { maxIntegrityRecords: 200 });
    // 1,000 records, signed only at their end: the nearest compact range below seq 900 is the empty one at seq 0.
    appendEvents(fx.store, fx.chain, Array.from({ length: 1_000 }, (_, i) => ({ id: createRecordId(), time: timeOf(i), type: 'api', action: 'call' })));
    const deep = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=900&to_seq=905', AUDITOR_TOKEN);
    expect(deep.status).toBe(422);
    expect((await deep.json()).error.message).toMatch(/holds 6 records, but it starts deep in stream "svc\/1": at seq 900, with 900 records before it back to seq 0, /);
  });
});
