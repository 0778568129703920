/**
 * The collector's own finding records as `verify` and a restarted `collect`
 * show them: a refused request is a finding (`system/integrity_failure`
 * with `{ code: 'request_refused' }` in the collector's stream), not a
 * record lost, so verify lists no `recorded loss:` for it; and a second
 * `collect` on the same store prints and counts only its own findings, so a
 * finding of an earlier run neither repeats nor makes it exit 1.
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runBin, runCli, startBin, tempDir, until } from './helpers.js';

const TOKEN = '0123456789abcdef0123456789abcdef';

/** Runs collect on `db` until `during` is done; returns the run and its /v1/logs endpoint. */
async function collectOnce(db: string, key: string, during: (endpoint: string) => Promise<void> = async () => {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const collect = startBin(['collect', '--db', db, '--listen', '127.0.0.1:0', '--signer-key', key, '--token-env', 'T'], { env: { T: TOKEN } });
  await until(() => /logs: (\S+)/.test(collect.stdout()) || collect.stderr().includes('fix:'), 'collect listening');
  const endpoint = /logs: (\S+)/.exec(collect.stdout())![1]!;
  await during(endpoint);
  return collect.stop();
}

/** A store whose collector refused one unauthenticated request: the keys' dir and the store. */
async function storeWithRefusal(): Promise<{ dir: string; db: string; key: string; run: { code: number; stdout: string; stderr: string } }> {
  const dir = tempDir();
  const db = path.join(dir, 'c4.db');
  expect((await runCli(['keygen', '--name', 'collector.example', '--out', dir])).code).toBe(0);
  const key = path.join(dir, 'collector.example.key');
  const run = await collectOnce(db, key, async (endpoint) => {
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  });
  return { dir, db, key, run };
}

describe('collector findings', () => {
  it('verify does not call the collector\'s finding about a refused request a recorded loss', async () => {
    const { dir, db, run } = await storeWithRefusal();
    expect(run.stdout).toMatch(/^finding request_refused/m);
    expect(run.stderr).toContain('stopped; 1 finding(s)');
    expect(run.code).toBe(0);

    const vkey = path.join(dir, 'collector.example.vkey');
    const verify = runBin(['verify', db, '--key', vkey]);
    expect(verify.stdout).toMatch(/^INTACT/m);
    expect(verify.stdout).not.toContain('recorded loss');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(runBin(['verify', db, '--key', vkey, '--json']).stdout)).not.toHaveProperty('recordedLosses');
  });

  it('a restarted collect neither repeats nor counts the earlier runs\' findings, and exits 0 for them', async () => {
    const { db, key } = await storeWithRefusal();
    // An integrity finding of an earlier run too (as a run that saw a broken chain leaves it).
    const raw = new Database(db);
    raw.prepare('INSERT INTO collector_findings (at, stream, code, seq, record_id, message) VALUES (?, ?, ?, ?, ?, ?)').run(Date.now(), 'svc/1', 'chain_broken', 3, null, 'an earlier run\'s finding');
    raw.close();

    const second = await collectOnce(db, key);
    expect(second.stdout).not.toContain('finding ');
    expect(second.stderr).toContain('2 finding(s) from earlier runs are in the store');
    expect(second.stderr).toContain('stopped; 0 finding(s)');
    expect(second.code).toBe(0);
  });
});
