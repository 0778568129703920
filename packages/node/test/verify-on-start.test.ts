/**
 * The check at start (`exporters.sqlite.verify_on_start`,
 * AUDIT_LOG_INTEGRITY_CHECKS): besides the records, SQLite checks the file.
 * An index edited so that queries miss rows leaves every record verifying,
 * so the records alone would have said success. It runs in the background
 * once the pipeline is ready: the app serves meanwhile, and a shutdown stops
 * it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
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

function setup(batch = 10): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-vos-'));
  writeFileSync(join(dir, 'signer.key'), `${keys.signerKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'otel-config.yaml'), `
resource: { service.name: vos-test }
receivers: { api: {} }
processors:
  chain: { stream: vos-test/1, signer_key_file: ./signer.key, delivery: { batch_size: ${batch}, max_queue_size: 20000, flush_interval: 20ms } }
exporters:
  sqlite: { path: ./audit.db, verify_on_start: true }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite] }
`);
  return dir;
}

/** The newest system/verify record: outcome, details and seq. */
function lastCheck(db: string): { outcome: string; details: Record<string, unknown>; seq: number } {
  const raw = new Database(db, { readonly: true });
  try {
    const row = raw.prepare("SELECT seq, event_result, details FROM audit_logs WHERE event_type = 'system' AND event_action = 'verify' ORDER BY log_id DESC LIMIT 1").get() as { seq: number; event_result: string; details: string };
    return { outcome: row.event_result, details: JSON.parse(row.details) as Record<string, unknown>, seq: row.seq };
  } finally {
    raw.close();
  }
}

/** A store of `count` records more (the api receiver, in chunks the queue takes). */
async function fill(config: string, count: number): Promise<void> {
  running = await startAudit({ path: config });
  const audit = running.audit;
  for (let done = 0; done < count; done += 2_000) {
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => audit.log({ type: 'crud', action: 'update', outcome: 'success', actor: { id: `user-${i % 50}` }, details: { n: done + i } })));
  }
  if (running.verifyOnStart !== undefined) await running.verifyOnStart;
  await running.shutdown();
}

/** GET `port`/, resolved once the whole answer arrived. */
function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('verify_on_start', () => {
  it('reports a store whose index no longer matches its table as a failure, naming the damage, though every record verifies', async () => {
    const dir = setup();
    const config = join(dir, 'otel-config.yaml');
    const db = join(dir, 'audit.db');
    running = await startAudit({ path: config });
    await running.verifyOnStart;
    await running.shutdown();
    running = await startAudit({ path: config });
    await running.verifyOnStart;
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
    expect(await running.verifyOnStart).toMatchObject({ outcome: 'failure' });
    await running.shutdown();
    const check = lastCheck(db);
    expect(check.outcome).toBe('failure');
    expect(check.details).toMatchObject({ errors: 0, file_damage: expect.stringMatching(/fails SQLite's integrity check.*audit_logs_actor/) });
  });

  it('runs in the background: the app answers a request while a store of thousands of records is verified, and the result is sealed after it', async () => {
    const dir = setup(500);
    const config = join(dir, 'otel-config.yaml');
    const db = join(dir, 'audit.db');
    await fill(config, 20_000);

    running = await startAudit({ path: config });
    const handle = running;
    const events: string[] = [];
    const server = createServer((_req, res) => {
      // The app's own record of the request: sealed in order with the verify's.
      handle.audit.logNowait({ type: 'access', action: 'ping', outcome: 'success', actor: { id: 'client' } });
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const verified = handle.verifyOnStart?.then((r) => void events.push(`verify ${r.outcome}`));
      expect(await get((server.address() as AddressInfo).port)).toBe(200);
      events.push('answered');
      await verified;
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await running.shutdown();

    const check = lastCheck(db);
    const raw = new Database(db, { readonly: true });
    const ping = raw.prepare("SELECT seq FROM audit_logs WHERE event_action = 'ping'").pluck().get() as number;
    raw.close();
    expect(check.seq, 'the verify record is sealed after the request the app served meanwhile').toBeGreaterThan(ping);
    expect(events).toEqual(['answered', 'verify success']);
    expect(check).toMatchObject({ outcome: 'success', details: { errors: 0 } });
    expect(check.details['records']).toBeGreaterThan(20_000);
  }, 120_000);

  it('a shutdown during the check stops it and seals it as interrupted, with the records verified so far', async () => {
    const dir = setup(500);
    const config = join(dir, 'otel-config.yaml');
    const db = join(dir, 'audit.db');
    await fill(config, 20_000);

    running = await startAudit({ path: config });
    const result = running.verifyOnStart;
    await running.shutdown();
    expect(await result).toMatchObject({ outcome: 'interrupted' });
    const check = lastCheck(db);
    expect(check).toMatchObject({ outcome: 'unknown', details: { interrupted: 'shutdown' } });
    expect(check.details['records']).toBeLessThan(20_000);
  }, 120_000);
});
