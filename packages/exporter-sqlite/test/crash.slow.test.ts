import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { keyring, keys, tempDb } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = tempDb();
afterAll(() => tmp.cleanup());

/** Run the writer until it has acknowledged `receipts` records, then SIGKILL it; returns the acknowledged receipts. */
function runAndKill(receipts: number): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'crash-writer.ts'), tmp.file, keys.signerKey], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<string, number>();
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [id, seq] = line.split(' ');
        if (id !== 'ready') acked.set(id!, Number(seq));
      }
      if (acked.size >= receipts && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer exited without being killed (${signal})`))));
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged record through SIGKILL in the middle of heavy appends, resumes and verifies', async () => {
    const all = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (const [id, seq] of await runAndKill(5_000 + round * 1_000)) all.set(id, seq);
      const store = new SqliteAuditStore(tmp.file);
      const lookup = store.database.prepare('SELECT seq FROM audit_logs WHERE event_id = ?').pluck();
      for (const [id, seq] of all) expect(lookup.get(id)).toBe(seq);
      const report = await store.verify({ keyring });
      expect(report.ok).toBe(true);
      const found = report.streams.flatMap((s) => s.findings.map((f) => f.code));
      expect(found.filter((c) => c !== 'unsigned_tail')).toEqual([]);
      expect(report.records).toBe((await store.head('crash/1'))!.size);
      store.close();
    }
    expect(all.size).toBeGreaterThanOrEqual(5_000 + 6_000 + 7_000);
  }, 120_000);
});
