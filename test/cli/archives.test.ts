/**
 * `otel-audit archives` (DESIGN §6 retention): lists what retention archived
 * and whether it was purged, and with `--read ID` prints the records of one
 * archive only after verifying it — an archive whose data was altered in
 * the database is refused with exit 1 and nothing printed. A real store in
 * a temp dir, archived and purged by the CLI's own retention.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { chainStore, event, runCli, tamper, writeKeys } from './helpers.js';

/** 30 records from 2023 in stream svc/1, checkpoint every 10, archived and purged into archive 1 by `retention --apply`. */
async function purgedStore(): Promise<{ dir: string; db: string; key: string; vkey: string }> {
  const { dir, db } = chainStore(30);
  const { key, vkey } = writeKeys(dir);
  const apply = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock']);
  expect(apply.code, apply.stderr).toBe(0);
  return { dir, db, key, vkey };
}

describe('otel-audit archives', () => {
  it('lists the archives with their seq range and whether they were purged; says so when there are none', async () => {
    const { db } = await purgedStore();
    const table = await runCli(['archives', '--db', db]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STREAM\s+SEQ\s+RECORDS\s+FIRST\s+LAST\s+PURGED$/);
    expect(lines[1]).toMatch(/^ 1\s+svc\/1\s+0\.\.29\s+30\s+2023-11-14T22:13:20\.000Z\s+2023-11-14T22:42:20\.000Z\s+yes \(only copy\)$/);
    const json = JSON.parse((await runCli(['archives', '--db', db, '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ archiveId: 1, stream: 'svc/1', firstSeq: 0, lastSeq: 29, records: 30, purged: true })]);
    const none = await runCli(['archives', '--db', db, '--stream', 'other/1']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('No archives of stream "other/1": retention has archived nothing yet (otel-audit retention).\n');
  });

  it('--read prints the purged records, verified against the signed checkpoint with --key, as a table, NDJSON or a file', async () => {
    const { dir, db, vkey } = await purgedStore();
    const table = await runCli(['archives', '--db', db, '--read', '1', '--key', vkey]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.trim().split('\n')).toHaveLength(31); // header + 30 records
    expect(table.stderr).toBe('archive 1: 30 record(s) of svc/1, seq 0..29, verified against its signed checkpoint\n');

    const ndjson = await runCli(['archives', '--db', db, '--read', '1', '--ndjson', '--unverified']);
    expect(ndjson.code).toBe(0);
    const records = ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r: { record: { seq: number } }) => r.record.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(records[0]).toEqual({ record: expect.objectContaining({ stream: 'svc/1', seq: 0 }), checksum: expect.stringMatching(/^[0-9a-f]{64}$/), timestamp: '2023-11-14T22:13:20.000Z' });
    expect(ndjson.stderr).toBe('archive 1: 30 record(s) of svc/1, seq 0..29, NOT VERIFIED against a key (--unverified: only the chain of its records was checked)\n');

    const out = path.join(dir, 'archive-1.ndjson');
    expect((await runCli(['archives', '--db', db, '--read', '1', '--key', vkey, '--out', out])).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(ndjson.stdout);
    const again = await runCli(['archives', '--db', db, '--read', '1', '--key', vkey, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('archives never overwrites a file');
  });

  it('--read refuses an archive with a rewritten record (the archive\'s SHA-256 recomputed to match), printing nothing; exit 1', async () => {
    const { db, vkey } = await purgedStore();
    const raw = new Database(db, { readonly: true });
    const row = raw.prepare('SELECT data FROM audit_log_archives WHERE archive_id = 1').get() as { data: Buffer };
    raw.close();
    const lines = gunzipSync(row.data).toString('utf8').split('\n');
    const before = lines[5]!;
    lines[5] = before.replace(/"action":"[^"]*"/, '"action":"rewritten"');
    expect(lines[5]).not.toBe(before);
    const data = gzipSync(Buffer.from(lines.join('\n')));
    tamper(db, 'UPDATE audit_log_archives SET data = ?, sha256 = ? WHERE archive_id = 1', data, createHash('sha256').update(data).digest('hex'));
    const read = await runCli(['archives', '--db', db, '--read', '1', '--key', vkey]);
    expect(read.code).toBe(1);
    expect(read.stdout).toBe('');
    expect(read.stderr).toMatch(/^otel-audit archives: archive 1 does not verify, so its records are not printed: hash_mismatch/);
    expect(read.stderr).toContain('fix: run `otel-audit verify` on the database for the full report');
  });

  it('--read --key refuses an archive of svc/1 holding another stream\'s signed archive plus forged svc/1 records under that stream\'s checkpoint, printing nothing; exit 1', async () => {
    const { dir } = chainStore(30, { stream: 'a/1' });
    const { db } = chainStore(30, { stream: 'svc/1', dir });
    const { key, vkey } = writeKeys(dir);
    const apply = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock']);
    expect(apply.code, apply.stderr).toBe(0);
    const raw = new Database(db, { readonly: true });
    const archives = raw.prepare('SELECT archive_id AS id, stream, data, checkpoint_note AS note FROM audit_log_archives ORDER BY stream').all() as { id: number; stream: string; data: Buffer; note: string }[];
    raw.close();
    const donor = archives.find((a) => a.stream === 'a/1')!;
    const target = archives.find((a) => a.stream === 'svc/1')!;
    // svc/1 records from genesis, every actor "nobody", chained but vouched for by no svc/1 checkpoint.
    const forged = new AuditChain({ stream: 'svc/1' });
    const lines = Array.from({ length: 30 }, (_, i) => {
      const sealed = forged.append({ ...event(i), actor: { id: 'nobody', type: 'user' } });
      return JSON.stringify({ record: sealed.record, checksum: sealed.hash });
    });
    const data = gzipSync(`${[...gunzipSync(donor.data).toString('utf8').trim().split('\n'), ...lines].join('\n')}\n`);
    tamper(db, 'UPDATE audit_log_archives SET data = ?, sha256 = ?, checkpoint_note = ?, last_checksum = ?, record_count = 60 WHERE archive_id = ?',
      data, createHash('sha256').update(data).digest('hex'), donor.note, JSON.parse(lines[29]!).checksum, target.id);
    for (const extra of [[], ['--ndjson']]) {
      const read = await runCli(['archives', '--db', db, '--read', String(target.id), '--key', vkey, ...extra]);
      expect(read.code).toBe(1);
      expect(read.stdout).toBe('');
      expect(read.stderr).toMatch(new RegExp(`^otel-audit archives: archive ${target.id} does not verify, so its records are not printed: `));
      expect(read.stderr).not.toContain('verified against its signed checkpoint');
    }
  });

  it('refuses --read without a key (naming --key and --unverified), an unknown archive id (naming the ids held), and --key without --read', async () => {
    const { db, vkey } = await purgedStore();
    const keyless = await runCli(['archives', '--db', db, '--read', '1']);
    expect(keyless.code).toBe(2);
    expect(keyless.stdout).toBe('');
    expect(keyless.stderr).toContain('--read needs --key');
    expect(keyless.stderr).toContain('--unverified');
    const unknown = await runCli(['archives', '--db', db, '--read', '7', '--key', vkey]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the store has no archive 7; it holds archive(s) 1');
    const stray = await runCli(['archives', '--db', db, '--key', vkey]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('add --read ID');
  });
});
