/**
 * A plain read of one stream's records by seq (DESIGN §6; what the
 * dashboard's live stream of §9 fetches each poll): the rows of the stream
 * whose seq lies in a range, in seq order, found through the
 * `(stream, seq)` index — so a read costs the records it returns, however
 * long the stream. Unlike a bundle export it builds no verification start
 * (stream-start.ts extends the last archive's compact range with every
 * stored checksum up to the range) and proves nothing on its own: each
 * record comes with its stored checksum and timestamp, decrypted, as
 * `query` returns it.
 */
import type Database from 'better-sqlite3';
import { describe } from './describe.js';
import type { StoredRecord } from './query-records.js';
import type { RowCipher } from './row-cipher.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './row-mapping.js';

/** Options of `SqliteAuditStore.readStream`. */
export interface StreamReadOptions {
  /** First seq, inclusive. Default 0. */
  fromSeq?: number;
  /** Last seq, inclusive. Default: the stream's end. */
  toSeq?: number;
  /** Most records returned, 1..10,000. Default 100. */
  limit?: number;
}

/** Most records one read returns. */
export const MAX_READ_LIMIT = 10_000;

// `ORDER BY seq, log_id` is the index's own order (log_id is its rowid), so
// SQLite reads the range and stops at LIMIT, without a sort (test
// read-stream.test.ts checks the plan).
export const READ_STREAM_SQL = `SELECT ${SELECT_LIST} FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ? ORDER BY seq, log_id LIMIT ?`;

function seqOption(v: unknown, name: string): number | undefined {
  if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new RangeError(`${name} must be a non-negative integer; got ${describe(v)}`);
  return v as number | undefined;
}

/** The records of `stream` with seq in the range of `options`, oldest first. */
export function readStream(db: Database.Database, cache: Map<string, Database.Statement>, cipher: RowCipher | undefined, stream: string, options: StreamReadOptions = {}): StoredRecord[] {
  if (typeof stream !== 'string') throw new TypeError(`stream must be a string; got ${describe(stream)}`);
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be { fromSeq?, toSeq?, limit? }');
  for (const key of Object.keys(options)) {
    if (key !== 'fromSeq' && key !== 'toSeq' && key !== 'limit') throw new RangeError(`options.${key} is not an option of readStream (fromSeq, toSeq, limit)`);
  }
  const from = seqOption(options.fromSeq, 'options.fromSeq') ?? 0;
  const to = seqOption(options.toSeq, 'options.toSeq') ?? Number.MAX_SAFE_INTEGER;
  const limit = options.limit ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) throw new RangeError(`options.limit must be an integer in 1..${MAX_READ_LIMIT}; got ${describe(limit)}`);
  let stmt = cache.get(READ_STREAM_SQL);
  if (stmt === undefined) {
    // Integers as BigInts: a forged seq past 2^53 is shown as stored, not rounded (rowToRecord).
    stmt = db.prepare(READ_STREAM_SQL).raw().safeIntegers();
    cache.set(READ_STREAM_SQL, stmt);
  }
  const records: StoredRecord[] = [];
  for (const raw of stmt.all(stream, from, to, limit) as RawRow[]) {
    const { record, checksum, timestamp } = rowToRecord(raw, cipher);
    records.push({ record, checksum, timestamp });
  }
  return records;
}
