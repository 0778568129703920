/**
 * What a ranged verification reads before its range (DESIGN §4.4, §6; the
 * store's stream-start.ts): a range that does not begin at a stream's first
 * stored record needs the Merkle compact range and last hash at its first
 * seq, which the store builds from the nearest archive below it (or seq 0)
 * by hashing every stored checksum in between — synchronously, on the event
 * loop. A one-record range deep in a long stream therefore costs as much as
 * verifying the stream up to it, so the integrity route counts these rows
 * against `maxIntegrityRecords` along with the range's own. Counted by
 * arithmetic on seqs and a few index seeks, mirroring the store's
 * `resolveRange` and `startAt` without reading a checksum.
 */
import type { ServerState } from './context.js';

/** Only a row whose seq is an integer of the safe range bounds a time range (as the store has it). */
const RECORD_SEQ = "typeof(seq) = 'integer' AND seq BETWEEN 0 AND 9007199254740991";

/** Bounds of an integrity request; times as Unix nanoseconds. */
export interface WalkBounds {
  fromSeq?: number;
  toSeq?: number;
  since?: bigint;
  until?: bigint;
}

/** The longest start walk of a request: the stream, the seq the range starts at, the seq the walk starts from, and its length. */
export interface StartWalk {
  stream: string;
  seq: number;
  from: number;
  rows: number;
}

/**
 * The rows the store reads to build the start of each stream's range
 * (from the nearest archive's `last_seq + 1`, or seq 0, up to the range's
 * first seq; none when the range starts at or below the last purge's cut):
 * their sum, and the stream with the longest walk.
 */
export function startWalk(state: ServerState, streams: readonly string[], b: WalkBounds): { rows: number; longest: StartWalk | undefined } {
  if (b.fromSeq === undefined && b.since === undefined) return { rows: 0, longest: undefined };
  const db = state.reader;
  const firstAfter = db.prepare(`SELECT min(seq) FROM audit_logs WHERE stream = ? AND time_unix_nano >= ? AND ${RECORD_SEQ}`).pluck();
  const lastBefore = db.prepare(`SELECT max(seq) FROM audit_logs WHERE stream = ? AND time_unix_nano < ? AND ${RECORD_SEQ}`).pluck();
  const purgedCut = db.prepare(
    'SELECT a.last_seq FROM audit_log_purges p JOIN audit_log_archives a ON a.archive_id = p.archive_id WHERE p.stream = ? ORDER BY a.last_seq DESC LIMIT 1',
  ).pluck();
  const archiveBelow = db.prepare('SELECT last_seq FROM audit_log_archives WHERE stream = ? AND last_seq < ? ORDER BY last_seq DESC LIMIT 1').pluck();
  let rows = 0;
  let longest: StartWalk | undefined;
  for (const stream of streams) {
    let lo = b.fromSeq ?? 0;
    let hi = b.toSeq ?? Number.MAX_SAFE_INTEGER;
    if (b.since !== undefined) {
      const v = firstAfter.get(stream, b.since);
      if (v === null || v === undefined) continue;
      lo = Math.max(lo, Number(v));
    }
    if (b.until !== undefined) {
      const v = lastBefore.get(stream, b.until);
      hi = Math.min(hi, v === null || v === undefined ? -1 : Number(v));
    }
    if (lo <= 0 || lo > hi) continue;
    const cut = purgedCut.get(stream);
    if (cut !== null && cut !== undefined && lo <= Number(cut) + 1) continue;
    const archived = archiveBelow.get(stream, lo);
    const from = archived === null || archived === undefined ? 0 : Number(archived) + 1;
    const n = Math.max(0, lo - from);
    rows += n;
    if (n > 0 && (longest === undefined || n > longest.rows)) longest = { stream, seq: lo, from, rows: n };
  }
  return { rows, longest };
}
