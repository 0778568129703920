/**
 * Retention (DESIGN §6): `archiveStreams` copies whole per-stream prefixes,
 * cut at signed checkpoints, into `audit_log_archives` after checking that
 * the rows still hash to their checksums and to the checkpoint's root (so
 * tampered rows are never archived as good). `purgeStreams` then deletes
 * exactly the archived prefixes whose records are all old enough (by the
 * youngest record's time, not the last's: times need not grow with seq): it first appends a
 * `system/retention_purge` record to the stream (sealed here from the stored
 * head, or through the processor's callback), then, in one transaction, sets
 * the one-row `audit_retention_grant` that the delete trigger checks,
 * deletes the archive's rows, clears the grant and records the purge.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  AuditChain, CompactRange, createRecordId, genesisPrev, Keyring, recordHash, verifyCheckpoint,
  type AuditEventInput, type NoteSigner,
} from '@otel-audit/core';
import type Database from 'better-sqlite3';
import type { ArchiveInfo } from '../archive.js';
import { verifyArchive } from '../archive.js';
import { ARCHIVE_COLUMNS, readArchive, toArchiveInfo, type ArchiveRow } from './archive-store.js';
import { RetentionError } from '../errors.js';
import type { Appender } from './appender.js';
import { readHead } from './appender.js';
import { listStreams } from './stored-streams.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { daysAgo, toNanos, type TimeInput } from './time-input.js';
import { describe } from './describe.js';

/** Options of `SqliteAuditStore.archive`. */
export interface ArchiveOptions {
  /** Archive records older than this. Default: 30 days ago (`AUDIT_LOG_ARCHIVE_AFTER_DAYS`). */
  olderThan?: TimeInput;
  streams?: readonly string[];
  /** Largest archive, in records (cut at the checkpoint below). Default 100,000. */
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

const EMPTY_KEYRING = new Keyring();

/** Create the archives that `options` call for; returns them. */
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

export function archiveStreams(db: Database.Database, cipher: RowCipher | undefined, olderThan: bigint, options: ArchiveOptions): ArchiveInfo[] {
  const max = options.maxRecordsPerArchive ?? 100_000;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`options.maxRecordsPerArchive must be a positive integer; got ${describe(max)}`);
  if (options.allowUnsigned !== undefined && typeof options.allowUnsigned !== 'boolean') throw new TypeError(`options.allowUnsigned must be a boolean; got ${describe(options.allowUnsigned)}`);
  const allowUnsigned = options.allowUnsigned === true;
  if (options.onFutureRecord !== undefined && typeof options.onFutureRecord !== 'function') throw new TypeError('options.onFutureRecord must be a function');
  const created: ArchiveInfo[] = [];
  for (const stream of options.streams ?? listStreams(db)) {
    for (;;) {
      const info = db.transaction(() => archiveOne(db, cipher, stream, olderThan, max, allowUnsigned)).immediate();
      if (info === undefined) break;
      created.push(info);
    }
    if (options.onFutureRecord !== undefined) {
      const blocker = futureBlocker(db, stream, olderThan);
      if (blocker !== undefined) options.onFutureRecord(stream, blocker.seq, blocker.time);
    }
  }
  return created;
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

function archiveOne(db: Database.Database, cipher: RowCipher | undefined, stream: string, olderThan: bigint, max: number, allowUnsigned: boolean): ArchiveInfo | undefined {
  const head = readHead(db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?'), stream);
  if (head === undefined) return undefined;
  const last = db.prepare('SELECT last_seq, last_checksum, compact_range FROM audit_log_archives WHERE stream = ? ORDER BY last_seq DESC LIMIT 1').get(stream) as
    { last_seq: number; last_checksum: string; compact_range: string } | undefined;
  const from = last ? Number(last.last_seq) + 1 : 0;
  const firstNew = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND seq >= ? AND time_unix_nano >= ?').pluck().get(stream, from, olderThan) as number | null;
  const limit = Math.min(firstNew ?? head.size, from + max);
  // The largest checkpoint in reach that carries a signature (any: the keys are verify's to judge).
  const candidates = db.prepare('SELECT size, note FROM audit_checkpoints WHERE stream = ? AND size > ? AND size <= ? ORDER BY size DESC').iterate(stream, from, limit) as
    Iterable<{ size: number; note: string }>;
  let cp: { size: number; note: string } | undefined;
  for (const c of candidates) {
    // Without keys a signed, well-formed note is `unknown_key`.
    const status = verifyCheckpoint(c.note, EMPTY_KEYRING).status;
    if (status === 'unknown_key' || status === 'valid' || (allowUnsigned && status === 'unsigned')) {
      cp = c;
      break;
    }
  }
  if (cp === undefined) return undefined;
  const cut = Number(cp.size);
  const range = last ? CompactRange.restore(head.alg, JSON.parse(last.compact_range)) : new CompactRange(head.alg);
  const startRange = range.state();
  const prev = last ? last.last_checksum : genesisPrev(head.alg);
  const lines: string[] = [];
  let next = from;
  let expectedPrev = prev;
  let firstTime = 0n;
  let lastTime = 0n;
  const rows = db.prepare(`SELECT ${SELECT_LIST} FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq`).raw();
  for (const raw of rows.iterate(stream, from, cut) as Iterable<RawRow>) {
    const { record, checksum } = rowToRecord(raw, cipher);
    const refuse = (why: string) => new RetentionError(`stream "${stream}" seq ${record.seq}: ${why}; nothing was archived — run verify`);
    if (record.seq !== next) throw refuse(`expected seq ${next} (records are missing)`);
    if (record.prev !== expectedPrev) throw refuse('the record does not link to the one before it');
    let hash: string;
    try {
      hash = recordHash(record);
    } catch {
      throw refuse('the record cannot be canonicalized');
    }
    if (hash !== checksum) throw refuse('the record does not hash to its stored checksum');
    range.appendHex(hash);
    expectedPrev = hash;
    if (next === from) firstTime = BigInt(record.time);
    lastTime = BigInt(record.time);
    lines.push(JSON.stringify({ record, checksum }));
    next++;
  }
  if (next !== cut) throw new RetentionError(`stream "${stream}": records ${next}..${cut - 1} are missing; nothing was archived — run verify`);
  const root = verifyCheckpoint(cp.note, EMPTY_KEYRING).checkpoint?.rootHash.toString('hex');
  if (root !== range.rootHex()) throw new RetentionError(`stream "${stream}": records 0..${cut - 1} do not produce the root of the checkpoint at size ${cut}; nothing was archived — run verify`);
  const gz = gzipSync(`${lines.join('\n')}\n`);
  const sha256 = createHash('sha256').update(gz).digest('hex');
  const data = cipher ? cipher.sealBytes(gz, `archive:${stream}:${from}`) : gz;
  const created = BigInt(Date.now()) * 1_000_000n;
  const id = db.prepare(
    `INSERT INTO audit_log_archives (stream, hash_alg, first_seq, last_seq, record_count, first_time_unix_nano, last_time_unix_nano, prev, last_checksum,
      start_compact_range, compact_range, checkpoint_note, created_unix_nano, sha256, enc_key_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(stream, head.alg, from, cut - 1, cut - from, firstTime, lastTime, prev, expectedPrev, JSON.stringify(startRange), JSON.stringify(range.state()),
    cp.note, created, sha256, cipher?.keyId ?? null, data).lastInsertRowid;
  return toArchiveInfo(db.prepare(`SELECT ${ARCHIVE_COLUMNS} FROM audit_log_archives WHERE archive_id = ?`).safeIntegers().get(id) as ArchiveRow);
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
  const results: PurgeResult[] = [];
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
    db.transaction(() => {
      if (!options.appendRecord) {
        const head = readHead(db.prepare('SELECT hash_alg, size, prev, compact_range FROM audit_stream_heads WHERE stream = ?'), stream);
        if (head === undefined) throw new RetentionError(`stream "${stream}" has no stored head to seal the retention record from; pass appendRecord`);
        const chain = new AuditChain({ stream, head });
        const sealed = chain.append(event);
        const time = BigInt(sealed.record.time);
        const checkpoints = options.signers?.length ? [{ stream, size: chain.size, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, options.signers) }] : [];
        appender.append({ records: [sealed], checkpoints });
      }
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
      for (const a of take) {
        uncount.run(stream, a.first_seq, a.last_seq);
        grant.run(a.archive_id, stream, result.purgeRecordId);
        const n = del.run(stream, a.first_seq, a.last_seq).changes;
        db.exec('DELETE FROM audit_retention_grant');
        if (n !== Number(a.record_count)) throw new RetentionError(`stream "${stream}": archive ${a.archive_id} covers ${a.record_count} records but ${n} were found to purge; nothing was purged`);
        purged.run(a.archive_id, stream, result.purgeRecordId, BigInt(Date.now()) * 1_000_000n);
      }
      db.exec('DELETE FROM audit_stats_hourly WHERE n = 0');
    }).immediate();
    results.push(result);
  }
  return results;
}
