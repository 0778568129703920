/**
 * Which streams a store holds: the ids of every stream with rows, a stored
 * head or a checkpoint (what verify, export, bundles and retention walk),
 * and with their sizes (`SqliteAuditStore.streams()`).
 */
import type { HashAlgorithm } from '@otel-audit/core';
import type Database from 'better-sqlite3';

/**
 * Every stream with rows, a head or a checkpoint, without scanning the log.
 * Only text stream ids: a row whose stream is not text (a BLOB; a number or
 * NULL in a rebuilt table) belongs to no stream — verify reports it.
 */
export function listStreams(db: Database.Database): string[] {
  // Text sorts after numbers and before every BLOB (x'' the least).
  const rows = db.prepare(
    `WITH RECURSIVE s(x) AS (SELECT min(stream) FROM audit_logs WHERE stream >= '' AND stream < x''
       UNION ALL SELECT (SELECT min(stream) FROM audit_logs WHERE stream > s.x AND stream < x'') FROM s WHERE s.x IS NOT NULL)
     SELECT x AS stream FROM s WHERE x IS NOT NULL
     UNION SELECT stream FROM audit_stream_heads UNION SELECT stream FROM audit_checkpoints ORDER BY 1`,
  ).pluck().all() as string[];
  return rows;
}

/** A stream stored in the database. */
export interface StoredStream {
  stream: string;
  /** Records appended so far (the next seq), including purged ones. */
  size: number;
}

/** Every stream of {@link listStreams} with its size (0 when it has no stored head). */
export function storedStreams(db: Database.Database): StoredStream[] {
  const sizes = new Map((db.prepare('SELECT stream, size FROM audit_stream_heads').all() as StoredStream[]).map((r) => [r.stream, Number(r.size)]));
  return listStreams(db).map((stream) => ({ stream, size: sizes.get(stream) ?? 0 }));
}

/**
 * The stream's hash algorithm, as its stored head records it (`sha256`
 * without a head).
 *
 * @example
 * CompactRange.restore(streamAlg(db, 'api/1'), state)
 */
export function streamAlg(db: Database.Database, stream: string): HashAlgorithm {
  return (db.prepare('SELECT hash_alg FROM audit_stream_heads WHERE stream = ?').pluck().get(stream) as HashAlgorithm | undefined) ?? 'sha256';
}
