/**
 * The times `otel-audit retention` judges by (DESIGN §6 retention; clock
 * review H3, M2): the newest time the database holds, to refuse a host clock
 * far ahead of everything ever written (it would purge fresh records); the
 * record dated in the future that holds a stream's archiving; and each new
 * archive's earliest and latest record time, which need not be its first
 * and last record's (a producer-supplied time, a backfill).
 */
import type { ArchiveInfo, PurgeResult, SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { CliError, type CliErrorCode } from '../errors.js';
import { isoOfNanos as isoOf } from './table.js';

/**
 * How far the host clock may run ahead of the newest stored time before
 * retention refuses: a week. A database is often quiet for days (a weekend,
 * a holiday: an idle service writes nothing), and a refusal then would only
 * teach cron jobs to pass --trust-clock for good; a clock a few days ahead
 * archives and purges a few days early, and what it purges stays readable in
 * its archive. The clocks that do harm are months or years off.
 */
export const CLOCK_LEAD_LIMIT_NANOS = 7n * 86_400_000_000_000n;

/** A new archive with the time span of its records. */
export type ArchiveWithSpan = ArchiveInfo & { minTimeUnixNano: bigint; maxTimeUnixNano: bigint };

/** A record dated in the future at which a stream's archiving stops. */
export interface FutureRecord { stream: string; seq: number; time: string }

/**
 * The newest time in the database up to `notAfter`: its newest record, or
 * the newest checkpoint of any stream (written by the writer's clock, even
 * when record times are the producer's). Times after `notAfter` are left
 * out: one record dated years ahead must not make any clock look right.
 * Undefined when there is none.
 *
 * @example
 * newestStoredTime(store, now + CLOCK_LEAD_LIMIT_NANOS) // 1764482943073000000n
 */
export function newestStoredTime(store: SqliteAuditStore, notAfter: bigint): bigint | undefined {
  const db = store.database;
  // Both answered from indexes: audit_logs_time, and the newest checkpoint of each stream by size.
  let newest = db.prepare('SELECT max(time_unix_nano) FROM audit_logs WHERE time_unix_nano <= ?').pluck().safeIntegers().get(notAfter) as bigint | null ?? undefined;
  const checkpoint = db.prepare('SELECT time_unix_nano FROM audit_checkpoints WHERE stream = ? ORDER BY size DESC LIMIT 1').pluck().safeIntegers();
  for (const { stream } of store.streams()) {
    const t = checkpoint.get(stream) as bigint | undefined;
    if (t !== undefined && t <= notAfter && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/**
 * The problem with `now` when it lies more than a week after `newest`:
 * either the host clock is ahead, or nothing was written since — retention
 * cannot tell which, and the first would purge records early. Undefined when
 * the clock is plausible.
 *
 * @example
 * clockAheadProblem(now, newestStoredTime(store)) // "this host's clock reads …, 100.0 days after …"
 */
export function clockAheadProblem(now: bigint, newest: bigint | undefined): string | undefined {
  if (newest === undefined || now - newest <= CLOCK_LEAD_LIMIT_NANOS) return undefined;
  const days = (Number((now - newest) / 1_000_000n) / 86_400_000).toFixed(1);
  return `this host's clock reads ${isoOf(now)}, ${days} days after the newest record or checkpoint in the database (${isoOf(newest)}); `
    + `if the clock is ahead, records would be archived and purged up to ${days} days too early`;
}

/**
 * The refusal of `--apply` under a clock far ahead of the database.
 *
 * @example
 * throw clockAheadError(problem);
 */
export function clockAheadError(problem: string): CliError {
  return new CliError('AUDIT_CLI_USAGE', `${problem}; nothing was archived or purged`,
    "check this host's clock (e.g. `timedatectl`, NTP); if it is right and the database has simply not been written since, pass --trust-clock");
}

/**
 * `archives` with the earliest and latest time of their records, read from
 * the rows (still in the log right after archiving, before any purge).
 *
 * @example
 * withSpans(store, store.archive({ olderThan }))
 */
export function withSpans(store: SqliteAuditStore, archives: readonly ArchiveInfo[]): ArchiveWithSpan[] {
  const span = store.database.prepare('SELECT min(time_unix_nano) AS min, max(time_unix_nano) AS max FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ?').safeIntegers();
  return archives.map((a) => {
    const r = span.get(a.stream, a.firstSeq, a.lastSeq) as { min: bigint | null; max: bigint | null };
    return { ...a, minTimeUnixNano: r.min ?? a.firstTimeUnixNano, maxTimeUnixNano: r.max ?? a.lastTimeUnixNano };
  });
}

/**
 * What to tell the user about a record dated in the future that holds a
 * stream's archiving (and so its purges) until that date.
 *
 * @example
 * futureRecordNotice({ stream: 'api/1', seq: 2, time: '2036-11-28T06:05:32.997Z' })
 */
export function futureRecordNotice(f: FutureRecord): string {
  return `Archiving of stream ${JSON.stringify(f.stream)} stops at its record seq ${f.seq}, dated ${f.time}, in the future `
    + '(a time passed by the producer, or a wrong clock where it was written). Records are archived and purged in seq order, so no record after it '
    + 'will be archived or purged before then. The record cannot be changed (the chain seals it): fix the source of that time so that no more such records are written.\n';
}

/**
 * The purge, after the archives were committed: when it fails (a full disk:
 * the purge record and the deletions need room too), the error says what
 * was done already, so nobody wonders whether the archives exist or records
 * went missing. Each archive's purge is one transaction, so an archive is
 * purged whole or not at all, and a run with room carries on.
 *
 * @example
 * const purged = await purgeAfter(archived, () => store.purge({ olderThan }));
 */
export async function purgeAfter(archived: readonly ArchiveWithSpan[], purge: () => Promise<PurgeResult[]>): Promise<PurgeResult[]> {
  try {
    return await purge();
  } catch (e) {
    if (archived.length === 0 || !(e instanceof Error)) throw e;
    const ids = archived.map((a) => a.archiveId).join(', ');
    const fix = e instanceof CliError ? e.fix : 'free space on the database\'s filesystem if it is full, then run retention --apply again';
    throw new CliError(e instanceof CliError ? e.code as CliErrorCode : 'AUDIT_CLI_INPUT',
      `${archived.length} archive(s) were created (id ${ids}), then the purge failed: ${e.message}. `
        + 'Each archive is purged whole or not at all; `otel-audit archives --db DB` shows which are',
      `${fix}; the next run purges what is left and creates no archive twice`);
  }
}
