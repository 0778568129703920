/**
 * One page of records for the query API and the dashboard (DESIGN §6, the
 * seed API's filters): newest- or oldest-first by (`time_unix_nano`,
 * `log_id`), or in the order stored (stored-order.ts), keyset-paginated
 * with an opaque cursor (offset pagination is
 * accepted too, capped), limit 1..1000. The statement is built from fixed
 * fragments and `?` parameters only; prepared statements are cached by
 * shape.
 */
import type Database from 'better-sqlite3';
import { decodeCursor, encodeCursor } from './cursor.js';
import { filterToSql, type RecordFilter } from './record-filter.js';
import { rowToRecord, SELECT_LIST, type RawRow, type StoredRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { describe } from './describe.js';
import { storedPage } from './stored-order.js';

/** A query: filters plus order and paging. */
export interface AuditQuery extends RecordFilter {
  /**
   * `newest` (default) or `oldest` first by time, or `stored`: in the order
   * the store committed them, whatever their times (what a follower reads).
   */
  order?: 'newest' | 'oldest' | 'stored';
  /** Page size, 1..1000. Default 100. */
  limit?: number;
  /** `nextCursor` of the previous page; with order `stored`, also `'end'`: the store's end. */
  cursor?: string;
  /**
   * With order `stored`, instead of `cursor`: start after the record with
   * this id (the last one a follower showed, found again in a file that
   * replaced the one it read). RangeError when the store does not hold it.
   */
  afterId?: string;
  /** Rows to skip, 0..10,000 (prefer `cursor`; not combinable with it). */
  offset?: number;
}

/** A record as stored, with its checksum and its human-readable timestamp. */
export type StoredRecord = Omit<StoredRow, 'logId'>;

/** One page of results. */
export interface AuditQueryPage {
  records: StoredRecord[];
  /**
   * Pass as `cursor` to get the next page; undefined on the last page —
   * except with order `stored`, where the last page has one too: passed
   * later, it returns the records committed since, each once.
   */
  nextCursor: string | undefined;
}

export const MAX_LIMIT = 1_000;
export const MAX_OFFSET = 10_000;
const PAGING = new Set(['order', 'limit', 'cursor', 'offset', 'afterId']);
const DIGITS = /^\d{1,19}$/;

export function queryRecords(db: Database.Database, cache: Map<string, Database.Statement>, cipher: RowCipher | undefined, query: AuditQuery = {}): AuditQueryPage {
  if (typeof query !== 'object' || query === null) throw new TypeError('query must be an object');
  const order = query.order ?? 'newest';
  if (order !== 'newest' && order !== 'oldest' && order !== 'stored') throw new RangeError(`query.order must be 'newest', 'oldest' or 'stored'; got ${describe(order)}`);
  const limit = query.limit ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`query.limit must be an integer in 1..${MAX_LIMIT}; got ${describe(limit)}`);
  const offset = query.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw new RangeError(`query.offset must be an integer in 0..${MAX_OFFSET} (use cursor to page further); got ${describe(offset)}`);
  if (offset > 0 && query.cursor !== undefined) throw new RangeError('query.offset cannot be combined with query.cursor');
  const where = filterToSql(query as Record<string, unknown>, 'query', PAGING, cipher !== undefined);
  if (query.afterId !== undefined && order !== 'stored') throw new RangeError(`query.afterId goes with order 'stored' only; got order ${describe(order)}`);
  if (order === 'stored') return storedPage(db, cache, cipher, where, query, limit, offset);
  const desc = order === 'newest';
  if (query.cursor !== undefined) {
    const key = decodeCursor(query.cursor, order);
    where.terms.push(`(time_unix_nano, log_id) ${desc ? '<' : '>'} (?, ?)`);
    where.params.push(key.time, key.logId);
  }
  const dir = desc ? 'DESC' : 'ASC';
  const sql = `SELECT ${SELECT_LIST} FROM audit_logs${where.terms.length ? ` WHERE ${where.terms.join(' AND ')}` : ''} ORDER BY time_unix_nano ${dir}, log_id ${dir} LIMIT ? OFFSET ?`;
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    // Integers as BigInts: a forged seq past 2^53 is shown as stored, not rounded (rowToRecord).
    stmt = db.prepare(sql).raw().safeIntegers();
    if (cache.size >= 256) cache.clear();
    cache.set(sql, stmt);
  }
  const rows = stmt.all(...where.params, limit + 1, offset) as RawRow[];
  const more = rows.length > limit;
  if (more) rows.pop();
  const records: StoredRecord[] = [];
  let last: StoredRow | undefined;
  let lastTime = 0n;
  for (const raw of rows) {
    const t = String(raw[4]);
    lastTime = DIGITS.test(t) ? BigInt(t) : 0n;
    last = rowToRecord(raw, cipher);
    records.push({ record: last.record, checksum: last.checksum, timestamp: last.timestamp });
  }
  return { records, nextCursor: more && last ? encodeCursor({ order, time: lastTime, logId: last.logId }) : undefined };
}
