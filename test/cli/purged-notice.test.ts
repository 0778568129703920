/**
 * `otel-audit query` and `export` after retention (DESIGN §6): when their
 * range reaches records that `retention --apply` purged, a notice on stderr
 * names the stream, the purged seq and time range, the archives that hold
 * the records and how to read them, and `--json` carries `purged`; over
 * live records only there is no notice. A real store in a temp dir, purged
 * by the CLI's own retention; the verbs run through `main` and the built
 * bin.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, MINUTE, runBin, runCli, T0, writeKeys } from './helpers.js';

/** A store of 30 records from 2023, signed every 10, whose seq 0..29 retention has purged into archive 1. */
async function purgedStore(): Promise<{ dir: string; db: string }> {
  const { dir, db } = chainStore(30);
  const { key } = writeKeys(dir);
  const apply = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock']);
  expect(apply.code, apply.stderr).toBe(0);
  expect(JSON.parse(apply.stdout).purged).toMatchObject([{ stream: 'svc/1', firstSeq: 0, lastSeq: 29, archiveIds: [1] }]);
  return { dir, db };
}

const OLD = '2023-11-14T00:00:00Z';
const recent = () => new Date(Date.now() - 3_600_000).toISOString();

/** The notice as it names the purged run of the fixture. */
function expectNotice(stderr: string, db: string, verb: 'query' | 'export'): void {
  expect(stderr).toContain('notice: 30 record(s) of stream "svc/1", seq 0..29 (2023-11-14T22:13:20.000Z to 2023-11-14T22:42:20.000Z), were purged by retention on ');
  expect(stderr).toContain(`and are not in this ${verb}'s output.`);
  expect(stderr).toContain(`\n  They are kept only in this store's archive(s) 1; print one, verified: otel-audit archives --db ${JSON.stringify(db)} --read 1 --key VKEY\n`);
  expect(stderr).toContain('without it, --unverified checks the chain alone');
}

describe('otel-audit query after a purge', () => {
  it('prints a notice on stderr when the range reaches the purged records, and purged in --json', async () => {
    const { db } = await purgedStore();
    const table = await runCli(['query', '--db', db, '--since', OLD]);
    expect(table.code, table.stderr).toBe(0);
    // Only the retention_purge record is left in the log.
    expect(table.stdout).toContain('retention_purge');
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    expectNotice(table.stderr, db, 'query');

    const json = await runCli(['query', '--db', db, '--json']);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page.records).toHaveLength(1);
    expect(page.purged).toEqual([expect.objectContaining({ stream: 'svc/1', firstSeq: 0, lastSeq: 29, records: 30, archiveIds: [1], purgeRecordIds: [page.records[0].record.id] })]);
    expectNotice(json.stderr, db, 'query');
  });

  it('names several purges of a run and shortens a long list of archives', async () => {
    const { db } = chainStore(100);
    const store = new SqliteAuditStore(db);
    try {
      for (const minutes of [55n, 95n]) {
        store.archive({ olderThan: T0 + minutes * MINUTE, maxRecordsPerArchive: 10 });
        await store.purge({ olderThan: T0 + minutes * MINUTE });
      }
    } finally {
      store.close();
    }
    const run = await runCli(['query', '--db', db, '--stream', 'svc/1', '--since', OLD]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/notice: 90 record\(s\) of stream "svc\/1", seq 0\.\.89 \(2023-11-14T22:13:20\.000Z to 2023-11-14T23:42:20\.000Z\), were purged by retention 2 times between \S+Z and \S+Z and are not in this query's output\.\n/);
    expect(run.stderr).toContain("kept only in this store's archive(s) 1, 2, 3, 4, …, 8, 9 (9 archives); print one, verified: ");
    // A range that ends inside the first purge reaches only its archives.
    const early = await runCli(['query', '--db', db, '--since', OLD, '--until', '2023-11-14T23:00:00Z']);
    expect(early.stderr).toContain('notice: 50 record(s) of stream "svc/1", seq 0..49 (2023-11-14T22:13:20.000Z to 2023-11-14T23:02:20.000Z), were purged by retention on ');
    expect(early.stderr).toContain("archive(s) 1, 2, 3, 4, 5; ");
  });

  it('suggests an archives command that runs: with the verifier key as VKEY, or --unverified, it prints the purged records (exit 0)', async () => {
    const { dir, db } = await purgedStore();
    const { vkey } = writeKeys(dir);
    const { stderr } = await runCli(['query', '--db', db, '--since', OLD]);
    const suggested = /otel-audit archives --db ("[^"]+") --read (\d+) --key VKEY\n/.exec(stderr);
    expect(suggested, stderr).not.toBeNull();
    const argv = ['archives', '--db', JSON.parse(suggested![1]!) as string, '--read', suggested![2]!];
    const read = await runCli([...argv, '--key', vkey, '--ndjson']);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const unverified = await runCli([...argv, '--unverified', '--ndjson']);
    expect(unverified.code, unverified.stderr).toBe(0);
    expect(unverified.stdout.trim().split('\n')).toHaveLength(30);
  });

  it('prints no notice over live records only', async () => {
    const { db } = await purgedStore();
    const live = await runCli(['query', '--db', db, '--since', recent()]);
    expect(live.code).toBe(0);
    expect(live.stdout).toContain('retention_purge');
    expect(live.stderr).not.toContain('notice:');
    const json = JSON.parse((await runCli(['query', '--db', db, '--since', recent(), '--json'])).stdout);
    expect(json.purged).toEqual([]);
  });
});

describe('otel-audit export after a purge', () => {
  it('prints the notice on stderr, stdout holding the records only, as the built bin too', async () => {
    const { db } = await purgedStore();
    const ndjson = runBin(['export', '--db', db, '--format', 'ndjson', '--since', OLD]);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const lines = ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record.action)).toEqual(['retention_purge']);
    expectNotice(ndjson.stderr, db, 'export');

    const live = runBin(['export', '--db', db, '--format', 'csv', '--since', recent()]);
    expect(live.code).toBe(0);
    expect(live.stderr).not.toContain('notice:');
  });

  it('reports a bundle seq range that reaches the purged records, in the --json summary too, and not one after them', async () => {
    const { dir, db } = await purgedStore();
    const out = path.join(dir, 'evidence.json');
    const bundle = await runCli(['export', '--db', db, '--format', 'bundle', '--stream', 'svc/1', '--from-seq', '0', '--out', out, '--json']);
    expect(bundle.code, bundle.stderr).toBe(0);
    expect(JSON.parse(bundle.stdout)).toMatchObject({ out, format: 'bundle', records: 1, purged: [{ stream: 'svc/1', firstSeq: 0, lastSeq: 29, archiveIds: [1] }] });
    expectNotice(bundle.stderr, db, 'export');
    expect(fs.existsSync(out)).toBe(true);

    const after = await runCli(['export', '--db', db, '--format', 'bundle', '--stream', 'svc/1', '--from-seq', '30', '--out', path.join(dir, 'after.json'), '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).purged).toEqual([]);
    expect(after.stderr).not.toContain('notice:');
  });
});

describe('otel-audit verify after a purge', () => {
  it('says which records retention purged and that their archives were verified with the stream, in --json too', async () => {
    const { dir, db } = await purgedStore();
    const { vkey } = writeKeys(dir);
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.stdout).toMatch(/^purged: 30 records of stream "svc\/1", seq 0\.\.29 \(2023-11-14T.*\), were purged by retention on .*; they live on in archive\(s\) 1, which were verified with the stream/m);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--json'])).stdout);
    expect(json.purged).toMatchObject([{ stream: 'svc/1', firstSeq: 0, lastSeq: 29, archiveIds: [1] }]);
    // A range run does not read the archives, and says nothing of them.
    expect((await runCli(['verify', db, '--key', vkey, '--since', recent()])).stdout).not.toMatch(/^purged:/m);
  });
});
