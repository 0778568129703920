/**
 * sqlite-verify: records/s of `SqliteAuditStore.verify` over a store of
 * 1,000,000 records (one stream, a signed checkpoint every 1,000) — rows
 * rebuilt from their columns, canonicalized, hashed, chained, Merkle-rooted
 * and compared with every checkpoint — beside the same run's baseline: a
 * full scan of the same columns in the same order plus one SHA-256 per row.
 * Best of two alternating runs each. ratio = ours / baseline (target ≥ 0.5).
 * Also reports the database's bytes per record.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SqliteAuditStore } from '../src/index.js';
import { SELECT_LIST } from '../src/internal/row-mapping.js';
import { benchDir, benchKeyring, buildStore } from './fixtures.js';

const N = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const oneShot = (crypto as unknown as { hash?: (a: string, d: string, e: 'hex') => string }).hash;
const sha256Hex = (text: string): string => (oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex'));

const { dir, cleanup } = benchDir();
try {
  const file = path.join(dir, 'audit.db');
  const buildSecs = buildStore(file, N, 1_764_000_000_000_000_000n);
  const bytes = fs.statSync(file).size;
  console.log(`built ${N} records in ${buildSecs.toFixed(1)} s; ${(bytes / N).toFixed(0)} bytes/record`);
  const store = new SqliteAuditStore(file);

  const baseline = (): number => {
    const reader = store.openReader();
    const t = process.hrtime.bigint();
    let n = 0;
    let sink = 0;
    for (const row of reader.prepare(`SELECT ${SELECT_LIST} FROM audit_logs ORDER BY stream, seq`).raw().safeIntegers().iterate() as Iterable<unknown[]>) {
      sink ^= sha256Hex(row.join('\u0001')).charCodeAt(0);
      n++;
    }
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    reader.close();
    if (n !== N || sink === 256) throw new Error(`baseline read ${n} rows`);
    return N / secs;
  };
  const ours = async (): Promise<number> => {
    const t = process.hrtime.bigint();
    const report = await store.verify({ keyring: benchKeyring });
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    if (!report.ok || report.records !== N || report.warnings !== 0) throw new Error(`verify failed: ${JSON.stringify(report.streams[0]?.findings.slice(0, 3))}`);
    return N / secs;
  };
  let b = 0;
  let o = 0;
  for (let r = 0; r < 2; r++) {
    b = Math.max(b, baseline());
    o = Math.max(o, await ours());
  }
  store.close();
  console.log(`sqlite-verify: ours ${Math.round(o)} records/s, baseline (full scan + one SHA-256 per row) ${Math.round(b)} records/s, ratio ${(o / b).toFixed(3)} (target >= 0.5)`);
  console.log(JSON.stringify({ name: 'sqlite-verify', unit: 'records/s', ours: Math.round(o), baseline: Math.round(b), ratio: Number((o / b).toFixed(3)), records: N, bytesPerRecord: Math.round(bytes / N), target: 0.5 }));
} finally {
  cleanup();
}
