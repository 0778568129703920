/**
 * Plain-text tables for people (DESIGN §7: readable output on a terminal,
 * `--json` for machines): columns sized to their content, long cells cut
 * with an ellipsis so a row fits the terminal, control characters escaped
 * so a hostile value cannot move the cursor or fake a line.
 */
import { escapeTerminalText } from '@otel-audit/core';

/**
 * One column of a table.
 *
 * @example
 * const seq: Column<StoredRecord> = { header: 'SEQ', value: (r) => r.record.seq, right: true };
 */
export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string | number | undefined | null;
  /** Widest the column may grow (default 60). */
  readonly maxWidth?: number;
  /** Right-align (numbers). */
  readonly right?: boolean;
}

/**
 * Unix nanoseconds as an RFC 3339 UTC time, to the millisecond.
 *
 * @example
 * isoOfNanos(1700000000000000000n) // '2023-11-14T22:13:20.000Z'
 */
export function isoOfNanos(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/**
 * `value` with the characters a terminal acts on shown as escapes (`\n`,
 * `\t`, `\u001b`, `\u202e`: core's `escapeTerminalText`), so text from the
 * input — a stream id, a receiver's error message — cannot move the cursor,
 * retitle the terminal, fake a line or reorder one with a bidi override.
 *
 * @example
 * ctx.stdout.write(`last error: ${escapeControl(status.lastError.message)}\n`);
 */
export function escapeControl(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  return escapeTerminalText(String(value));
}

/**
 * A cell's text: control characters shown as escapes, cut to `max` columns.
 *
 * @example
 * cell('a\nb', 10) // 'a\\nb'
 */
export function cell(value: string | number | undefined | null, max: number): string {
  const text = escapeControl(value);
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/**
 * Renders rows as an aligned table with a header line.
 *
 * @example
 * renderTable([{ header: 'SEQ', value: (r) => r.seq, right: true }], rows)
 */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row), c.maxWidth ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (values: readonly string[]): string =>
    values.map((v, i) => (columns[i]!.right === true ? v.padStart(widths[i]!) : i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/**
 * JSON for `--json`: bigint as decimal strings, two-space indent, newline.
 *
 * @example
 * ctx.stdout.write(toJson(report));
 */
export function toJson(value: unknown, indent = 2): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent)}\n`;
}
