/**
 * CSV rows of exported records: RFC 4180 (CRLF line ends; a field holding a
 * comma, quote, CR or LF is quoted with quotes doubled) and neutralised
 * against spreadsheet formula injection (OWASP "CSV injection"): a cell that
 * begins with `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe, so a
 * spreadsheet shows it as text instead of evaluating it. A field holding a
 * semicolon or a tab is quoted too: spreadsheets in many locales split CSV
 * on `;`, and `x;=cmd…` unquoted would become a cell starting with `=`.
 */
import type { AuditRecord } from '@otel-audit/core';

/** Header of the CSV export: the §6 column names. */
export const CSV_COLUMNS = [
  'event_id', 'timestamp', 'stream', 'seq', 'event_type', 'event_action', 'event_result', 'severity',
  'actor_id', 'actor_type', 'actor_ip', 'actor_user_agent', 'target_type', 'target_id', 'target_name',
  'request_id', 'session_id', 'api_endpoint', 'http_method', 'trace_id', 'span_id', 'details',
  'error_message', 'old_values', 'new_values', 'redacted', 'checksum', 'previous_checksum', 'hash_alg', 'time_unix_nano',
] as const;

const FORMULA = /^[=+\-@\t\r]/;
const QUOTE = /[",;\t\r\n]/;

/** One CSV field, neutralised and quoted as needed. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA.test(s)) s = `'${s}`;
  return QUOTE.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const json = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));

/** The CSV line (with CRLF) of a record. */
export function csvLine(r: AuditRecord, checksum: string, timestamp: string): string {
  const a = r.actor;
  const t = r.target;
  const q = r.request;
  const cells = [
    r.id, timestamp, r.stream, String(r.seq), r.type, r.action, r.outcome, r.severity,
    a?.id, a?.type, a?.ip, a?.user_agent, t?.type, t?.id, t?.name,
    q?.id, q?.session_id, q?.endpoint, q?.method, q?.trace_id, q?.span_id, json(r.details),
    r.error, json(r.old), json(r.new), json(r.redacted), checksum, r.prev, r.alg, r.time,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header line. */
export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;
