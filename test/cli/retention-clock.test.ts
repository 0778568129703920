/**
 * `otel-audit retention` and the times it judges by (clock review H2, H3,
 * M2): a host clock far ahead of everything the database holds is refused
 * before anything is archived or purged, an archive is purged only once its
 * youngest record is old enough, the summary shows the earliest and latest
 * record time of each archive, and a record dated in the future that holds a
 * stream's archiving is named.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, event, runCli, writeKeys } from './helpers.js';

const DAY_MS = 86_400_000;
const MINUTE_NS = 60_000_000_000n;
/** Unix ns `days` days before the real now (negative: after). */
const daysBefore = (days: number) => BigInt(Date.now() - days * DAY_MS) * 1_000_000n;
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

function countRecords(db: string): number {
  const store = new SqliteAuditStore(db);
  try {
    return store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get() as number;
  } finally {
    store.close();
  }
}

afterEach(() => { vi.restoreAllMocks(); });

describe('otel-audit retention and the clock', () => {
  it('refuses (exit 2, nothing changed) when the host clock is far ahead of every record; --trust-clock runs anyway; the reference time is printed', async () => {
    // 30 records of the last half hour, then the wall clock steps 100 days ahead.
    const { dir, db } = chainStore(30, { make: (i) => event(i, daysBefore(0) - BigInt(30 - i) * MINUTE_NS) });
    const { key } = writeKeys(dir);
    const realNow = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => realNow + 100 * DAY_MS);

    const refused = await runCli(['retention', '--db', db, '--apply', '--signer-key', key]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/this host's clock reads \S+, 100\.0 days after the newest record or checkpoint in the database \(\S+\)/);
    expect(refused.stderr).toContain('nothing was archived or purged');
    expect(refused.stderr).toMatch(/fix: check this host's clock .*pass --trust-clock/);
    expect(countRecords(db)).toBe(30);

    const dry = await runCli(['retention', '--db', db, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('30 record(s) would be purged');
    expect(dry.stdout).toMatch(/Warning: this host's clock reads \S+, 100\.0 days after the newest record or checkpoint/);
    expect(dry.stdout).toContain('--apply will refuse');

    const trusted = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--trust-clock']);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain('30 record(s) were purged');
    expect(trusted.stdout).toMatch(/^Reference time: \S+ \(this host's clock; the newest record or checkpoint in the database is from \S+\)\./m);
  });

  it('runs without --trust-clock on a database quiet for days (a clock 3 days after its newest record)', async () => {
    const { dir, db } = chainStore(30, { make: (i) => event(i, daysBefore(0) - BigInt(30 - i) * MINUTE_NS) });
    const { key } = writeKeys(dir);
    const realNow = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => realNow + 3 * DAY_MS);
    const run = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--archive-after-days', '2', '--retention-days', '2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('30 record(s) were purged');
  });

  it('still refuses a clock far ahead when one record of the database is dated in the future', async () => {
    const { dir, db } = chainStore(30, { make: (i) => event(i, i === 29 ? daysBefore(-3650) : daysBefore(0) - BigInt(30 - i) * MINUTE_NS) });
    const { key } = writeKeys(dir);
    const realNow = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => realNow + 100 * DAY_MS);
    const refused = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--archive-after-days', '1', '--retention-days', '1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/this host's clock reads \S+, 100\.0 days after the newest record or checkpoint in the database/);
    expect(countRecords(db)).toBe(30);
  });

  it('keeps an archive whose last record was backfilled with an old time while the rest is younger than the retention; the summary shows its earliest and latest time', async () => {
    // seq 0..8 are 40 days old; seq 9 was logged last with a time of 100 days ago.
    const young = (i: number) => daysBefore(40) + BigInt(i) * MINUTE_NS;
    const { db } = chainStore(10, { make: (i) => event(i, i === 9 ? daysBefore(100) : young(i)) });
    const run = await runCli(['retention', '--db', db, '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 archive(s) would be created');
    expect(run.stdout).toContain('No records would be purged.');
    const row = run.stdout.split('\n').find((l) => l.startsWith('svc/1'))!;
    expect(row).toContain(`${iso(daysBefore(100)).slice(0, 16)}`);
    expect(row.indexOf(iso(daysBefore(100)).slice(0, 16))).toBeLessThan(row.indexOf(iso(young(8)).slice(0, 16)));
  });

  it('names the record dated in the future that holds a stream from being archived, and what to do', async () => {
    const future = daysBefore(-3650);
    const { db } = chainStore(23, { make: (i) => event(i, i === 2 ? future : daysBefore(100) + BigInt(i) * MINUTE_NS) });
    const run = await runCli(['retention', '--db', db, '--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Archiving of stream "svc/1" stops at its record seq 2, dated ${iso(future)}, in the future`);
    expect(run.stdout).toContain('no record after it will be archived or purged before then');
    const json = JSON.parse((await runCli(['retention', '--db', db, '--dry-run', '--json'])).stdout);
    expect(json.futureRecords).toEqual([{ stream: 'svc/1', seq: 2, time: iso(future) }]);
  });
});
