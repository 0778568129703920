/**
 * Where verification of a stream starts when its beginning is not in the
 * table (DESIGN §6 retention, §4.4): after a purge, at the cut of the last
 * purged archive (its Merkle compact range and last hash, which the signed
 * checkpoint at the cut vouches for); for a seq range or a bundle, at any
 * seq, by extending the nearest archived compact range with the stored
 * checksums of the records in between.
 */
import { CompactRange, type HashAlgorithm, type StreamEnd, type StreamStart } from '@otel-audit/core';
import type Database from 'better-sqlite3';

/** A start plus the seq of the first record after it. */
export interface Start extends StreamStart {
  seq: number;
}

interface ArchiveEdge {
  hash_alg: string;
  last_seq: number;
  last_checksum: string;
  compact_range: string;
}

function fromArchive(a: ArchiveEdge): Start {
  return { seq: Number(a.last_seq) + 1, alg: a.hash_alg as HashAlgorithm, prev: a.last_checksum, compactRange: JSON.parse(a.compact_range) };
}

/** The cut of the stream's last purged archive, if any was purged. */
export function purgedStart(db: Database.Database, stream: string): Start | undefined {
  const a = db.prepare(
    `SELECT a.hash_alg, a.last_seq, a.last_checksum, a.compact_range FROM audit_log_purges p
     JOIN audit_log_archives a ON a.archive_id = p.archive_id WHERE p.stream = ? ORDER BY a.last_seq DESC LIMIT 1`,
  ).get(stream) as ArchiveEdge | undefined;
  return a && fromArchive(a);
}

/**
 * The start at `seq` (the compact range over [0, seq) and the hash of record
 * seq-1), built from the nearest archive at or before it and the stored
 * checksums after that. Undefined for seq 0; throws RangeError if a record
 * needed is missing or its checksum is not a hash.
 */
export function startAt(db: Database.Database, stream: string, seq: number, alg: HashAlgorithm): Start | undefined {
  if (seq <= 0) return undefined;
  const a = db.prepare(
    'SELECT hash_alg, last_seq, last_checksum, compact_range FROM audit_log_archives WHERE stream = ? AND last_seq < ? ORDER BY last_seq DESC LIMIT 1',
  ).get(stream, seq) as ArchiveEdge | undefined;
  const base = a ? fromArchive(a) : undefined;
  const range = base ? CompactRange.restore(base.alg, base.compactRange) : new CompactRange(alg);
  let prev = base?.prev;
  let next = range.size;
  const rows = db.prepare('SELECT seq, checksum FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq');
  for (const row of rows.iterate(stream, next, seq) as Iterable<{ seq: number; checksum: string }>) {
    if (Number(row.seq) !== next) throw new RangeError(`fromSeq: stream "${stream}" has no record at seq ${next}, so no verifiable start at seq ${seq} can be built`);
    range.appendHex(row.checksum);
    prev = row.checksum;
    next++;
  }
  if (next !== seq || prev === undefined) throw new RangeError(`fromSeq: stream "${stream}" has no record at seq ${next}, so no verifiable start at seq ${seq} can be built`);
  return { seq, alg: range.algorithm, prev, compactRange: range.state() };
}

/** Most stored checksums read after a range to reach the checkpoint that covers it. */
const MAX_END_HASHES = 250_000;

/** What follows a range (core's StreamEnd), and the size of the checkpoint its hashes reach. */
export interface End extends StreamEnd {
  /** The smallest checkpoint size above the range's last seq that the hashes reach; undefined when none does. */
  checkpointSize: number | undefined;
}

/**
 * What follows record `last` of `stream` when a range ends there: the
 * stored `prev` of record last+1 and the stored checksums from last+1 up
 * to the first checkpoint that covers `last` (its size is the smallest
 * above `last`), so the range can be checked against the records after it
 * and against that checkpoint. Undefined when record last+1 is not stored
 * (the range reaches the stream's end, or the next record is missing).
 * Stops short of the checkpoint at a missing record or after
 * {@link MAX_END_HASHES} checksums; the checkpoint is then not reached.
 */
export function endAfter(db: Database.Database, stream: string, last: number): End | undefined {
  const next = db.prepare('SELECT previous_checksum FROM audit_logs WHERE stream = ? AND seq = ?').pluck().get(stream, last + 1) as string | undefined;
  if (next === undefined) return undefined;
  const size = db.prepare('SELECT min(size) FROM audit_checkpoints WHERE stream = ? AND size > ?').pluck().get(stream, last) as number | null;
  const hashes: string[] = [];
  let reached: number | undefined;
  if (size !== null && Number(size) - (last + 1) <= MAX_END_HASHES) {
    const upTo = Number(size);
    let seq = last + 1;
    const rows = db.prepare('SELECT seq, checksum FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq').raw();
    for (const [s, checksum] of rows.iterate(stream, seq, upTo) as Iterable<[number | bigint, string]>) {
      if (Number(s) !== seq) break;
      hashes.push(checksum);
      seq++;
    }
    if (seq === upTo) reached = upTo;
  }
  return { prev: next, hashes, checkpointSize: reached };
}

/** The seq range of a stream to read, and where its verification starts. */
export interface StreamRange {
  lo: number;
  hi: number;
  start: Start | undefined;
}

/** Seq/time bounds shared by verify and bundle export. */
export interface RangeBounds {
  fromSeq: number | undefined;
  toSeq: number | undefined;
  since: bigint | undefined;
  until: bigint | undefined;
}

/**
 * Resolve the bounds for `stream`: time bounds become the first seq at or
 * after `since` and the last before `until`; the start is the purged cut or
 * the compact range at `lo`. `lo > hi` means nothing to read.
 */
export function resolveRange(db: Database.Database, stream: string, b: RangeBounds): StreamRange {
  let lo = b.fromSeq ?? 0;
  let hi = b.toSeq ?? Number.MAX_SAFE_INTEGER;
  if (b.since !== undefined) {
    const v = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND time_unix_nano >= ?').pluck().get(stream, b.since);
    if (v === null || v === undefined) return { lo: Number.MAX_SAFE_INTEGER, hi: -1, start: undefined }; // nothing at or after `since`: an empty range
    lo = Math.max(lo, Number(v));
  }
  if (b.until !== undefined) {
    const v = db.prepare('SELECT max(seq) FROM audit_logs WHERE stream = ? AND time_unix_nano < ?').pluck().get(stream, b.until);
    hi = Math.min(hi, v === null || v === undefined ? -1 : Number(v));
  }
  const purged = purgedStart(db, stream);
  if (purged !== undefined && lo <= purged.seq) return { lo: purged.seq, hi, start: purged };
  if (lo > 0 && lo <= hi) {
    const alg = (db.prepare('SELECT hash_alg FROM audit_stream_heads WHERE stream = ?').pluck().get(stream) as HashAlgorithm | undefined) ?? 'sha256';
    return { lo, hi, start: startAt(db, stream, lo, alg) };
  }
  return { lo, hi, start: undefined };
}
