/**
 * Where verification of a stream starts when its beginning is not in the
 * table (DESIGN §6 retention, §4.4): after a purge, at the cut of the last
 * purged archive (its Merkle compact range and last hash, which the signed
 * checkpoint at the cut vouches for); for a seq range or a bundle, at any
 * seq, by extending the nearest compact range below it — an archive's end,
 * or the one stored with a checkpoint row (checkpoint-snapshot.ts, where its
 * soundness is argued) — with the stored checksums of the records in
 * between — synchronously, so what that walk costs is counted beforehand by
 * the same bounds and choice of base (`rangeStartCost`), for a caller that
 * must not block on it.
 */
import { CompactRange, type HashAlgorithm, type StreamEnd, type StreamStart } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { snapshotBelow, type CheckpointSnapshot } from './checkpoint-snapshot.js';
import { describe } from './describe.js';
import { streamAlg } from './stored-streams.js';
import { toNanos, type TimeInput } from './time-input.js';

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

/** The nearest archive of `stream` that ends below `seq`: where a start at `seq` is built from. */
function archiveBelow(db: Database.Database, stream: string, seq: number): ArchiveEdge | undefined {
  return db.prepare(
    'SELECT hash_alg, last_seq, last_checksum, compact_range FROM audit_log_archives WHERE stream = ? AND last_seq < ? ORDER BY last_seq DESC LIMIT 1',
  ).get(stream, seq) as ArchiveEdge | undefined;
}

/** Where a walk to `seq` starts: the nearer of the archive ending below it and the checkpoint snapshot at or below it. */
interface WalkBase {
  archive: ArchiveEdge | undefined;
  /** Set when it lies past the archive's end (a snapshot at the archive's end is the same start). */
  snapshot: CheckpointSnapshot | undefined;
  /** The first seq the walk reads. */
  from: number;
}

function walkBase(db: Database.Database, stream: string, seq: number, alg: HashAlgorithm): WalkBase {
  const archive = archiveBelow(db, stream, seq);
  const archived = archive === undefined ? 0 : Number(archive.last_seq) + 1;
  const snapshot = snapshotBelow(db, stream, seq, archived, alg);
  return { archive, snapshot, from: snapshot?.size ?? archived };
}

/**
 * Where a start was built and, when it is not at the seq asked, why: the
 * rows before that seq are not one record per seq.
 */
export interface StartAt {
  /** The seq the start is at: the one asked, or the last one below it that the stored rows reach cleanly. */
  seq: number;
  /** Undefined at seq 0. */
  start: Start | undefined;
  /**
   * Why the start is below the seq asked, for people: the row that breaks
   * the run of stored checksums (a seq stored twice, a seq that is no
   * integer) or the seqs missing.
   */
  obstacle?: string;
  /** Set when no row follows the start: the seqs missing from it to the stream's end (its head or checkpoints). */
  missing?: { seq: number; lastSeq: number };
}

/**
 * The start at `seq` (the compact range over [0, seq) and the hash of record
 * seq-1), built from the nearest archive or checkpoint snapshot at or
 * before it and the stored checksums after that. Rows an attacker wrote
 * into that run (a second row at a seq, a REAL seq, a missing record) —
 * after the snapshot: rows before it are not read — leave no verifiable start at
 * `seq`: the start is then the last one below it that the rows reach
 * cleanly, so that the caller reads the offending rows too and reports them
 * as a whole-store run does (verify) or refuses (bundle export) — never a
 * throw on hostile data. Throws RangeError only when `seq` lies beyond the
 * stream's end (its head, its checkpoints and its rows).
 */
export function startAt(db: Database.Database, stream: string, seq: number, alg: HashAlgorithm): StartAt {
  if (seq <= 0) return { seq: 0, start: undefined };
  const { archive, snapshot } = walkBase(db, stream, seq, alg);
  const base = archive ? fromArchive(archive) : undefined;
  const range = snapshot?.range ?? (base ? CompactRange.restore(base.alg, base.compactRange) : new CompactRange(alg));
  let prev = snapshot?.prev ?? base?.prev;
  let next = range.size;
  const built = (): StartAt => ({ seq: next, start: prev === undefined ? undefined : { seq: next, alg: range.algorithm, prev, compactRange: range.state() } });
  // In the order verify reads them, so both take the same row of a seq stored twice.
  const rows = db.prepare('SELECT seq, checksum, event_id FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ? ORDER BY seq, log_id');
  for (const row of rows.iterate(stream, next, seq) as Iterable<{ seq: number; checksum: string; event_id: unknown }>) {
    const at = Number(row.seq);
    if (at !== next) {
      const id = JSON.stringify(String(row.event_id).slice(0, 64));
      const what = `the row with seq ${at} (id ${id}) has a seq that is no integer`;
      // A row at or below the last seq taken (a repeat, a REAL between): the start goes back before that seq, so the reader meets both rows.
      if (at < next) return { ...startAt(db, stream, next - 1, alg), obstacle: at === next - 1 ? `seq ${at} is stored in more than one row (the second has id ${id})` : what };
      return { ...built(), obstacle: Number.isInteger(at) ? gap(next, at - 1) : what };
    }
    range.appendHex(row.checksum);
    prev = row.checksum;
    next++;
  }
  if (next === seq) return built();
  // No row from `next` to `seq`: a gap before the first row at or after `seq`, a deleted tail, or a seq past the end.
  const after = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= 9007199254740991').pluck().get(stream, seq) as number | null;
  if (after === null) {
    const end = Math.max(next, ...[
      db.prepare('SELECT size FROM audit_stream_heads WHERE stream = ?').pluck().get(stream),
      db.prepare('SELECT max(size) FROM audit_checkpoints WHERE stream = ?').pluck().get(stream),
    ].map((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0)));
    if (seq > end) throw new RangeError(`options.fromSeq ${seq} lies beyond the end of stream "${stream}" (${end === 0 ? 'it has no records' : `its last seq is ${end - 1}`})`);
    // Its head or checkpoints say the records from `next` were written: deleted, with none after them.
    return { ...built(), obstacle: gap(next, seq - 1), missing: { seq: next, lastSeq: end - 1 } };
  }
  return { ...built(), obstacle: gap(next, seq - 1) };
}

function gap(first: number, last: number): string {
  return first === last ? `record seq ${first} is missing` : `records seq ${first}..${last} are missing`;
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
  /** Set when `lo` lies below the range asked because the rows before it break the start (see {@link StartAt}). */
  obstacle?: string;
  /** The seqs missing from `lo` on when no row follows it (the core verifier sees no record to report them by). */
  missing?: { seq: number; lastSeq: number };
}

/** Seq/time bounds shared by verify and bundle export. */
export interface RangeBounds {
  fromSeq: number | undefined;
  toSeq: number | undefined;
  since: bigint | undefined;
  until: bigint | undefined;
}

/**
 * Only a row whose seq is an integer of the safe range bounds a time range (a
 * forged REAL, TEXT or huge seq is no record's). `+seq` keeps SQLite off the
 * (stream, seq) index: walking a stream in seq order to the first row at or
 * after a time read every row before it (884 ms a stream at seq 730,000);
 * the (stream, time) index reads only the rows inside the time bounds.
 */
const RECORD_SEQ = "typeof(seq) = 'integer' AND +seq BETWEEN 0 AND 9007199254740991";

/**
 * The seqs `b` selects in `stream` (`lo > hi`: none) and the cut of its last
 * purge. Time bounds select the records whose time lies within both of
 * them: every such record's seq lies between the least and the greatest, so
 * reading that seq range verifies them all (and any record between them).
 */
function rangeSeqs(db: Database.Database, stream: string, b: RangeBounds): { lo: number; hi: number; purged: Start | undefined } {
  let lo = b.fromSeq ?? 0;
  let hi = b.toSeq ?? Number.MAX_SAFE_INTEGER;
  if (b.since !== undefined || b.until !== undefined) {
    const terms = ['stream = ?', RECORD_SEQ];
    const args: unknown[] = [stream];
    if (b.since !== undefined) { terms.push('time_unix_nano >= ?'); args.push(b.since); }
    if (b.until !== undefined) { terms.push('time_unix_nano < ?'); args.push(b.until); }
    const v = db.prepare(`SELECT min(+seq), max(+seq) FROM audit_logs WHERE ${terms.join(' AND ')}`).raw().get(...args) as [unknown, unknown];
    if (v[0] === null || v[0] === undefined) return { lo: Number.MAX_SAFE_INTEGER, hi: -1, purged: undefined }; // no record within the time bounds: an empty range
    if (b.since !== undefined) lo = Math.max(lo, Number(v[0]));
    if (b.until !== undefined) hi = Math.min(hi, Number(v[1]));
  }
  return { lo, hi, purged: purgedStart(db, stream) };
}

/**
 * Resolve the bounds for `stream`: time bounds become the first seq at or
 * after `since` and the last before `until`; the start is the purged cut or
 * the compact range at `lo` — below it, with `obstacle` set, when the rows
 * before `lo` do not allow one there. `lo > hi` means nothing to read.
 */
export function resolveRange(db: Database.Database, stream: string, b: RangeBounds): StreamRange {
  const { lo, hi, purged } = rangeSeqs(db, stream, b);
  if (purged !== undefined && lo <= purged.seq) return { lo: purged.seq, hi, start: purged };
  if (lo > 0 && lo <= hi) {
    const at = startAt(db, stream, lo, streamAlg(db, stream));
    const missing = at.missing && { seq: at.missing.seq, lastSeq: Math.min(at.missing.lastSeq, hi) };
    return { lo: at.seq, hi, start: at.start, ...(at.obstacle !== undefined ? { obstacle: at.obstacle } : {}), ...(missing ? { missing } : {}) };
  }
  return { lo, hi, start: undefined };
}

/** The walk {@link startAt} makes to build a stream's range start: the stored checksums it hashes. */
export interface RangeStartWalk {
  stream: string;
  /** The seq the range starts at. */
  seq: number;
  /** The seq the walk starts from: 0, the one after the nearest archive below `seq`, or the size of a checkpoint whose compact range is stored. */
  from: number;
  /** What `from` is: the stream's first seq, an archive's end, or a checkpoint with its compact range stored. */
  base: 'start' | 'archive' | 'checkpoint';
  /**
   * Stored checksums read: from `from` up to the last stored row below
   * `seq` (`seq - from` when none is missing); 0 when the range starts at
   * seq 0 or at or below a purge's cut, or is empty.
   */
  rows: number;
}

/**
 * The walk `resolveRange` would make for `stream` and `b`, counted on the
 * indexes (the same bounds, purge cut and archive), reading no checksum.
 * An upper bound: rows that break the run stop {@link startAt} earlier.
 */
export function startWalk(db: Database.Database, stream: string, b: RangeBounds): RangeStartWalk {
  const { lo, hi, purged } = rangeSeqs(db, stream, b);
  if (purged !== undefined && lo <= purged.seq) return { stream, seq: purged.seq, from: purged.seq, rows: 0, base: 'archive' };
  if (lo <= 0 || lo > hi) return { stream, seq: lo, from: lo, rows: 0, base: 'start' };
  const { archive, snapshot, from } = walkBase(db, stream, lo, streamAlg(db, stream));
  const base = snapshot !== undefined ? 'checkpoint' : archive !== undefined ? 'archive' : 'start';
  // Only stored rows are read: a seq past the stream's end costs the rows up to its end, not the seq.
  const last = db.prepare('SELECT max(seq) FROM audit_logs WHERE stream = ? AND seq >= ? AND seq < ?').pluck().get(stream, from, lo);
  const to = last === null || last === undefined ? from : Math.min(lo, Math.floor(Number(last)) + 1);
  return { stream, seq: lo, from, rows: to - from, base };
}

/** Bounds of `SqliteAuditStore.rangeStartCost`: those of a verify or a bundle export, which may be passed as they are. */
export interface RangeStartCostOptions {
  /** Default: every stream. */
  streams?: readonly string[];
  fromSeq?: number;
  /** Inclusive. */
  toSeq?: number;
  since?: TimeInput;
  until?: TimeInput;
}

/** What building the starts of a range costs: the stored checksums read, all streams, and the longest walk (undefined when none reads any). */
export interface RangeStartCost {
  rows: number;
  longest: RangeStartWalk | undefined;
}

const COST_BOUNDS = ['streams', 'fromSeq', 'toSeq', 'since', 'until'];
/** The other options of verify and of a bundle export: accepted, not read. */
const NOT_BOUNDS = ['format', 'keyring', 'onProgress', 'progressEveryRecords'];

/**
 * {@link startWalk} of each stream `o` selects (`allStreams()` when it
 * names none: the store's list, kept where verify keeps it), summed.
 * Throws TypeError/RangeError for a bad bound or an unknown member, naming it.
 */
export function rangeStartCost(db: Database.Database, o: RangeStartCostOptions, allStreams: () => readonly string[]): RangeStartCost {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`options must be an object; got ${describe(o)}`);
  for (const key of Object.keys(o)) {
    if (!COST_BOUNDS.includes(key) && !NOT_BOUNDS.includes(key)) throw new RangeError(`options.${key} is not a bound of a range (${COST_BOUNDS.join(', ')})`);
  }
  if (o.streams !== undefined && (!Array.isArray(o.streams) || o.streams.some((x) => typeof x !== 'string'))) throw new TypeError('options.streams must be an array of stream ids');
  for (const k of ['fromSeq', 'toSeq'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`options.${k} must be a non-negative integer; got ${describe(v)}`);
  }
  const bounds: RangeBounds = { fromSeq: o.fromSeq, toSeq: o.toSeq, since: toNanos(o.since, 'options.since'), until: toNanos(o.until, 'options.until') };
  const cost: RangeStartCost = { rows: 0, longest: undefined };
  if (bounds.fromSeq === undefined && bounds.since === undefined) return cost; // every range starts at its stream's first stored record
  for (const stream of o.streams ?? allStreams()) {
    const walk = startWalk(db, stream, bounds);
    cost.rows += walk.rows;
    if (walk.rows > 0 && (cost.longest === undefined || walk.rows > cost.longest.rows)) cost.longest = walk;
  }
  return cost;
}
