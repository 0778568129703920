/**
 * Verification of a stored log (DESIGN §4.4, §6): stream by stream, the
 * stored checkpoints first (their unsigned columns checked against the
 * signed note), then every row rebuilt by `rowToRecord` in seq order and
 * fed to core's streaming `Verifier` — constant memory, with a progress
 * callback and an optional seq or time range (checked against the record
 * after it and the checkpoint that covers it, see `endAfter`). Runs on its own
 * read-only connection inside one read transaction, so it sees one
 * consistent snapshot while the writer goes on appending, and yields to the
 * event loop between slices of rows. Every row of `audit_logs` is verified or
 * reported: a row the seq-ordered read cannot reach (a seq that is no integer
 * of the stream's range, a stream that is not text) is named in a finding, a
 * second row at a seq is a `duplicate`, and whole-store runs check that the
 * rows read and reported add up to the rows stored.
 */
import { checkpointOfNote, Verifier, type Finding, type Keyring, type StreamReport, type VerificationReport } from '@otel-audit/core';
import { checkpointColumnMismatches, type CheckpointRowColumns } from '../checkpoint-columns.js';
import { purgedArchiveFindings } from './purged-archives-check.js';
import { snapshotFindings } from './checkpoint-snapshot.js';
import { notesByOrigin, sourceOf, type KeptCheckpoint } from './witness-notes.js';
import { jsonColumnFindings } from './json-column-check.js';
import type Database from 'better-sqlite3';
import { C_KEY, isoFromDecimalNanos, RECORD_COLUMNS, rowToCanonical, rowToRecord, SELECT_LIST, timestampMatches, type RawRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { endAfter, resolveRange } from './stream-start.js';
import { toNanos, type TimeInput } from './time-input.js';
import { describe } from './describe.js';
import { listStreams } from './stored-streams.js';

/** Progress of a running verification. */
export interface VerifyProgress {
  /** The stream being verified. */
  stream: string;
  /** Records verified so far, all streams. */
  records: number;
}

/** Options of `SqliteAuditStore.verify`. */
export interface VerifyStoreOptions {
  /** Trusted checkpoint keys; without it every signed checkpoint is `unknown_key`. */
  keyring?: Keyring;
  /** Only these streams (default: every stream in the store). */
  streams?: readonly string[];
  /** First seq to verify (per stream); earlier records are trusted by their stored checksums. */
  fromSeq?: number;
  /** Last seq to verify (inclusive). */
  toSeq?: number;
  /** Verify the records of each stream from the first one at or after this time. */
  since?: TimeInput;
  /** ...up to the last one before this time. */
  until?: TimeInput;
  /** Called every `progressEveryRecords` records and at the end. */
  onProgress?: (progress: VerifyProgress) => void;
  /** Default 10,000. */
  progressEveryRecords?: number;
  /**
   * Checkpoint notes kept apart from the store (saved by `otel-audit
   * checkpoints`, or the collector's copy), checked as if stored: one
   * covering more records than the store holds is `truncated`, one whose
   * root differs `root_mismatch` — so a tail deleted with its checkpoints
   * shows. A stream they name that the store lacks is verified as empty.
   * A `source` (the file they came from) is named in their findings.
   */
  checkpoints?: readonly (string | KeptCheckpoint)[];
}

/**
 * Rows between two looks at the clock, and how long a slice may hold the
 * event loop before verify yields: a service verifying its own store at
 * start (verify_on_start) serves requests between slices. A row count alone
 * (5,000 rows) held the loop ~200 ms on a large store.
 */
const CLOCK_EVERY = 256;
const SLICE_MILLIS = 20;
const READ_SLICE = 128;
const DECIMAL = /^\d{1,19}$/;
const MAX_EXTRA = 1_000;
/** Where core's verifier files what belongs to no stream; findings on rows of no (text) stream go there too. */
const NO_STREAM = '(unknown)';

function seqBound(v: number | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer; got ${describe(v)}`);
  return v;
}

export async function verifyStore(db: Database.Database, cipher: RowCipher | undefined, options: VerifyStoreOptions = {}): Promise<VerificationReport> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const fromSeq = seqBound(options.fromSeq, 'options.fromSeq');
  const toSeq = seqBound(options.toSeq, 'options.toSeq');
  const since = toNanos(options.since, 'options.since');
  const until = toNanos(options.until, 'options.until');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('options.onProgress must be a function');
  const every = options.progressEveryRecords ?? 10_000;
  if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`options.progressEveryRecords must be a positive integer; got ${describe(every)}`);
  if (options.streams !== undefined && (!Array.isArray(options.streams) || options.streams.some((s) => typeof s !== 'string'))) {
    throw new TypeError('options.streams must be an array of stream ids');
  }
  const witness = notesByOrigin(options.checkpoints);
  const ranged = fromSeq !== undefined || toSeq !== undefined || since !== undefined || until !== undefined;
  // Rows come in seq order, so the reorder window only has to catch a repeated seq or id nearby; a
  // small one keeps its entries young (they die before the GC promotes them: ~5% of verify time).
  const verifier = new Verifier({ ...(options.keyring ? { keyring: options.keyring } : {}), partial: ranged, reorderWindow: 1_024 });
  const extra: Finding[] = [];
  const extraOmitted = new Map<string, number>();
  let done = 0;
  let sliceStart = performance.now();
  /** A finding on columns outside the record: listed up to a cap, the rest only counted. */
  const addExtra = (stream: string, f: Finding): void => {
    if (extra.length >= MAX_EXTRA) extraOmitted.set(stream, (extraOmitted.get(stream) ?? 0) + 1);
    else extra.push(f);
  };

  db.exec('BEGIN');
  try {
    const witnessed = [...witness.keys()].filter((s): s is string => s !== undefined);
    const streams = options.streams ?? (witnessed.length === 0 ? listStreams(db) : [...new Set([...listStreams(db), ...witnessed])]);
    // A note that names no stream is the verifier's to report (malformed).
    for (const k of witness.get(undefined) ?? []) verifier.addCheckpoint(k.note, sourceOf(k));
    const notes = db.prepare('SELECT stream, size, root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints WHERE stream = ? ORDER BY size');
    const rows = db.prepare(`SELECT ${SELECT_LIST}, typeof(time_unix_nano) FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ? ORDER BY seq, log_id`).raw();
    const nextSeq = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND seq > ?').pluck();
    const unread = db.prepare(UNREAD_ROWS).raw().safeIntegers();
    const stored = db.prepare('SELECT count(*) FROM audit_logs WHERE stream = ?').pluck();
    let storedInStreams = 0;
    // A store that was ever encrypted recorded its key's check value: without one, a row naming a key was edited.
    const everEncrypted = db.prepare("SELECT 1 FROM audit_meta WHERE key LIKE 'kcv:%' LIMIT 1").get() !== undefined;
    for (const stream of streams) {
      // A purged prefix lives on only in its archives: verify them too (whole-store runs).
      if (!ranged) for (const f of await purgedArchiveFindings(db, cipher, stream, options.keyring)) addExtra(stream, f);
      if (!ranged) for (const f of snapshotFindings(db, stream)) addExtra(stream, f);
      const kept = witness.get(stream);
      const storedNotes = new Set<string>();
      for (const row of notes.iterate(stream) as Iterable<CheckpointRow>) {
        verifier.addCheckpoint(row.note);
        if (kept !== undefined) storedNotes.add(row.note);
        for (const f of checkpointColumnFindings(row)) addExtra(f.stream, f);
      }
      // Kept apart: the copies of stored notes are not counted twice.
      for (const k of kept ?? []) if (!storedNotes.has(k.note)) verifier.addCheckpoint(k.note, sourceOf(k));
      // Rows before a range that break its start (a seq stored twice or no
      // integer, a record missing) move the read back to them: they are
      // reported below as in a whole-store run.
      const { lo, hi, start, missing } = resolveRange(db, stream, { fromSeq, toSeq, since, until });
      if (start !== undefined) verifier.startStream(stream, start);
      if (missing !== undefined) {
        // No row follows: the verifier sees none to report the gap by.
        addExtra(stream, {
          code: 'seq_gap', severity: 'error', stream, seq: missing.seq, lastSeq: missing.lastSeq,
          message: `${missing.seq === missing.lastSeq ? `record seq ${missing.seq} is` : `records seq ${missing.seq}..${missing.lastSeq} are`} missing (the stream's head or checkpoints say they were written), so the range has no verifiable start`,
        });
      }
      // Rows the read below cannot reach: a seq that is no integer of the
      // safe range (a TEXT seq sorts above every integer) in any run; in a
      // whole-store run also one below where the stream's read starts, a
      // purged range's.
      let accounted = 0;
      for (const [id, seq, type, literal] of unread.iterate({ stream, lo: ranged ? 0 : lo, hi: Number.MAX_SAFE_INTEGER }) as Iterable<[unknown, unknown, string, string]>) {
        accounted++;
        addExtra(stream, unreadRowFinding(stream, String(id), seq, type, literal));
      }
      let lastRead = -1;
      let lastSeq = -1;
      let lastChecksum = '';
      // Slices of seq values read with all(): cheaper per row than an
      // iterator. An empty slice jumps to the next stored seq, so a forged
      // far-away seq costs one index seek, not a walk over the gap.
      for (let from = lo; from <= hi;) {
        const to = Math.min(hi, from + READ_SLICE - 1);
        const batch = rows.all(stream, from, to) as RawRow[];
        if (batch.length === 0) {
          const next = nextSeq.get(stream, to) as unknown;
          // A REAL seq (3.5) must not leave the slices off the integers; a TEXT one is past them all.
          if (typeof next !== 'number' && typeof next !== 'bigint') break;
          from = Math.floor(Number(next));
          continue;
        }
        from = to + 1;
        for (let r = 0; r < batch.length; r++) {
          const raw = batch[r]!;
          accounted++;
          const seqValue = raw[1];
          if (typeof seqValue !== 'bigint' && !Number.isInteger(seqValue)) {
            addExtra(stream, unreadRowFinding(stream, String(raw[2]), seqValue, sqlType(seqValue), String(seqValue)));
            continue;
          }
          const seq = Number(seqValue);
          if (seq === lastSeq) {
            // Only once the unique index is dropped: not handed to the
            // verifier, which takes a repeat with the same hash for a retry.
            const checksum = String(raw[28]);
            addExtra(stream, {
              code: 'duplicate', severity: 'error', stream, seq, id: String(raw[2]), expected: lastChecksum, actual: checksum,
              message: `seq ${seq} is stored in more than one row (this one with ${checksum === lastChecksum ? 'the same' : 'another'} checksum): a row was inserted; this one was not verified`,
            });
            continue;
          }
          lastSeq = seq;
          lastChecksum = String(raw[28]);
          const retyped = retypedColumn(raw);
          if (retyped !== undefined) {
            addExtra(stream, {
              code: 'hash_mismatch', severity: 'error', stream, seq, id: String(raw[2]), actual: retyped.type,
              message: `column ${retyped.column} holds ${retyped.type} where the store writes ${retyped.column === 'time_unix_nano' ? 'an integer' : 'text'}: the record reads the same, but queries by that column no longer find the row`,
            });
          }
          if (raw[C_KEY] !== null && !everEncrypted) {
            addExtra(stream, {
              code: 'hash_mismatch', severity: 'error', stream, seq: Number(raw[1]), id: String(raw[2]), actual: String(raw[C_KEY]),
              message: `record seq ${Number(raw[1])}: the enc_key_id column names key ${JSON.stringify(String(raw[C_KEY]).slice(0, 64))}, but this store was never encrypted (no key check value is recorded): the column was edited; the row is read as the plaintext it holds`,
            });
            raw[C_KEY] = null;
          }
          // Fast path: the canonical text straight from the columns; only a
          // row whose text does not hash to its checksum is rebuilt as a
          // record for the verifier's exact path.
          const canonical = rowToCanonical(raw, cipher);
          lastRead = seq;
          const id = String(raw[2]);
          const checksum = lastChecksum;
          if (canonical === undefined || !verifier.tryAddCanonical(canonical, checksum, { stream: String(raw[0]), seq, id, prev: String(raw[29]), alg: String(raw[3]) })) {
            verifier.addRecord(rowToRecord(raw, cipher, true).record, checksum);
            for (const f of jsonColumnFindings(raw, stream, seq, id)) addExtra(stream, f);
          }
          const time = String(raw[4]);
          const timestamp = String(raw[5]);
          if (!timestampMatches(time, timestamp) && DECIMAL.test(time)) {
            addExtra(stream, {
              code: 'hash_mismatch', severity: 'error', stream, seq, id, expected: isoFromDecimalNanos(time), actual: timestamp,
              message: `record seq ${seq}: the timestamp column does not match time_unix_nano (it was edited)`,
            });
          }
          done++;
          if (done % every === 0) options.onProgress?.({ stream, records: done });
          if (done % CLOCK_EVERY === 0 && performance.now() - sliceStart >= SLICE_MILLIS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      }
      // A range ends before the stream does: the next record must link to
      // its last one, and the stored checksums after it reach the
      // checkpoint that covers it (a record of the range rewritten with a
      // fresh checksum is caught there, not only by whole-file verify).
      if (ranged && lastRead >= 0) {
        const end = endAfter(db, stream, lastRead);
        if (end !== undefined) verifier.endStream(stream, end);
      }
      if (!ranged) {
        const n = Number(stored.get(stream));
        storedInStreams += n;
        if (n !== accounted) {
          addExtra(stream, {
            code: 'malformed', severity: 'error', stream, expected: String(n), actual: String(accounted),
            message: `the stream has ${n} rows, but verify read or reported ${accounted}: ${Math.abs(n - accounted)} rows escaped the seq-ordered read (was the table rebuilt?)`,
          });
        }
      }
    }
    if (options.streams === undefined) {
      // Rows of no text stream are in none of the streams listed.
      let outside = 0;
      for (const [id, stream, seq] of db.prepare(NO_STREAM_ROWS).raw().iterate() as Iterable<[unknown, string, string]>) {
        outside++;
        addExtra(NO_STREAM, {
          code: 'malformed', severity: 'error', stream: NO_STREAM, id: String(id),
          message: `a row (seq ${seq.slice(0, 40)}) has stream ${stream.slice(0, 80)}; a stream id is text, so the row belongs to no stream and was not verified`,
        });
      }
      const total = ranged ? undefined : Number(db.prepare('SELECT count(*) FROM audit_logs').pluck().get());
      if (total !== undefined && total !== storedInStreams + outside) {
        addExtra(NO_STREAM, {
          code: 'malformed', severity: 'error', stream: NO_STREAM, expected: String(total), actual: String(storedInStreams + outside),
          message: `audit_logs has ${total} rows, but its streams hold ${storedInStreams} and ${outside} belong to none: ${Math.abs(total - storedInStreams - outside)} rows escaped the stream listing (was the table rebuilt?)`,
        });
      }
    }
  } finally {
    db.exec('COMMIT');
  }
  options.onProgress?.({ stream: '', records: done });
  return merge(verifier.finish(), extra, extraOmitted);
}

/**
 * A stream's rows with a seq that the read of [lo, hi] cannot reach, in three
 * index searches (a NULL seq in a rebuilt table; below lo; above hi, where
 * every TEXT and BLOB sorts), with the seq as an SQL literal and its type.
 */
const UNREAD_ROWS = ['seq IS NULL', 'seq < @lo', 'seq > @hi']
  .map((w) => `SELECT event_id, seq, typeof(seq), quote(seq) FROM audit_logs WHERE stream = @stream AND ${w}`).join(' UNION ALL ');

/** Rows whose stream is not text: NULL, below '' (numbers), at or above x'' (BLOBs); searches of the (stream, seq) index. */
const NO_STREAM_ROWS = ['stream IS NULL', "stream < ''", "stream >= x''"]
  .map((w) => `SELECT event_id, quote(stream), quote(seq) FROM audit_logs WHERE ${w}`).join(' UNION ALL ');

/**
 * A row of `stream` that is not verified because of its seq: one at a seq
 * of a purged range (the records there are deleted, so it was inserted
 * since) is a `duplicate` of the archived record, as core reports a record
 * inside an archived prefix; a seq that is no integer in [0, 2^53) is
 * `malformed`.
 */
function unreadRowFinding(stream: string, id: string, seq: unknown, type: string, literal: string): Finding {
  const safe = (typeof seq === 'bigint' || typeof seq === 'number') && Number.isSafeInteger(Number(seq)) ? Number(seq) : undefined;
  if (safe !== undefined && safe >= 0) {
    return {
      code: 'duplicate', severity: 'error', stream, seq: safe, id,
      message: `a row has seq ${safe}, in the stream's purged range (those records live on only in their archives): it was inserted after the purge and was not verified`,
    };
  }
  return {
    code: 'malformed', severity: 'error', stream, ...(safe !== undefined ? { seq: safe } : {}), id, actual: literal.slice(0, 80),
    message: `a row has seq ${literal.slice(0, 40)} (${type}); a seq is an integer from 0 to 2^53-1, so the row is in no stream's order and was not verified`,
  };
}

/** Index of `typeof(time_unix_nano)` in the verify read's rows (after SELECT_LIST and log_id). */
const C_TIME_TYPE = RECORD_COLUMNS.length + 1;

/**
 * A column whose storage class the store never writes, so the record reads
 * the same but the indexes and filters miss the row: a BLOB in a text
 * column (`CAST(actor_id AS BLOB)`), a time that is not an integer.
 */
function retypedColumn(raw: RawRow): { column: string; type: string } | undefined {
  if (raw[C_TIME_TYPE] !== 'integer') return { column: 'time_unix_nano', type: String(raw[C_TIME_TYPE]) };
  for (let i = 0; i < RECORD_COLUMNS.length; i++) if (raw[i] instanceof Uint8Array) return { column: RECORD_COLUMNS[i]!, type: 'blob' };
  return undefined;
}

/** SQLite's name for the storage class of a value as better-sqlite3 returns it. */
function sqlType(v: unknown): string {
  return v === null ? 'null' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'real') : typeof v === 'bigint' ? 'integer' : typeof v === 'string' ? 'text' : 'blob';
}

/** An `audit_checkpoints` row: the note is what is signed; the other columns are unsigned copies for the indexes. */
interface CheckpointRow extends CheckpointRowColumns {
  note: string;
}

/**
 * A checkpoint row whose unsigned columns (stream, size, root hash, time)
 * differ from its signed note: each such column was edited. Reported as
 * `hash_mismatch` at the note's size, like an edited `timestamp` column; a
 * note that does not parse is the verifier's (`malformed`).
 */
function checkpointColumnFindings(row: CheckpointRow): Finding[] {
  const cp = checkpointOfNote(row.note);
  if (cp === undefined) return [];
  return checkpointColumnMismatches(row, cp).map(({ column, stored, signed }) => ({
    code: 'hash_mismatch', severity: 'error', stream: cp.origin, size: cp.size, expected: signed, actual: stored,
    message: `checkpoint at size ${cp.size}: its ${column} column (${JSON.stringify(stored.slice(0, 80))}) differs from its signed note (${JSON.stringify(signed.slice(0, 80))}): the column was edited`,
  }));
}

/** Add findings the core verifier cannot see (columns outside the record, rows it was not given) to the report. */
function merge(report: VerificationReport, extra: readonly Finding[], omitted: ReadonlyMap<string, number>): VerificationReport {
  const streams = new Map(report.streams.map((s) => [s.stream, s]));
  // A stream whose rows all escaped the verifier has no report yet.
  const of = (stream: string): StreamReport => {
    let s = streams.get(stream);
    if (s === undefined) {
      s = {
        stream, alg: undefined, records: 0, firstSeq: undefined, lastSeq: undefined, duplicatesIgnored: 0,
        checkpoints: { seen: 0, verified: 0, lastVerifiedSize: 0, mismatched: 0, unchecked: 0 },
        findings: [], findingsOmitted: 0, errors: 0, warnings: 0,
      };
      streams.set(stream, s);
    }
    return s;
  };
  for (const f of extra) {
    const s = of(f.stream);
    s.findings.push(f);
    s.errors++;
    report.errors++;
  }
  for (const [stream, n] of omitted) {
    const s = of(stream);
    s.findingsOmitted += n;
    s.errors += n;
    report.errors += n;
  }
  const sorted = [...streams.values()].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  return { ...report, streams: sorted, ok: report.errors === 0 };
}
