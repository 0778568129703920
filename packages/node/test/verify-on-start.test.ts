/**
 * The check at start (`exporters.sqlite.verify_on_start`,
 * AUDIT_LOG_INTEGRITY_CHECKS): besides the records, SQLite checks the file.
 * An index edited so that queries miss rows leaves every record verifying,
 * so the records alone would have said success.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateNoteKey } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startAudit, type AuditHandle } from '../src/index.js';

const keys = generateNoteKey('node-verify-on-start');

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-vos-'));
  writeFileSync(join(dir, 'signer.key'), `${keys.signerKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'otel-config.yaml'), `
resource: { service.name: vos-test }
receivers: { api: {} }
processors:
  chain: { stream: vos-test/1, signer_key_file: ./signer.key, delivery: { batch_size: 10, flush_interval: 20ms } }
exporters:
  sqlite: { path: ./audit.db, verify_on_start: true }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite] }
`);
  return dir;
}

/** The newest system/verify record: outcome and details. */
function lastCheck(db: string): { outcome: string; details: Record<string, unknown> } {
  const raw = new Database(db, { readonly: true });
  try {
    const row = raw.prepare("SELECT event_result, details FROM audit_logs WHERE event_type = 'system' AND event_action = 'verify' ORDER BY log_id DESC LIMIT 1").get() as { event_result: string; details: string };
    return { outcome: row.event_result, details: JSON.parse(row.details) as Record<string, unknown> };
  } finally {
    raw.close();
  }
}

describe('verify_on_start', () => {
  it('reports a store whose index no longer matches its table as a failure, naming the damage, though every record verifies', async () => {
    const dir = setup();
    const config = join(dir, 'otel-config.yaml');
    const db = join(dir, 'audit.db');
    running = await startAudit({ path: config });
    await running.shutdown();
    running = await startAudit({ path: config });
    await running.shutdown();
    expect(lastCheck(db)).toMatchObject({ outcome: 'success', details: { errors: 0 } });

    // Someone edits the actor index's page in the file: the rows and their hashes are untouched.
    const raw = new Database(db);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const root = raw.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'audit_logs_actor'").pluck().get() as number;
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.close();
    const bytes = readFileSync(db);
    const page = bytes.subarray((root - 1) * pageSize, root * pageSize);
    let edits = 0;
    for (let at = page.indexOf('otel-audit'); at !== -1; at = page.indexOf('otel-audit', at + 1), edits++) page.write('otel-audiz', at);
    expect(edits).toBeGreaterThan(0);
    writeFileSync(db, bytes);

    running = await startAudit({ path: config });
    await running.shutdown();
    const check = lastCheck(db);
    expect(check.outcome).toBe('failure');
    expect(check.details).toMatchObject({ errors: 0, file_damage: expect.stringMatching(/fails SQLite's integrity check.*audit_logs_actor/) });
  });
});
