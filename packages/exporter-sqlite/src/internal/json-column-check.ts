/**
 * The JSON columns of a row (`details`, `old_values`, `new_values`,
 * `redacted`) as the store writes them: JSON.stringify of the normalised
 * value, whose members are in RFC 8785 order — canonical text, except that
 * JavaScript puts integer-like member names ("0", "17") first. Verification
 * hashes the value JSON.parse reads from a column, so other text for the
 * same value — white space, another member order or number form — still
 * verifies, and so does a member name given twice, where JSON.parse keeps
 * the last value and SQLite's JSON functions (and a text search) the first.
 * Text the store would not write for its value was edited: store
 * verification reports it (`hash_mismatch` naming the column).
 */
import type { Finding } from '@otel-audit/core';
import { RECORD_COLUMNS, type RawRow } from './row-mapping.js';

const JSON_COLUMNS = ['details', 'old_values', 'new_values', 'redacted'].map((name) => RECORD_COLUMNS.indexOf(name as (typeof RECORD_COLUMNS)[number]));

/**
 * The JSON columns of `row` (decrypted) holding one JSON value in other
 * text than the store writes for it. A column that does not parse is left
 * to the record's own checks.
 *
 * @example
 * nonCanonicalJsonColumns(row) // ['details'] for '{"reason":"x","reason":"bad password"}'
 */
export function nonCanonicalJsonColumns(row: RawRow): string[] {
  const found: string[] = [];
  for (const i of JSON_COLUMNS) {
    const v = row[i];
    if (typeof v !== 'string') continue;
    let value: unknown;
    try {
      value = JSON.parse(v);
    } catch {
      continue;
    }
    if (JSON.stringify(inStoreOrder(value)) !== v) found.push(RECORD_COLUMNS[i]!);
  }
  return found;
}

/** `value` with every object's members inserted in RFC 8785 order (UTF-16 code units), as normalisation builds them. */
function inStoreOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(inStoreOrder);
  if (typeof value !== 'object' || value === null) return value;
  // No prototype: a member named "__proto__" stays a member.
  const out = Object.create(null) as Record<string, unknown>;
  const source = value as Record<string, unknown>;
  for (const name of Object.keys(source).sort()) out[name] = inStoreOrder(source[name]);
  return out;
}

/**
 * A `hash_mismatch` for each JSON column of `row` holding text the store
 * does not write (see {@link nonCanonicalJsonColumns}).
 *
 * @example
 * for (const f of jsonColumnFindings(row, 'billing/1', 5, id)) findings.push(f);
 */
export function jsonColumnFindings(row: RawRow, stream: string, seq: number, id: string): Finding[] {
  return nonCanonicalJsonColumns(row).map((column) => ({
    code: 'hash_mismatch', severity: 'error', stream, seq, id, actual: String(row[RECORD_COLUMNS.indexOf(column as never)]).slice(0, 80),
    message: `record seq ${seq}: column ${column} holds JSON text the store does not write for its value (white space, member order, number form or a member name given twice): `
      + 'the value verified is the one JSON.parse reads, and SQLite\'s JSON functions or a text search may read another — the column was edited',
  }));
}
