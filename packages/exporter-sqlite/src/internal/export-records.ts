/**
 * Streamed export of records (DESIGN §1 `otel-audit export`): a JSON array,
 * NDJSON or CSV, produced chunk by chunk from one read transaction on a
 * dedicated read-only connection, so memory stays constant whatever the
 * size and the writer is never blocked. Each JSON/NDJSON element is
 * `{ record, checksum, timestamp }`: the record exactly as hashed.
 */
import type Database from 'better-sqlite3';
import { CSV_HEADER, csvLine } from './csv.js';
import { filterToSql, type RecordFilter } from './record-filter.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './row-mapping.js';
import type { RowCipher } from './row-cipher.js';
import { describe } from './describe.js';

/** Formats of {@link exportRecords}; `bundle` is handled by bundle.ts. */
export type RecordExportFormat = 'json' | 'ndjson' | 'csv';

/** Options of a record export: the query filters, an order and a format. */
export interface ExportOptions extends RecordFilter {
  format: RecordExportFormat;
  /** `oldest` (default) or `newest` first. */
  order?: 'newest' | 'oldest';
}

const CHUNK_CHARS = 64 * 1024;
const OPTION_KEYS = new Set(['format', 'order']);

/** A validated export: its format, SQL and parameters. */
export interface PreparedExport {
  format: RecordExportFormat;
  sql: string;
  params: unknown[];
}

/** Validate `options` (throws TypeError/RangeError) and build the statement. */
export function prepareExport(options: ExportOptions, encrypted: boolean): PreparedExport {
  const order = options.order ?? 'oldest';
  if (order !== 'newest' && order !== 'oldest') throw new RangeError(`options.order must be 'newest' or 'oldest'; got ${describe(order)}`);
  const where = filterToSql(options as unknown as Record<string, unknown>, 'options', OPTION_KEYS, encrypted);
  const dir = order === 'newest' ? 'DESC' : 'ASC';
  const sql = `SELECT ${SELECT_LIST} FROM audit_logs${where.terms.length ? ` WHERE ${where.terms.join(' AND ')}` : ''} ORDER BY time_unix_nano ${dir}, log_id ${dir}`;
  return { format: options.format, sql, params: where.params };
}

/** Chunks of the export. */
export async function* exportRecords(reader: Database.Database, cipher: RowCipher | undefined, prepared: PreparedExport, counter: { records: number }): AsyncGenerator<string> {
  const { format, sql, params } = prepared;
  // Integers as BigInts: a forged seq past 2^53 is exported as stored, not rounded (rowToRecord).
  const stmt = reader.prepare(sql).raw().safeIntegers();
  reader.exec('BEGIN');
  try {
    let buf = format === 'json' ? '[' : format === 'csv' ? CSV_HEADER : '';
    let first = true;
    for (const raw of stmt.iterate(...params) as Iterable<RawRow>) {
      const row = rowToRecord(raw, cipher);
      if (format === 'csv') {
        buf += csvLine(row.record, row.checksum, row.timestamp);
      } else {
        const text = JSON.stringify({ record: row.record, checksum: row.checksum, timestamp: row.timestamp });
        buf += format === 'json' ? `${first ? '\n' : ',\n'}${text}` : `${text}\n`;
      }
      first = false;
      counter.records++;
      if (buf.length >= CHUNK_CHARS) {
        yield buf;
        buf = '';
      }
    }
    if (format === 'json') buf += first ? ']\n' : '\n]\n';
    if (buf.length > 0) yield buf;
  } finally {
    reader.exec('COMMIT');
  }
}
