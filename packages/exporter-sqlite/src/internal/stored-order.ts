/**
 * Query pages in the order the store committed the records (DESIGN §6;
 * `query({ order: 'stored' })`), whatever their times: by `log_id`, the
 * rowid SQLite gives each row at insert. Writes are serialised (one writer
 * at a time) and a new row gets the largest rowid plus one, so a record
 * committed later always sorts after one committed earlier — unlike
 * `time_unix_nano`, which a wall clock stepped back, or one record dated a
 * day ahead, puts out of commit order. This is what a follower (`tail -f`)
 * reads: every page has a cursor, the last one too, holding the position
 * up to which the store was read (past the rows the filters skipped), so a
 * later call with it returns each record committed since, once.
 * `cursor: 'end'` starts at the store's end; `afterId` after a record.
 */
import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor } from './cursor.js';
import { describe } from './describe.js';
import type { AuditQuery, AuditQueryPage, StoredRecord } from './query-records.js';
import type { RowCipher } from './row-cipher.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './row-mapping.js';

/** The `cursor` that starts a stored-order query at the store's end. */
export const STORE_END = 'end';

const END_SQL = 'SELECT COALESCE(MAX(log_id), 0) FROM audit_logs';
const ID_SQL = 'SELECT log_id FROM audit_logs WHERE event_id = ?';

function prepared(db: Database.Database, cache: Map<string, Database.Statement>, sql: string, raw: boolean): Database.Statement {
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    // Integers as BigInts for records: a forged seq past 2^53 is shown as stored, not rounded (rowToRecord).
    stmt = raw ? db.prepare(sql).raw().safeIntegers() : db.prepare(sql).pluck();
    if (cache.size >= 256) cache.clear();
    cache.set(sql, stmt);
  }
  return stmt;
}

/** The position `query` starts after: its cursor's, the store's `end` for {@link STORE_END}, its `afterId` record's; 0 for none. */
function startOf(db: Database.Database, cache: Map<string, Database.Statement>, query: Pick<AuditQuery, 'cursor' | 'afterId'>, end: number): number {
  if (query.afterId === undefined) return query.cursor === STORE_END ? end : query.cursor === undefined ? 0 : decodeCursor(query.cursor, 'stored').logId;
  if (query.cursor !== undefined) throw new RangeError('query.afterId cannot be combined with query.cursor');
  if (typeof query.afterId !== 'string') throw new TypeError(`query.afterId must be a record id (a string); got ${describe(query.afterId)}`);
  const at = prepared(db, cache, ID_SQL, false).get(query.afterId);
  if (at === undefined) throw new RangeError(`query.afterId ${describe(query.afterId)} is not a record of this store; start with cursor 'end' or without a cursor`);
  return Number(at);
}

/**
 * One page of the records matching `where`, in stored order, after the
 * position `query` names (its `cursor`, undefined for the start and
 * {@link STORE_END} for the end, or its `afterId`).
 */
export function storedPage(
  db: Database.Database, cache: Map<string, Database.Statement>, cipher: RowCipher | undefined,
  where: { terms: string[]; params: unknown[] }, query: Pick<AuditQuery, 'cursor' | 'afterId'>, limit: number, offset: number,
): AuditQueryPage {
  // The end is read first: every row up to it is committed already (no row is given a rowid below a
  // committed one), so the page, even if read in a later snapshot, holds every match up to it.
  const end = Number(prepared(db, cache, END_SQL, false).get());
  const after = startOf(db, cache, query, end);
  const terms = [...where.terms, 'log_id > ?', 'log_id <= ?'];
  const sql = `SELECT ${SELECT_LIST} FROM audit_logs WHERE ${terms.join(' AND ')} ORDER BY log_id LIMIT ? OFFSET ?`;
  const rows = prepared(db, cache, sql, true).all(...where.params, after, end, limit + 1, offset) as RawRow[];
  const more = rows.length > limit;
  if (more) rows.pop();
  const records: StoredRecord[] = [];
  let position = end;
  for (const raw of rows) {
    const row = rowToRecord(raw, cipher);
    records.push({ record: row.record, checksum: row.checksum, timestamp: row.timestamp });
    position = row.logId;
  }
  // A full page resumes after its last row; otherwise at the end read, past the rows the filters skipped.
  // When the end lies below `after`, the rows between were deleted: a row given one of those ids later is new.
  return { records, nextCursor: encodeCursor({ order: 'stored', time: 0n, logId: more ? position : end }) };
}
