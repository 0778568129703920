/**
 * Retention (DESIGN §6): `archiveStreams` copies whole per-stream prefixes,
 * cut at signed checkpoints, into `audit_log_archives` after checking that
 * the rows still hash to their checksums and to the checkpoint's root (so
 * tampered rows are never archived as good; see archive-builder.ts, which
 * holds the write lock only to insert). `purgeStreams` then deletes
 * exactly the archived prefixes whose records are all old enough (by the
 * youngest record's time, not the last's: times need not grow with seq): it first appends a
 * `system/retention_purge` record to the stream (sealed here from the stored
 * head, or through the processor's callback), then, one archive per
 * transaction, sets the one-row `audit_retention_grant` that the delete
 * trigger checks, deletes the archive's rows, clears the grant and records
 * the purge of that archive. Between transactions it waits as long as the
 * last one held the write lock, so a service writing the same database gets
 * it; a run stopped between them leaves whole archives purged (what verify
 * and the next run expect), never part of one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditChain, createRecordId, type AuditEventInput, type NoteSigner } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import type { ArchiveInfo } from '../archive.js';
import { verifyArchive } from '../archive.js';
import { ARCHIVE_COLUMNS, readArchive, type ArchiveRow } from './archive-store.js';
import { insertArchive, readArchiveDraft } from './archive-builder.js';
import { RetentionError } from '../errors.js';
import type { Appender } from './appender.js';
import { readHead } from './appender.js';
import { listStreams } from './stored-streams.js';
import type { RowCipher } from './row-cipher.js';
import { daysAgo, toNanos, type TimeInput } from './time-input.js';
import { describe } from './describe.js';

/**
 * One step of `SqliteAuditStore.archive` (an archive created) or `purge`
 * (an archive's records deleted from the log), each committed on its own.
 */
export interface RetentionProgress {
  stream: string;
  archiveId: number;
  firstSeq: number;
  lastSeq: number;
  /** Records of this step. */
  records: number;
  /** Steps and records done so far by this call, over all its streams. */
  doneArchives: number;
  doneRecords: number;
}

/**
 * Called after each committed step. What it throws ends the call there
 * (the steps done stay done, the store consistent; a later run carries on).
 */
export type RetentionProgressCallback = (progress: RetentionProgress) => void;

/** Options of `SqliteAuditStore.archive`. */
export interface ArchiveOptions {
  /** Archive records older than this. Default: 30 days ago (`AUDIT_LOG_ARCHIVE_AFTER_DAYS`). */
  olderThan?: TimeInput;
  streams?: readonly string[];
  /**
   * Largest archive, in records (cut at the checkpoint below). Default
   * 100,000. It bounds the memory an archive takes to build and check, and
   * how long a purge holds the write lock (one archive's rows per
   * transaction: seconds for 100,000).
   */
  maxRecordsPerArchive?: number;
  /**
   * Also cut at checkpoints that carry no signature. Default false: an
   * archive cut at an unsigned checkpoint cannot be checked against a
   * trusted key once its records are purged, so such streams are not
   * archived (and so never purged).
   */
  allowUnsigned?: boolean;
  /**
   * Called for each stream whose archiving stops at a record dated more than
   * a day after now (a time passed by the producer, or a wrong clock where it
   * was written): prefixes are archived — and purged — in seq order, so no
   * record after it is archived or purged before that date.
   */
  onFutureRecord?: (stream: string, seq: number, timeUnixNano: bigint) => void;
  /** Called after each archive is created: see {@link RetentionProgress}. */
  onProgress?: RetentionProgressCallback;
}

/** Options of `SqliteAuditStore.purge`. */
export interface PurgeOptions {
  /** Purge archives whose records are all older than this. Default: 90 days ago (`AUDIT_LOG_RETENTION_DAYS`). */
  olderThan?: TimeInput;
  streams?: readonly string[];
  /**
   * When a processor owns the stream, it must seal the retention record:
   * called with the stream and the event, resolve once the record is
   * committed to this store. Without it the store seals the record itself
   * from the stored head (only safe when no processor is writing the stream).
   */
  appendRecord?: (stream: string, event: AuditEventInput) => Promise<void>;
  /** Sign a checkpoint right after a self-sealed retention record. */
  signers?: readonly NoteSigner[];
  /** Time of the retention record, Unix ns. Default: now. */
  nowUnixNano?: bigint;
  /** Called after each archive's records are deleted: see {@link RetentionProgress}. */
  onProgress?: RetentionProgressCallback;
  /**
   * Pause after each archive's transaction as long as it held the write
   * lock (50 ms to 1 s), so that other connections writing the database get
   * it. Default true; false where no other connection writes (a private copy).
   */
  pauseBetweenArchives?: boolean;
}

/** What one purge of a stream did. */
export interface PurgeResult {
  stream: string;
  archiveIds: number[];
  firstSeq: number;
  lastSeq: number;
  records: number;
  /** Id of the `system/retention_purge` record. */
  purgeRecordId: string;
}

/**
 * The `olderThan` bound of archive or purge `options`, in Unix nanoseconds:
 * the option, or `defaultDays` ago.
 *
 * @example
 * olderThanOf({}, 30) // 30 days ago
 */
export function olderThanOf(options: { olderThan?: TimeInput }, defaultDays: number): bigint {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return toNanos(options.olderThan, 'options.olderThan') ?? daysAgo(defaultDays, 'options.olderThan');
}

/** Create the archives that `options` call for; returns them. */
export function archiveStreams(db: Database.Database, cipher: RowCipher | undefined, olderThan: bigint, options: ArchiveOptions): ArchiveInfo[] {
  const max = options.maxRecordsPerArchive ?? 100_000;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`options.maxRecordsPerArchive must be a positive integer; got ${describe(max)}`);
  if (options.allowUnsigned !== undefined && typeof options.allowUnsigned !== 'boolean') throw new TypeError(`options.allowUnsigned must be a boolean; got ${describe(options.allowUnsigned)}`);
  const allowUnsigned = options.allowUnsigned === true;
  if (options.onFutureRecord !== undefined && typeof options.onFutureRecord !== 'function') throw new TypeError('options.onFutureRecord must be a function');
  const onProgress = progressCallback(options.onProgress);
  const created: ArchiveInfo[] = [];
  let doneRecords = 0;
  for (const stream of options.streams ?? listStreams(db)) {
    for (;;) {
      const draft = readArchiveDraft(db, cipher, stream, olderThan, max, allowUnsigned);
      if (draft === undefined) break;
      const info = insertArchive(db, draft);
      if (info === undefined) continue; // another run archived this prefix meanwhile: read on from its cut
      created.push(info);
      doneRecords += info.records;
      onProgress?.({ stream, archiveId: info.archiveId, firstSeq: info.firstSeq, lastSeq: info.lastSeq, records: info.records, doneArchives: created.length, doneRecords });
    }
    if (options.onFutureRecord !== undefined) {
      const blocker = futureBlocker(db, stream, olderThan);
      if (blocker !== undefined) options.onFutureRecord(stream, blocker.seq, blocker.time);
    }
  }
  return created;
}

function progressCallback(f: unknown): RetentionProgressCallback | undefined {
  if (f !== undefined && typeof f !== 'function') throw new TypeError(`options.onProgress must be a function; got ${describe(f)}`);
  return f as RetentionProgressCallback | undefined;
}

const DAY_NANOS = 86_400_000_000_000n;

/**
 * The record at which archiving of `stream` stops (the first not yet
 * archived that is not older than `olderThan`) when it is dated more than a
 * day after now: it holds the stream's archiving until that date. A day of
 * slack so that a writer's clock a little ahead of this host's is not news.
 */
function futureBlocker(db: Database.Database, stream: string, olderThan: bigint): { seq: number; time: bigint } | undefined {
  const archivedTo = db.prepare('SELECT max(last_seq) FROM audit_log_archives WHERE stream = ?').pluck().get(stream) as number | null;
  const row = db.prepare('SELECT seq, time_unix_nano AS time FROM audit_logs WHERE stream = ? AND seq > ? AND time_unix_nano >= ? ORDER BY seq LIMIT 1')
    .safeIntegers().get(stream, archivedTo ?? -1, olderThan) as { seq: bigint; time: bigint } | undefined;
  if (row === undefined || row.time <= BigInt(Date.now()) * 1_000_000n + DAY_NANOS) return undefined;
  return { seq: Number(row.seq), time: row.time };
}

/** Purge what `options` call for; returns one result per purged stream. */
/**
 * Refuses (RetentionError, nothing purged) to delete live records whose
 * archive no longer proves them: its data altered (SHA-256, records that do
 * not hash or chain to the root of its checkpoint), or its checkpoint not
 * one the store holds for that stream. Once purged, the archive is the only
 * copy, so it is checked again right before.
 */
function assertArchiveIntact(db: Database.Database, cipher: RowCipher | undefined, a: ArchiveRow): void {
  const id = Number(a.archive_id);
  const stream = String(a.stream);
  let archive;
  try {
    archive = readArchive(db, cipher, id);
  } catch (e) {
    throw new RetentionError(`stream "${stream}": archive ${id} cannot be read (${(e as Error).message}); nothing was purged — the live records are kept`);
  }
  // Without keys a signed checkpoint is `unknown_key`: the signature is verify's to judge; the
  // data must still hash and chain to the checkpoint's root, which the store holds (checked below).
  const report = verifyArchive(archive);
  const first = report.streams.flatMap((x) => x.findings).find((f) => f.severity === 'error' && f.code !== 'unknown_key');
  if (first !== undefined) {
    throw new RetentionError(`stream "${stream}": archive ${id} (seq ${archive.firstSeq}..${archive.lastSeq}) does not verify (${first.code}${first.seq !== undefined ? ` at seq ${first.seq}` : ''}: ${first.message}); `
      + 'it was altered after it was written, so nothing was purged and the live records are kept — investigate it');
  }
  const stored = db.prepare('SELECT 1 FROM audit_checkpoints WHERE stream = ? AND size = ? AND note = ?').get(stream, archive.lastSeq + 1, archive.checkpoint);
  if (stored === undefined) {
    throw new RetentionError(`stream "${stream}": archive ${id} names a checkpoint at size ${archive.lastSeq + 1} that the store does not hold; nothing was purged and the live records are kept — investigate the archive`);
  }
}

export async function purgeStreams(db: Database.Database, appender: Appender, olderThan: bigint, options: PurgeOptions, cipher?: RowCipher): Promise<PurgeResult[]> {
  if (options.appendRecord !== undefined && typeof options.appendRecord !== 'function') throw new TypeError('options.appendRecord must be a function');
  const onProgress = progressCallback(options.onProgress);
  if (options.pauseBetweenArchives !== undefined && typeof options.pauseBetweenArchives !== 'boolean') throw new TypeError(`options.pauseBetweenArchives must be a boolean; got ${describe(options.pauseBetweenArchives)}`);
  const pause = options.pauseBetweenArchives !== false;
  const results: PurgeResult[] = [];
  let doneArchives = 0;
  let doneRecords = 0;
  let heldMillis = 0;
  for (const stream of options.streams ?? listStreams(db)) {
    const firstStored = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ?').pluck().get(stream) as number | null;
    if (firstStored === null) continue;
    const candidates = db.prepare(`SELECT ${ARCHIVE_COLUMNS} FROM audit_log_archives WHERE stream = ? AND first_seq >= ? ORDER BY first_seq`).safeIntegers().all(stream, firstStored) as ArchiveRow[];
    // Record times need not grow with seq (a producer-supplied time, a backfill): an archive is old
    // enough once its youngest record is, whatever the time of its last (last_time_unix_nano).
    const youngest = db.prepare('SELECT max(time_unix_nano) FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ?').pluck().safeIntegers();
    const take: ArchiveRow[] = [];
    let expect = Number(firstStored);
    for (const a of candidates) {
      if (Number(a.purged) === 1 || Number(a.first_seq) !== expect) break;
      const newest = youngest.get(stream, a.first_seq, a.last_seq) as bigint | null;
      if (newest === null || newest >= olderThan) break;
      take.push(a);
      expect = Number(a.last_seq) + 1;
    }
    if (take.length === 0) continue;
    for (const a of take) assertArchiveIntact(db, cipher, a);
    const result: PurgeResult = {
      stream, archiveIds: take.map((a) => Number(a.archive_id)), firstSeq: Number(take[0]!.first_seq), lastSeq: expect - 1,
      records: take.reduce((n, a) => n + Number(a.record_count), 0), purgeRecordId: createRecordId(),
    };
    const event: AuditEventInput = {
      id: result.purgeRecordId, time: options.nowUnixNano ?? BigInt(Date.now()) * 1_000_000n, type: 'system', action: 'retention_purge',
      outcome: 'success', severity: 'info', actor: { type: 'system', id: 'otel-audit/retention' },
      details: { archive_ids: result.archiveIds, first_seq: result.firstSeq, last_seq: result.lastSeq, records: result.records, sha256: take.map((a) => a.sha256) },
    };
    if (options.appendRecord) {
      await options.appendRecord(stream, event);
      const found = db.prepare("SELECT 1 FROM audit_logs WHERE event_id = ? AND stream = ? AND event_type = 'system' AND event_action = 'retention_purge'").get(result.purgeRecordId, stream);
      if (found === undefined) throw new RetentionError(`stream "${stream}": the retention_purge record ${result.purgeRecordId} was not committed to this store by appendRecord; nothing was purged`);
    }
    const steps = purgeSteps(db, stream, result.purgeRecordId);
    for (const [i, a] of take.entries()) {
      // Long enough for a writer waiting in SQLite's busy handler (it retries at most 50 ms apart in its
      // first quarter second) to get the lock; as long as the last step held it, so a service writing
      // the database keeps about half of the time while a large archive is purged.
      if (pause && doneArchives > 0) await sleep(Math.min(Math.max(heldMillis, 50), 1_000));
      const started = performance.now();
      db.transaction(() => {
        if (i === 0 && !options.appendRecord) sealPurgeRecord(db, appender, stream, event, options.signers);
        steps.purge(a, i === 0 ? 'nothing was purged' : `archives ${result.archiveIds.slice(0, i).join(', ')} before it were purged, it and those after it were not`);
      }).immediate();
      heldMillis = performance.now() - started;
      doneArchives++;
      doneRecords += Number(a.record_count);
      onProgress?.({ stream, archiveId: Number(a.archive_id), firstSeq: Number(a.first_seq), lastSeq: Number(a.last_seq), records: Number(a.record_count), doneArchives, doneRecords });
    }
    results.push(result);
  }
  return results;
}

/** Append the `system/retention_purge` record, sealed from the stored head (no processor writes the stream). */
function sealPurgeRecord(db: Database.Database, appender: Appender, stream: string, event: AuditEventInput, signers: readonly NoteSigner[] | undefined): void {
  const head = readHead(db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?'), stream);
  if (head === undefined) throw new RetentionError(`stream "${stream}" has no stored head to seal the retention record from; pass appendRecord`);
  const chain = new AuditChain({ stream, head });
  const sealed = chain.append(event);
  const time = BigInt(sealed.record.time);
  const checkpoints = signers?.length ? [{ stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, signers) }] : [];
  appender.append({ records: [sealed], checkpoints });
}

/**
 * The statements of one purge step, to run inside its write transaction:
 * the grant the delete trigger checks is set for the archive and cleared
 * again within it, and the hourly counts lose exactly the rows deleted.
 */
function purgeSteps(db: Database.Database, stream: string, purgeRecordId: string) {
  const grant = db.prepare('INSERT INTO audit_retention_grant (grant_id, archive_id, stream, purge_record_id) VALUES (1, ?, ?, ?)');
  const del = db.prepare('DELETE FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ?');
  const purged = db.prepare('INSERT INTO audit_log_purges (archive_id, stream, purge_record_id, purged_unix_nano) VALUES (?, ?, ?, ?)');
  // The hourly counts are derived from the rows: take the purged rows out of them.
  const uncount = db.prepare(
    `INSERT INTO audit_stats_hourly (hour, event_type, event_action, event_result, severity, n)
     SELECT time_unix_nano / 3600000000000, event_type, event_action, event_result, severity, -count(*) FROM audit_logs
     WHERE stream = ? AND seq >= ? AND seq <= ? GROUP BY 1, 2, 3, 4, 5
     ON CONFLICT (hour, event_type, event_action, event_result, severity) DO UPDATE SET n = n + excluded.n`,
  );
  return {
    purge(a: ArchiveRow, otherwise: string): void {
      uncount.run(stream, a.first_seq, a.last_seq);
      grant.run(a.archive_id, stream, purgeRecordId);
      const n = del.run(stream, a.first_seq, a.last_seq).changes;
      db.exec('DELETE FROM audit_retention_grant');
      if (n !== Number(a.record_count)) throw new RetentionError(`stream "${stream}": archive ${a.archive_id} covers ${a.record_count} records but ${n} were found to purge; ${otherwise}`);
      purged.run(a.archive_id, stream, purgeRecordId, BigInt(Date.now()) * 1_000_000n);
      db.exec('DELETE FROM audit_stats_hourly WHERE n = 0');
    },
  };
}
