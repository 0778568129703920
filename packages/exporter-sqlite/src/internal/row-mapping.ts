/**
 * The column ↔ record mapping of DESIGN §6: `recordToRow` turns a sealed
 * record into the positional parameters of the insert, `rowToRecord`
 * rebuilds the exact §4.1 record object from a row (SQL NULL = member
 * absent; `time_unix_nano` INTEGER ↔ `time` decimal string, read as BigInt;
 * JSON columns parsed). The verifier hashes what `rowToRecord` returns, so a
 * changed column shows up as a changed record. A column that cannot be read
 * back (invalid JSON, ciphertext that fails authentication) is passed on as
 * its raw text, which then fails the hash — tampering is reported, not thrown.
 */
import type { AuditRecord } from '@otel-audit/core';
import { EncryptionKeyError } from '../errors.js';
import type { RowCipher } from './row-cipher.js';

/** Columns of a stored record, in the order of INSERT and SELECT. */
export const RECORD_COLUMNS = [
  'stream', 'seq', 'event_id', 'hash_alg', 'time_unix_nano', 'timestamp', 'event_type', 'event_action',
  'event_result', 'severity', 'actor_id', 'actor_type', 'actor_ip', 'actor_user_agent', 'target_type',
  'target_id', 'target_name', 'request_id', 'session_id', 'api_endpoint', 'http_method', 'trace_id',
  'span_id', 'details', 'error_message', 'old_values', 'new_values', 'redacted', 'checksum',
  'previous_checksum', 'enc_key_id',
] as const;

/**
 * SELECT list: the record columns, then `log_id` (the keyset tiebreaker).
 * `time_unix_nano` is read as its decimal text — exact for any 64-bit value
 * and cheaper than reading every integer as a BigInt (bench sqlite-verify).
 */
export const SELECT_LIST = `${RECORD_COLUMNS.map((c) => (c === 'time_unix_nano' ? 'CAST(time_unix_nano AS TEXT)' : c)).join(', ')}, log_id`;

/** A raw row as returned by a `raw()` statement over SELECT_LIST. */
export type RawRow = unknown[];

const C_USER_AGENT = 13;
const C_DETAILS = 23;
const C_OLD = 25;
const C_NEW = 26;
/** Index of `enc_key_id` in a raw row of {@link SELECT_LIST}. */
export const C_KEY = 30;

/** A record rebuilt from its row. */
export interface StoredRow {
  record: AuditRecord;
  /** The `checksum` column. */
  checksum: string;
  /** The `timestamp` column (ISO-8601, not hashed). */
  timestamp: string;
  /** `log_id`, the row's insertion-order key. */
  logId: number;
}

/**
 * ISO-8601 with nanoseconds of a Unix-nanosecond time, e.g.
 * `2023-11-14T22:13:20.000000001Z`.
 */
export function isoFromNanos(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

let lastSecond = '';
let lastPrefix = '';

/**
 * {@link isoFromNanos} of a decimal-string time, caching the date part of
 * the last second: records arrive in time order, so consecutive records
 * mostly share it (saves ~1 µs per record on the append path, bench
 * sqlite-append).
 */
export function isoFromDecimalNanos(time: string): string {
  const t = time.length >= 10 ? time : time.padStart(10, '0');
  const second = t.slice(0, -9);
  if (second !== lastSecond) {
    lastPrefix = new Date(Number(second) * 1000).toISOString().slice(0, 19);
    lastSecond = second;
  }
  return `${lastPrefix}.${t.slice(-9)}Z`;
}

let checkedDay = NaN;
let checkedDayPrefix = '';

/** Whether `text` holds the two digits of `value` (0..99) at `at`. */
function twoDigitsAt(text: string, at: number, value: number): boolean {
  return text.charCodeAt(at) === 48 + ((value / 10) | 0) && text.charCodeAt(at + 1) === 48 + (value % 10);
}

/**
 * Whether the `timestamp` column is {@link isoFromDecimalNanos} of the
 * `time_unix_nano` text, compared digit by digit against the time's day
 * (cached), hours, minutes, seconds and nanoseconds instead of building the
 * string for each row: records of a store are seconds apart, so a cache of
 * the last second misses on most rows (~5% of bench sqlite-verify). Times
 * outside years 1970..9999 take the exact comparison.
 */
export function timestampMatches(time: string, timestamp: string): boolean {
  const n = time.length;
  if (n >= 10 && n <= 19 && timestamp.length === 30) {
    let sec = 0;
    for (let i = 0; i < n - 9; i++) {
      const c = time.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return false;
      sec = sec * 10 + c;
    }
    const day = Math.floor(sec / 86_400);
    if (day < 2_932_897 /* 10000-01-01 */) {
      if (day !== checkedDay) {
        checkedDayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
        checkedDay = day;
      }
      if (!timestamp.startsWith(checkedDayPrefix)) return false;
      const sod = sec - day * 86_400;
      if (!twoDigitsAt(timestamp, 11, (sod / 3600) | 0) || !twoDigitsAt(timestamp, 14, ((sod % 3600) / 60) | 0) || !twoDigitsAt(timestamp, 17, sod % 60)) return false;
      if (timestamp.charCodeAt(13) !== 58 /* : */ || timestamp.charCodeAt(16) !== 58 || timestamp.charCodeAt(19) !== 46 /* . */ || timestamp.charCodeAt(29) !== 90 /* Z */) return false;
      for (let i = 0; i < 9; i++) {
        const c = time.charCodeAt(n - 9 + i);
        if (c !== timestamp.charCodeAt(20 + i) || c < 48 || c > 57) return false;
      }
      return true;
    }
  }
  return DECIMAL_TIME.test(time) && timestamp === isoFromDecimalNanos(time);
}

const DECIMAL_TIME = /^\d{1,19}$/;

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** The INSERT parameters of a sealed record, in RECORD_COLUMNS order. */
export function recordToRow(r: AuditRecord, checksum: string, cipher: RowCipher | undefined): unknown[] {
  const time = BigInt(r.time);
  const timestamp = isoFromDecimalNanos(r.time);
  const a = r.actor;
  const t = r.target;
  const q = r.request;
  let ua: string | null = a?.user_agent ?? null;
  let details = json(r.details);
  let oldValues = json(r.old);
  let newValues = json(r.new);
  let keyId: string | null = null;
  if (cipher !== undefined) {
    keyId = cipher.keyId;
    if (ua !== null) ua = cipher.seal(ua, r.id, 'actor_user_agent');
    if (details !== null) details = cipher.seal(details, r.id, 'details');
    if (oldValues !== null) oldValues = cipher.seal(oldValues, r.id, 'old_values');
    if (newValues !== null) newValues = cipher.seal(newValues, r.id, 'new_values');
  }
  return [
    r.stream, r.seq, r.id, r.alg, time, timestamp, r.type, r.action, r.outcome, r.severity,
    a?.id ?? null, a?.type ?? null, a?.ip ?? null, ua,
    t?.type ?? null, t?.id ?? null, t?.name ?? null,
    q?.id ?? null, q?.session_id ?? null, q?.endpoint ?? null, q?.method ?? null, q?.trace_id ?? null, q?.span_id ?? null,
    details, r.error ?? null, oldValues, newValues, r.redacted === undefined ? null : JSON.stringify(r.redacted),
    checksum, r.prev, keyId,
  ];
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : String(v);
}

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
}

/**
 * The `seq` column as stored, for a record a person or a verifier will
 * read: an integer of the safe range as a number; what no record holds (an
 * integer past 2^53 read as a BigInt, TEXT, a BLOB) as its exact text, so a
 * forged seq shows as written (`9007199254740993`, `x`) rather than as a
 * rounded number or NaN, and hashes as what it is. A REAL stays a number
 * (2.5).
 */
function seqOf(v: unknown): unknown {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString('hex')}'`;
  return v === null || v === undefined ? null : text(v);
}

/** Parse a JSON column; its raw text if it is not JSON (so the hash fails). */
function parsed(v: unknown): unknown {
  const s = text(v);
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function sub(row: RawRow, pairs: readonly (readonly [string, number])[]): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [name, i] of pairs) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    (out ??= {})[name] = text(v);
  }
  return out;
}

// Members in RFC 8785 order, as normalizeRecord builds them. Any order
// hashes the same (the verifier canonicalizes); this one leaves its key sort
// the least work.
const ACTOR = [['id', 10], ['ip', 12], ['type', 11], ['user_agent', 13]] as const;
const TARGET = [['id', 15], ['name', 16], ['type', 14]] as const;
const REQUEST = [['endpoint', 19], ['id', 17], ['method', 20], ['session_id', 18], ['span_id', 22], ['trace_id', 21]] as const;

/** Decrypt the sealed columns of `row` in place; altered ciphertext stays as is. */
function openRow(row: RawRow, cipher: RowCipher | undefined): void {
  const keyId = row[C_KEY];
  if (keyId === null || keyId === undefined) return;
  const id = text(keyId);
  if (cipher === undefined) {
    throw new EncryptionKeyError(id, `the audit store holds rows encrypted with key id "${id}"; open it with the encryption option to read or verify them`);
  }
  const eventId = text(row[2]);
  for (const [i, column] of [[C_USER_AGENT, 'actor_user_agent'], [C_DETAILS, 'details'], [C_OLD, 'old_values'], [C_NEW, 'new_values']] as const) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    const plain = cipher.open(text(v), id, eventId, column);
    if (plain !== undefined) row[i] = plain;
  }
}

/** Rebuild the §4.1 record (and its stored checksum) from a raw row. `opened`: its sealed columns are already decrypted. */
export function rowToRecord(row: RawRow, cipher: RowCipher | undefined, opened = false): StoredRow {
  if (!opened) openRow(row, cipher);
  // Built in RFC 8785 member order (see ACTOR above).
  const r: Record<string, unknown> = { action: text(row[7]) };
  const actor = sub(row, ACTOR);
  if (actor) r.actor = actor;
  r.alg = text(row[3]);
  if (row[23] !== null) r.details = parsed(row[23]);
  if (row[24] !== null) r.error = text(row[24]);
  r.id = text(row[2]);
  if (row[26] !== null) r.new = parsed(row[26]);
  if (row[25] !== null) r.old = parsed(row[25]);
  r.outcome = text(row[8]);
  r.prev = text(row[29]);
  if (row[27] !== null) r.redacted = parsed(row[27]);
  const request = sub(row, REQUEST);
  if (request) r.request = request;
  r.seq = seqOf(row[1]);
  r.severity = text(row[9]);
  r.stream = text(row[0]);
  const target = sub(row, TARGET);
  if (target) r.target = target;
  r.time = text(row[4]);
  r.type = text(row[6]);
  r.v = 1;
  return { record: r as unknown as AuditRecord, checksum: text(row[28]), timestamp: text(row[5]), logId: num(row[31]) };
}

// Strings without quotes, backslashes, control characters or surrogates
// are their own JSON text between quotes; testing for those first halves
// the cost of building a row's text (bench/sqlite-verify).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : text(v);
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** `,"name":"value"` for a present text column, '' for NULL. `prefix` is `,"name":`. */
function member(prefix: string, v: unknown): string {
  return v === null || v === undefined ? '' : prefix + quote(v);
}

function subText(name: string, row: RawRow, pairs: readonly (readonly [string, number])[]): string {
  let inner = '';
  for (const [key, i] of pairs) {
    const v = row[i];
    if (v === null || v === undefined) continue;
    inner += (inner === '' ? '"' : ',"') + key + '":' + quote(v);
  }
  return inner === '' ? '' : ',"' + name + '":{' + inner + '}';
}

/** `,"name":<stored JSON text>` for a present JSON column, '' for NULL. `prefix` is `,"name":`. */
function jsonMember(prefix: string, v: unknown): string {
  return v === null || v === undefined ? '' : prefix + text(v);
}

/**
 * Whether `text` is one JSON value as far as its top level goes: strings
 * closed, brackets never closed below the start and all closed at the end,
 * no `,` or `:` outside them. Not a JSON validator — the hash is one: pasted
 * at its member's place into text that hashes to the row's checksum (valid
 * canonical JSON, where each member value is followed by `,` or `}`), a
 * column passing this is exactly its member's value. One failing it may
 * hold members spliced in from emptied columns: details
 * `{"i":3},"error":"bad password"` beside a NULL error_message pastes to the
 * original record's text.
 * A linear scan (strings skipped with indexOf), not JSON.parse: ~0.2 µs
 * against ~0.75 µs for the 122-character details of bench sqlite-verify's
 * rows (timed apart), where a row takes ~11 µs to verify.
 */
export function isOneJsonValue(text: string): boolean {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // To the closing quote: the first one not escaped by an odd run of backslashes.
      for (;;) {
        const j = text.indexOf('"', i + 1);
        if (j < 0) return false;
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c /* \ */) k--;
        i = j;
        if ((j - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (--depth < 0) return false;
    } else if ((c === 0x2c /* , */ || c === 0x3a /* : */) && depth === 0) {
      return false;
    }
  }
  return n > 0 && depth === 0;
}

/** A JSON column that is NULL or one JSON value (see {@link isOneJsonValue}). */
function pastable(v: unknown): boolean {
  return v === null || v === undefined || isOneJsonValue(text(v));
}

/**
 * The row as RFC 8785 text, built straight from the columns (after
 * decrypting the sealed ones in place): member order fixed, text columns
 * JSON-quoted, JSON columns spliced as stored — they are written canonical,
 * so for an untouched row this is exactly the text that was hashed. For a
 * touched row it is merely some text whose hash will not match, and the
 * verifier is then given the rebuilt record instead (store-verify.ts).
 * Undefined — take the rebuilt record — when pasting could move text across
 * columns: a JSON column that is not one JSON value, or a seq that is not a
 * number (it is pasted unquoted).
 */
export function rowToCanonical(row: RawRow, cipher: RowCipher | undefined): string | undefined {
  openRow(row, cipher);
  const seq = row[1];
  if ((typeof seq !== 'number' && typeof seq !== 'bigint') || !pastable(row[23]) || !pastable(row[25]) || !pastable(row[26]) || !pastable(row[27])) {
    return undefined;
  }
  return (
    '{"action":' + quote(row[7]) +
    subText('actor', row, ACTOR) +
    member(',"alg":', row[3]) +
    jsonMember(',"details":', row[23]) +
    member(',"error":', row[24]) +
    member(',"id":', row[2]) +
    jsonMember(',"new":', row[26]) +
    jsonMember(',"old":', row[25]) +
    member(',"outcome":', row[8]) +
    member(',"prev":', row[29]) +
    jsonMember(',"redacted":', row[27]) +
    subText('request', row, REQUEST) +
    ',"seq":' + text(seq) +
    member(',"severity":', row[9]) +
    member(',"stream":', row[0]) +
    subText('target', row, TARGET) +
    member(',"time":', row[4]) +
    member(',"type":', row[6]) +
    ',"v":1}'
  );
}
