/**
 * SQLite's check of the store file at start, in a worker thread
 * (src/internal/file-check-worker.ts): a check that could not run (a file
 * moved away, locked) says so as an error — it must not read as damage to
 * the file, which raises the critical audit_integrity alert on a sound store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { startFileCheck } from '../../src/internal/file-check-worker.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-file-check-'));
  dirs.push(dir);
  return dir;
}

describe('startFileCheck', () => {
  it('finds nothing wrong with a sound store', async () => {
    const file = join(tempDir(), 'audit.db');
    const store = new SqliteAuditStore(file);
    const chain = new AuditChain({ stream: 'svc/1' });
    store.appendSync({ records: [chain.append({ id: '01890000-0000-7000-8000-000000000001', time: '1', type: 'auth', action: 'login' })], checkpoints: [] });
    store.close();
    await expect(startFileCheck(file).damage).resolves.toEqual([]);
  });

  it('rejects, naming why, when the check cannot run — no damage reported for a file it could not open', async () => {
    const missing = join(tempDir(), 'moved-away.db');
    await expect(startFileCheck(missing).damage).rejects.toThrow(/^SQLite's check of the file could not run: unable to open database file/);
  });
});
