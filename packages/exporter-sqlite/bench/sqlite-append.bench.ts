/**
 * sqlite-append: sustained records/s end to end for 500,000 records —
 * sealing with core's AuditChain (as the processor does; the processor
 * package is written concurrently, so the bench drives the chain directly)
 * and `SqliteAuditStore.appendSync` in batches of 1,000 with one signed
 * checkpoint per batch — beside the same run's raw better-sqlite3 insert of
 * the same rows (pre-sealed, pre-mapped: no hashing, no mapping) in the same
 * schema and batch size. Both stores grow side by side, batch by batch, so
 * noise on this shared machine hits both alike; event generation is outside
 * the timed sections. ratio = ours / baseline (target ≥ 0.6).
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '../src/index.js';
import { recordToRow } from '../src/internal/row-mapping.js';
import { benchDir, benchEvent, benchSigner, INSERT_SQL } from './fixtures.js';

const N = Number(process.env.BENCH_RECORDS ?? 500_000);
const BATCH = 1_000;
const T0 = 1_764_000_000_000_000_000n;

const { dir, cleanup } = benchDir();
try {
  const store = new SqliteAuditStore(path.join(dir, 'ours.db'));
  const baseFile = path.join(dir, 'baseline.db');
  new SqliteAuditStore(baseFile).close();
  const raw = new Database(baseFile);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const insert = raw.prepare(INSERT_SQL);
  const insertBatch = raw.transaction((rows: unknown[][]) => { for (const r of rows) insert.run(r); });

  const ours = new AuditChain({ stream: 'bench/1' });
  const theirs = new AuditChain({ stream: 'bench/1' });
  let oursNs = 0n;
  let baseNs = 0n;
  for (let b = 0; b < N; b += BATCH) {
    const events = Array.from({ length: BATCH }, (_, k) => benchEvent(b + k, T0 + BigInt(b + k) * 1_000_000n));
    // Baseline input: the same rows, sealed and mapped outside the timing.
    const rows = events.map((e) => { const s = theirs.append(e); return recordToRow(s.record as never, s.hash, undefined); });

    let t = process.hrtime.bigint();
    insertBatch(rows);
    baseNs += process.hrtime.bigint() - t;

    t = process.hrtime.bigint();
    const records = events.map((e) => ours.append(e));
    const time = BigInt(records[records.length - 1]!.record.time);
    store.appendSync({ records, checkpoints: [{ stream: ours.stream, size: ours.size, rootHash: ours.rootHex(), timeUnixNano: time, note: ours.checkpoint(time, [benchSigner]) }] });
    oursNs += process.hrtime.bigint() - t;
  }
  raw.close();
  store.close();
  const oursRate = N / (Number(oursNs) / 1e9);
  const baseRate = N / (Number(baseNs) / 1e9);
  console.log(`sqlite-append: ours ${Math.round(oursRate)} records/s (seal + append, batches of ${BATCH}), baseline raw insert ${Math.round(baseRate)} records/s, ratio ${(oursRate / baseRate).toFixed(3)} (target >= 0.6)`);
  console.log(JSON.stringify({ name: 'sqlite-append', unit: 'records/s', ours: Math.round(oursRate), baseline: Math.round(baseRate), ratio: Number((oursRate / baseRate).toFixed(3)), records: N, batch: BATCH, target: 0.6 }));
} finally {
  cleanup();
}
