/**
 * Stored records for people and machines (DESIGN §6, `otel-audit query` and
 * `tail`): a table with the columns an investigator scans first, JSON of a
 * page, or NDJSON with one `{ record, checksum, timestamp }` per line.
 */
import type { StoredRecord } from '@otel-audit/exporter-sqlite';
import type { Writer } from '../command.js';
import { renderTable, type Column } from './table.js';

/**
 * How records are printed.
 *
 * @example
 * const output: RecordOutput = ctx.json ? 'json' : 'table';
 */
export type RecordOutput = 'table' | 'json' | 'ndjson';

const COLUMNS: readonly Column<StoredRecord>[] = [
  { header: 'TIME', value: (r) => r.timestamp.replace(/(\.\d{3})\d*Z$/, '$1Z') },
  { header: 'STREAM', value: (r) => r.record.stream, maxWidth: 24 },
  { header: 'SEQ', value: (r) => r.record.seq, right: true },
  { header: 'EVENT', value: (r) => `${r.record.type}.${r.record.action}`, maxWidth: 28 },
  { header: 'OUTCOME', value: (r) => r.record.outcome },
  { header: 'SEVERITY', value: (r) => r.record.severity },
  { header: 'ACTOR', value: (r) => r.record.actor?.id, maxWidth: 24 },
  { header: 'TARGET', value: (r) => (r.record.target ? [r.record.target.type, r.record.target.id].filter(Boolean).join(':') : undefined), maxWidth: 24 },
  { header: 'REQUEST', value: (r) => (r.record.request ? [r.record.request.method, r.record.request.endpoint].filter(Boolean).join(' ') : undefined), maxWidth: 32 },
  { header: 'ID', value: (r) => r.record.id },
];

/**
 * The records as a table.
 *
 * @example
 * ctx.stdout.write(recordTable(page.records));
 */
export function recordTable(records: readonly StoredRecord[]): string {
  return renderTable(COLUMNS, records);
}

/**
 * Writes `records` in `output` form (`json` is handled by the caller, who
 * knows the page around them).
 *
 * @example
 * writeRecords(ctx.stdout, 'ndjson', page.records);
 */
export function writeRecords(out: Writer, output: Exclude<RecordOutput, 'json'>, records: readonly StoredRecord[], header = true): void {
  if (output === 'ndjson') {
    for (const r of records) out.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (records.length === 0) return;
  const text = recordTable(records);
  out.write(header ? text : text.slice(text.indexOf('\n') + 1));
}
