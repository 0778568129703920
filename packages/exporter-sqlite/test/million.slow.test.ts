/**
 * Million-row checks (slow suite): a store of 1,000,000 records verifies in
 * constant memory, and a tampered row among them is still found.
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { benchDir, benchKeyring, buildStore } from '../bench/fixtures.js';

const N = 1_000_000;
const tmp = benchDir();
afterAll(() => tmp.cleanup());

describe('a million records', () => {
  it('verify streams them in constant memory and finds one edited row', async () => {
    const file = path.join(tmp.dir, 'million.db');
    buildStore(file, N, 1_764_000_000_000_000_000n);
    const raw = new Database(file);
    raw.exec('DROP TRIGGER audit_logs_no_update');
    raw.exec("UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 765432");
    raw.close();
    const store = new SqliteAuditStore(file);
    global.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const report = await store.verify({
      keyring: benchKeyring,
      progressEveryRecords: 50_000,
      onProgress: () => { peak = Math.max(peak, process.memoryUsage().heapUsed); },
    });
    store.close();
    expect(report.records).toBe(N);
    // One root_mismatch per checkpoint over the edited record (every 1,000 records to 1,000,000): the first 100 listed, the rest counted.
    const found = report.streams[0]!.findings.map((f) => `${f.code}@${f.seq}`);
    expect(found).toEqual(['hash_mismatch@765432', ...Array.from({ length: 100 }, (_, i) => `root_mismatch@${765_999 + 1000 * i}`), 'unsigned_tail@765000']);
    expect(report.streams[0]!.checkpoints.mismatched).toBe(235);
    // A million rebuilt records would take gigabytes; the verifier's window and the row being read stay well under this.
    console.log(`verify of ${N} records: heap grew by at most ${((peak - base) / 1048576).toFixed(1)} MiB`);
    expect(peak - base).toBeLessThan(200 * 1024 * 1024);
  }, 600_000);
});
