/**
 * `otel-audit verify` checks the file around the records too: SQLite's
 * integrity check runs on a whole store after the records verified, so an
 * index edited so that queries miss rows is not called intact (the hash
 * chain proves the records, not the indexes queries use).
 */
import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainStore, runCli, writeKeys } from './helpers.js';

describe('otel-audit verify: the database file', () => {
  it('a store whose index no longer matches its table is not intact (exit 1): every record verifies, but queries miss rows', async () => {
    const { dir, db } = chainStore(30); // actors user-0..2
    const { vkey } = writeKeys(dir);
    expect((await runCli(['verify', db, '--key', vkey])).code).toBe(0);
    // Someone edits the actor index's page in the file: the rows and their hashes are untouched.
    const raw = new Database(db);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const root = raw.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'audit_logs_actor'").pluck().get() as number;
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.close();
    const bytes = fs.readFileSync(db);
    const page = bytes.subarray((root - 1) * pageSize, root * pageSize);
    for (let at = page.indexOf('user-1'); at !== -1; at = page.indexOf('user-1', at + 1)) page.write('user-9', at);
    fs.writeFileSync(db, bytes);
    const query = await runCli(['query', '--db', db, '--actor', 'user-1', '--json']);
    expect(JSON.parse(query.stdout).records).toHaveLength(0); // what the edit does: the records of user-1 are not found
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/fails SQLite's integrity check, so queries may miss or misread rows/);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--json'])).stdout);
    expect(json).toMatchObject({ ok: true, intact: false });
    expect(json.notVerified[0]).toMatch(/audit_logs_actor/);
  });
});
