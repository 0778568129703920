/**
 * sqlite-append (issue 4): sustained records/s end to end for 500,000
 * records — `logger.emit()` → AuditLogRecordProcessor (normalise, seal,
 * Merkle, a signed checkpoint every 1,000 records) → SqliteAuditStore in
 * batches of 1,000, until every record is committed — beside the same run's
 * raw better-sqlite3 insert of the same rows (pre-sealed and pre-mapped: no
 * hashing, no mapping) into the same schema in transactions of 1,000.
 * The two alternate in slices of 50,000 records so noise on this shared
 * machine hits both alike; event generation is outside the timed sections.
 * ratio = ours / baseline (target ≥ 0.6).
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditChain, whenAuditCapacity } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { recordToRow } from '../packages/exporter-sqlite/src/internal/row-mapping.js';
import { benchDir, benchEvent, benchKeys, INSERT_SQL } from '../packages/exporter-sqlite/bench/fixtures.js';

const N = Number(process.env.BENCH_RECORDS ?? 500_000);
const BATCH = 1_000;
const SLICE = 50_000;
const T0 = 1_764_000_000_000_000_000n;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

const { dir, cleanup } = benchDir();
try {
  const store = new SqliteAuditStore(path.join(dir, 'ours.db'));
  const processor = new AuditLogRecordProcessor({
    sinks: [store], stream: 'bench/1', signerKey: benchKeys.signerKey,
    maxBatchSize: BATCH, checkpointEveryRecords: BATCH, flushIntervalMillis: 50,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  const logger = provider.getLogger('otel-audit');

  const baseFile = path.join(dir, 'baseline.db');
  new SqliteAuditStore(baseFile).close();
  const raw = new Database(baseFile);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const insert = raw.prepare(INSERT_SQL);
  const insertBatch = raw.transaction((rows: unknown[][]) => { for (const r of rows) insert.run(r); });
  const theirs = new AuditChain({ stream: 'bench/1' });

  let oursNs = 0n;
  let baseNs = 0n;
  for (let s = 0; s < N; s += SLICE) {
    const n = Math.min(SLICE, N - s);
    const events = Array.from({ length: n }, (_, k) => benchEvent(s + k, T0 + BigInt(s + k) * 1_000_000n));
    const rows = events.map((e) => { const sealed = theirs.append(e); return recordToRow(sealed.record as never, sealed.hash, undefined); });

    let t = process.hrtime.bigint();
    for (let b = 0; b < n; b += BATCH) insertBatch(rows.slice(b, b + BATCH));
    baseNs += process.hrtime.bigint() - t;

    t = process.hrtime.bigint();
    for (let k = 0; k < n; k++) {
      logger.emit({ body: events[k] as never });
      if (k % BATCH === BATCH - 1) await (whenAuditCapacity() ?? yieldNow());
    }
    await processor.forceFlush();
    oursNs += process.hrtime.bigint() - t;
  }
  await provider.shutdown();
  raw.close();
  const committed = new SqliteAuditStore(path.join(dir, 'ours.db'));
  const stored = (committed.database.prepare("SELECT count(*) AS n FROM audit_logs WHERE stream = 'bench/1' AND event_type != 'system'").get() as { n: number }).n;
  committed.close();
  if (stored !== N) throw new Error(`sqlite-append: ${stored} of ${N} records were committed`);

  const oursRate = N / (Number(oursNs) / 1e9);
  const baseRate = N / (Number(baseNs) / 1e9);
  console.log(`sqlite-append: ours ${Math.round(oursRate)} records/s (emit → processor → store, batches of ${BATCH}), baseline raw insert ${Math.round(baseRate)} records/s, ratio ${(oursRate / baseRate).toFixed(3)} (target >= 0.6)`);
  console.log(JSON.stringify({ name: 'sqlite-append', unit: 'records/s', ours: Math.round(oursRate), baseline: Math.round(baseRate), ratio: Number((oursRate / baseRate).toFixed(3)), records: N, batch: BATCH, target: 0.6 }));
} finally {
  cleanup();
}
