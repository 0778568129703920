/**
 * The Merkle compact range stored with a checkpoint row (schema version 2,
 * `audit_checkpoints.compact_range`; DESIGN §4.2, §6): where the start of a
 * window deep in a stream is built from, so that a verification of records
 * a..b hashes the stored checksums from the nearest snapshot at or below a,
 * not every one from seq 0 (a scale review measured 7.9 s for ten records
 * at seq 740,000, and the dashboard's integrity badge was refused outright).
 *
 * Soundness. The snapshot is unsigned data, written by the appender but
 * editable by anyone with write access to the file. A ranged verification
 * rehashes the window's records, checks their chain links, and compares the
 * root of the tree built from (the compact range at a) + (the window's
 * leaves) + (the stored leaves after b up to the next checkpoint) with that
 * SIGNED checkpoint's root. The compact range at a is the snapshot at s ≤ a
 * extended with the stored checksums s..a-1. The root of an RFC 9162 tree
 * combines the left subtrees of the compact range with the subtrees over
 * the later leaves; given the tree's size, equal roots mean (short of a
 * hash collision) an equal compact range at a and equal later leaves. So a
 * wrong snapshot — or a wrong stored checksum between s and a — makes the
 * root mismatch the signed one: the window is reported `root_mismatch`, not
 * verified, never falsely intact. What this check does not cover is what
 * lies outside the window: the records before the snapshot are not re-read
 * (a row stored twice, a record missing or rewritten before s is found by a
 * whole-store verify or a window that holds it, not by this one) — as the
 * checksums before a were never rehashed by a window before either.
 *
 * A snapshot that does not parse as a compact range of its row's size, or
 * whose record s-1 is not stored (no `prev` for the start), is not used: the
 * start is then built from an earlier one, an archive, or seq 0 — a longer
 * walk, counted as such, with the same result.
 */
import { checkpointOfNote, CompactRange, type Finding, type HashAlgorithm } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { streamAlg } from './stored-streams.js';

/** A usable snapshot: the compact range over [0, size) and the checksum of record size-1. */
export interface CheckpointSnapshot {
  size: number;
  range: CompactRange;
  prev: string;
}

/** Whether `db` has the column (a schema-1 store opened read-only does not). */
function hasSnapshots(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM pragma_table_info('audit_checkpoints') WHERE name = 'compact_range'").get() !== undefined;
}

/** Most snapshot rows tried below a seq before giving up on them (each failure is a forged or damaged row). */
const MAX_TRIED = 16;

/**
 * The largest usable snapshot of `stream` with `above` < size ≤ `seq`,
 * or undefined. Reads a few index entries and one row per snapshot tried.
 *
 * @example
 * snapshotBelow(db, 'api/1', 740_000, 0, 'sha256')?.size // 739_000
 */
export function snapshotBelow(db: Database.Database, stream: string, seq: number, above: number, alg: HashAlgorithm): CheckpointSnapshot | undefined {
  if (seq <= above || !hasSnapshots(db)) return undefined;
  const rows = db.prepare(
    `SELECT c.size, c.compact_range,
       (SELECT checksum FROM audit_logs l WHERE l.stream = c.stream AND l.seq = c.size - 1 ORDER BY l.log_id LIMIT 1) AS prev
     FROM audit_checkpoints c WHERE c.stream = ? AND c.size <= ? AND c.size > ? AND c.compact_range IS NOT NULL
     ORDER BY c.size DESC LIMIT ${MAX_TRIED}`,
  ).all(stream, seq, above) as { size: unknown; compact_range: unknown; prev: unknown }[];
  for (const row of rows) {
    const size = Number(row.size);
    if (!Number.isSafeInteger(size) || typeof row.prev !== 'string' || typeof row.compact_range !== 'string') continue;
    try {
      const range = CompactRange.restore(alg, JSON.parse(row.compact_range));
      if (range.size === size) return { size, range, prev: row.prev };
    } catch {
      // Not a compact range (edited or damaged): the next one below is tried.
    }
  }
  return undefined;
}

/**
 * Whole-store verify's check of the snapshots themselves: each stored
 * compact range must be one of its row's size whose root is the root that
 * row's signed note states. A ranged verification starting from a forged
 * one reports `root_mismatch` already; this names the edited column even
 * when no range starts there. One root per checkpoint row: a few hashes each.
 *
 * @example
 * for (const f of snapshotFindings(db, 'api/1')) addExtra('api/1', f);
 */
export function snapshotFindings(db: Database.Database, stream: string): Finding[] {
  if (!hasSnapshots(db)) return [];
  const alg = streamAlg(db, stream);
  const rows = db.prepare('SELECT compact_range, note FROM audit_checkpoints WHERE stream = ? AND compact_range IS NOT NULL ORDER BY size');
  const out: Finding[] = [];
  for (const row of rows.iterate(stream) as Iterable<{ compact_range: unknown; note: unknown }>) {
    const cp = typeof row.note === 'string' ? checkpointOfNote(row.note) : undefined;
    if (cp === undefined) continue; // a note that does not parse is the verifier's finding
    const signed = cp.rootHash.toString('hex');
    let range: CompactRange | undefined;
    try {
      range = typeof row.compact_range === 'string' ? CompactRange.restore(alg, JSON.parse(row.compact_range)) : undefined;
    } catch {
      range = undefined;
    }
    if (range !== undefined && range.size === cp.size && range.rootHex() === signed) continue;
    out.push({
      code: 'hash_mismatch', severity: 'error', stream, size: cp.size, expected: signed, actual: range === undefined ? 'not a compact range' : `${range.rootHex()} at size ${range.size}`,
      message: `checkpoint at size ${cp.size}: the Merkle compact range stored with it (its compact_range column) does not give its signed root: the column was edited `
        + '(a verification of a range starting from it reports root_mismatch)',
    });
  }
  return out;
}
