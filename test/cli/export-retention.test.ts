/**
 * `otel-audit export` and `retention` end to end (issue 6, DESIGN §6):
 * every export format from a real store, files never overwritten, and a
 * retention dry run that reports exactly what `--apply` then does, after
 * which the log still verifies against its signed checkpoints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditChain, createRecordId } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, MINUTE, runBin, runCli, T0, tempDir, writeKeys } from './helpers.js';

describe('otel-audit export', () => {
  it('json, ndjson and csv to stdout with filters; a bundle to --out that verify accepts', async () => {
    const { dir, db } = chainStore(20);
    const json = await runCli(['export', '--db', db, '--format', 'json', '--actor', 'user-0']);
    expect(json.code).toBe(0);
    const records = JSON.parse(json.stdout);
    expect(records.map((r: { record: { seq: number } }) => r.record.seq)).toEqual([0, 3, 6, 9, 12, 15, 18]);
    const ndjson = await runCli(['export', '--db', db, '--format', 'ndjson', '--type', 'auth']);
    expect(ndjson.stdout.trim().split('\n')).toHaveLength(5);
    const csv = await runCli(['export', '--db', db, '--format', 'csv']);
    expect(csv.stdout.trim().split(/\r?\n/)).toHaveLength(21);

    const out = path.join(dir, 'evidence.json');
    const bundle = await runCli(['export', '--db', db, '--format', 'bundle', '--out', out, '--json']);
    expect(JSON.parse(bundle.stdout)).toMatchObject({ out, format: 'bundle', records: 20 });
    const { vkey } = writeKeys(dir);
    expect((await runCli(['verify', out, '--key', vkey])).code).toBe(0);
  });

  it('never overwrites --out, and refuses record filters a bundle cannot honour', async () => {
    const { dir, db } = chainStore(5);
    const out = path.join(dir, 'x.csv');
    fs.writeFileSync(out, 'keep me');
    const run = await runCli(['export', '--db', db, '--format', 'csv', '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('never overwrites');
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    const bundle = await runCli(['export', '--db', db, '--format', 'bundle', '--actor', 'user-1']);
    expect(bundle.code).toBe(2);
    expect(bundle.stderr).toContain('--actor does not apply to --format bundle');
  });

  it('--json gives a JSON summary of an export to --out; without --out it is refused (exit 2) instead of silently ignored', () => {
    const { dir, db } = chainStore(5);
    const help = runBin(['export', '--help']);
    expect(help.stdout).toMatch(/--json\s+with --out: print a JSON summary/);
    const out = path.join(dir, 'x.csv');
    const summary = runBin(['export', '--db', db, '--format', 'csv', '--out', out, '--json']);
    expect(summary.code).toBe(0);
    expect(JSON.parse(summary.stdout)).toEqual({ out, format: 'csv', records: 5, bytes: fs.statSync(out).size, purged: [] });
    const refused = runBin(['export', '--db', db, '--format', 'csv', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('--json summarises an export written to --out');
    expect(refused.stderr).toContain('fix: use --format json (or ndjson) for JSON records, or add --out FILE');
  });
});

describe('otel-audit retention', () => {
  it('--dry-run reports what --apply then does and changes nothing; after --apply the log still verifies', async () => {
    const { dir, db } = chainStore(30);
    const { key, vkey } = writeKeys(dir);
    const before = fs.readFileSync(db);
    const dry = await runCli(['retention', '--db', db, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const preview = JSON.parse(dry.stdout);
    expect(preview.mode).toBe('dry-run');
    expect(preview.archived.map((a: { firstSeq: number; lastSeq: number }) => [a.firstSeq, a.lastSeq])).toEqual([[0, 29]]);
    expect(preview.purged[0]).toMatchObject({ stream: 'svc/1', firstSeq: 0, lastSeq: 29, records: 30 });
    const store = new SqliteAuditStore(db);
    expect(store.archives()).toEqual([]);
    store.close();
    expect(fs.readFileSync(db).equals(before)).toBe(true);

    const text = await runCli(['retention', '--db', db, '--dry-run']);
    expect(text.stdout).toContain('1 archive(s) would be created');
    expect(text.stdout).toContain('30 record(s) would be purged');
    // The records are from 2023: the preview warns that --apply refuses such a clock without --trust-clock.
    expect(text.stdout).toContain('--apply will refuse');
    expect(text.stdout).toContain('Dry run: nothing was changed.');

    const apply = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock']);
    expect(apply.code).toBe(0);
    const done = JSON.parse(apply.stdout);
    expect(done.archived.map((a: { firstSeq: number; lastSeq: number }) => [a.firstSeq, a.lastSeq])).toEqual([[0, 29]]);
    expect(done.purged[0]).toMatchObject({ firstSeq: 0, lastSeq: 29, records: 30 });
    const verify = await runCli(['verify', db, '--key', vkey, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).warnings).toBe(0);
  });

  it('--dry-run with nothing to archive or purge says so and does not suggest --apply', async () => {
    const { db } = chainStore(10);
    const run = await runCli(['retention', '--db', db, '--dry-run', '--archive-after-days', '100000', '--retention-days', '100000']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('No records would be archived.');
    expect(run.stdout).toContain('No records would be purged.');
    expect(run.stdout).toContain('Dry run: there is nothing to archive or purge; nothing was changed.');
    expect(run.stdout).not.toContain('--apply');
  });

  it('recent records are kept; --dry-run and --apply are exclusive', async () => {
    const { db } = chainStore(10);
    const none = await runCli(['retention', '--db', db, '--dry-run', '--archive-after-days', '100000', '--retention-days', '100000', '--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ archived: [], purged: [] });
    const both = await runCli(['retention', '--db', db, '--dry-run', '--apply']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --dry-run and --apply');
  });

  it('does not archive a stream whose checkpoints carry no signature and says why; --allow-unsigned archives it', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'audit.db');
    const store = new SqliteAuditStore(db);
    const chain = new AuditChain({ stream: 'u/1' });
    const records = Array.from({ length: 10 }, (_, i) => chain.append({ id: createRecordId(), time: (T0 + BigInt(i) * MINUTE).toString(), type: 'crud', action: 'update' }));
    store.appendSync({ records, checkpoints: [{ stream: 'u/1', size: 10, rootHash: chain.rootHex(), timeUnixNano: T0, note: chain.checkpoint(T0, []) }] });
    store.close();
    const plain = await runCli(['retention', '--db', db, '--dry-run']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('No records would be archived.');
    expect(plain.stdout).toContain('Stream "u/1" was not archived: its checkpoints carry no signature');
    const allowed = await runCli(['retention', '--db', db, '--dry-run', '--allow-unsigned', '--json']);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ archived: [expect.objectContaining({ stream: 'u/1', firstSeq: 0, lastSeq: 9 })], unsigned: [] });
  });

  it('refuses a retention shorter than the archive age, and a --stream the store does not hold (exit 2), naming the fix', async () => {
    const { db } = chainStore(10);
    const short = await runCli(['retention', '--db', db, '--dry-run', '--archive-after-days', '100', '--retention-days', '30']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('--retention-days 30 is shorter than --archive-after-days 100: records are purged only once archived');
    expect(short.stderr).toContain('pass --retention-days 100 or more');
    const unknown = await runCli(['retention', '--db', db, '--dry-run', '--stream', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the store has no stream "nope"; it holds "svc/1"');
  });
});
