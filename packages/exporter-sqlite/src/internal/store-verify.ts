/**
 * Verification of a stored log (DESIGN §4.4, §6): stream by stream, the
 * stored checkpoints first, then every row rebuilt by `rowToRecord` in seq
 * order and fed to core's streaming `Verifier` — constant memory, with a
 * progress callback and an optional seq or time range. Runs on its own
 * read-only connection inside one read transaction, so it sees one
 * consistent snapshot while the writer goes on appending, and yields to the
 * event loop between slices of rows.
 */
import { Verifier, type Finding, type Keyring, type VerificationReport } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { isoFromDecimalNanos, rowToCanonical, rowToRecord, SELECT_LIST, timestampMatches, type RawRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { resolveRange } from './stream-start.js';
import { toNanos, type TimeInput } from './time-input.js';
import { describe } from './describe.js';

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
}

const SLICE = 5_000;
const READ_SLICE = 128;
const DECIMAL = /^\d{1,19}$/;
const MAX_EXTRA = 1_000;

function seqBound(v: number | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer; got ${describe(v)}`);
  return v;
}

/** Every stream with rows, a head or a checkpoint, without scanning the log. */
export function listStreams(db: Database.Database): string[] {
  const rows = db.prepare(
    `WITH RECURSIVE s(x) AS (SELECT min(stream) FROM audit_logs
       UNION ALL SELECT (SELECT min(stream) FROM audit_logs WHERE stream > s.x) FROM s WHERE s.x IS NOT NULL)
     SELECT x AS stream FROM s WHERE x IS NOT NULL
     UNION SELECT stream FROM audit_stream_heads UNION SELECT stream FROM audit_checkpoints ORDER BY 1`,
  ).pluck().all() as string[];
  return rows;
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
  const ranged = fromSeq !== undefined || toSeq !== undefined || since !== undefined || until !== undefined;
  // Rows come in seq order, so the reorder window only has to catch a repeated seq or id nearby; a
  // small one keeps its entries young (they die before the GC promotes them: ~5% of verify time).
  const verifier = new Verifier({ ...(options.keyring ? { keyring: options.keyring } : {}), partial: ranged, reorderWindow: 1_024 });
  const extra: Finding[] = [];
  const extraOmitted = new Map<string, number>();
  let done = 0;

  db.exec('BEGIN');
  try {
    const streams = options.streams ?? listStreams(db);
    const notes = db.prepare('SELECT note FROM audit_checkpoints WHERE stream = ? ORDER BY size').pluck();
    const rows = db.prepare(`SELECT ${SELECT_LIST} FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ? ORDER BY seq, log_id`).raw();
    const nextSeq = db.prepare('SELECT min(seq) FROM audit_logs WHERE stream = ? AND seq > ?').pluck();
    for (const stream of streams) {
      for (const note of notes.iterate(stream) as Iterable<string>) verifier.addCheckpoint(note);
      const { lo, hi, start } = resolveRange(db, stream, { fromSeq, toSeq, since, until });
      if (start !== undefined) verifier.startStream(stream, start);
      if (lo > hi) continue;
      // Slices of seq values read with all(): cheaper per row than an
      // iterator. An empty slice jumps to the next stored seq, so a forged
      // far-away seq costs one index seek, not a walk over the gap.
      for (let from = lo; from <= hi;) {
        const to = Math.min(hi, from + READ_SLICE - 1);
        const batch = rows.all(stream, from, to) as RawRow[];
        if (batch.length === 0) {
          const next = nextSeq.get(stream, to) as number | bigint | null;
          if (next === null || next === undefined) break;
          from = Number(next);
          continue;
        }
        from = to + 1;
        for (let r = 0; r < batch.length; r++) {
          const raw = batch[r]!;
          // Fast path: the canonical text straight from the columns; only a
          // row whose text does not hash to its checksum is rebuilt as a
          // record for the verifier's exact path.
          const canonical = rowToCanonical(raw, cipher);
          const seq = typeof raw[1] === 'bigint' ? Number(raw[1]) : (raw[1] as number);
          const id = String(raw[2]);
          const checksum = String(raw[28]);
          if (!verifier.tryAddCanonical(canonical, checksum, { stream: String(raw[0]), seq, id, prev: String(raw[29]), alg: String(raw[3]) })) {
            verifier.addRecord(rowToRecord(raw, cipher, true).record, checksum);
          }
          const time = String(raw[4]);
          const timestamp = String(raw[5]);
          if (!timestampMatches(time, timestamp) && DECIMAL.test(time)) {
            // Listed up to the verifier's per-stream cap; the rest only counted.
            if (extra.length >= MAX_EXTRA) extraOmitted.set(stream, (extraOmitted.get(stream) ?? 0) + 1);
            else extra.push({
              code: 'hash_mismatch', severity: 'error', stream, seq, id, expected: isoFromDecimalNanos(time), actual: timestamp,
              message: `record seq ${seq}: the timestamp column does not match time_unix_nano (it was edited)`,
            });
          }
          done++;
          if (done % every === 0) options.onProgress?.({ stream, records: done });
          if (done % SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    }
  } finally {
    db.exec('COMMIT');
  }
  options.onProgress?.({ stream: '', records: done });
  return merge(verifier.finish(), extra, extraOmitted);
}

/** Add findings the core verifier cannot see (columns outside the record) to the report. */
function merge(report: VerificationReport, extra: readonly Finding[], omitted: ReadonlyMap<string, number>): VerificationReport {
  for (const f of extra) {
    const s = report.streams.find((x) => x.stream === f.stream);
    if (s === undefined) continue;
    s.findings.push(f);
    s.errors++;
    report.errors++;
  }
  for (const [stream, n] of omitted) {
    const s = report.streams.find((x) => x.stream === stream);
    if (s === undefined) continue;
    s.findingsOmitted += n;
    s.errors += n;
    report.errors += n;
  }
  return { ...report, ok: report.errors === 0 };
}

