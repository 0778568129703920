/**
 * Verifiable export bundles (DESIGN §4.4 "on export bundles"): a JSON
 * document holding, per stream, a contiguous seq range of records with their
 * checksums, the signed checkpoints that fall in it, where it starts — the
 * Merkle compact range and `prev` at its first seq — and, when records
 * follow the range in the store, what follows it: the next record's `prev`
 * and the stored checksums up to the first checkpoint that covers the range,
 * which the bundle then carries too (version 2). So an auditor can verify it
 * with the public key alone, without the database, and a record of the range
 * rewritten with a fresh checksum does not pass. A range whose start the
 * stored rows before it cannot give (a seq stored twice or no integer, a
 * record missing: see `startAt`) is refused with `BundleExportError`, as
 * such rows are no record a bundle could carry. The same layout, as NDJSON,
 * is what retention archives hold (archive.ts).
 */
import { Verifier, type CompactRangeState, type HashAlgorithm, type Keyring, type VerificationReport } from '@otel-audit/core';
import type Database from 'better-sqlite3';
import { BundleExportError, BundleFormatError } from './errors.js';
import { rowToRecord, SELECT_LIST, type RawRow } from './internal/row-mapping.js';
import type { RowCipher } from './internal/row-cipher.js';
import { listStreams } from './internal/stored-streams.js';
import { notesByOrigin, sourceOf, type KeptCheckpoint } from './internal/witness-notes.js';
import { endAfter, resolveRange, type End, type RangeBounds, type StreamRange } from './internal/stream-start.js';
import { toNanos, type TimeInput } from './internal/time-input.js';
import { describe } from './internal/describe.js';

/**
 * The `format` member of a bundle.
 *
 * @example
 * JSON.parse(text).format === BUNDLE_FORMAT
 */
export const BUNDLE_FORMAT = 'otel-audit-bundle';

/** One stream of a bundle. */
export interface BundleStream {
  stream: string;
  alg: HashAlgorithm;
  /** Where the records start when they do not start at seq 0. */
  start: { seq: number; prev: string; compactRange: CompactRangeState } | null;
  /** Signed checkpoint notes whose size lies within the bundle's range, or up to the first one covering it when `end` is given. */
  checkpoints: string[];
  records: { record: Record<string, unknown>; checksum: string }[];
  /**
   * Version 2, when records follow the range in the store: the stored
   * `prev` of the next record and the stored checksums of the records after
   * the range up to the first checkpoint that covers it (core's StreamEnd).
   */
  end?: { prev: string; hashes: string[] };
}

/** A parsed bundle. */
export interface AuditBundle {
  format: typeof BUNDLE_FORMAT;
  /** 1, or 2 when a stream carries `end`. */
  version: 1 | 2;
  exportedAt: string;
  streams: BundleStream[];
}

/** Options of a bundle export: whole streams, or a seq or time range of each. */
export interface BundleExportOptions {
  format: 'bundle';
  /** Default: every stream. */
  streams?: readonly string[];
  fromSeq?: number;
  /** Inclusive. */
  toSeq?: number;
  since?: TimeInput;
  until?: TimeInput;
}

/** Validate bundle options into range bounds. */
export function bundleBounds(o: BundleExportOptions): RangeBounds {
  for (const key of Object.keys(o)) {
    if (!['format', 'streams', 'fromSeq', 'toSeq', 'since', 'until'].includes(key)) throw new RangeError(`options.${key} is not an option of a bundle export (streams, fromSeq, toSeq, since, until)`);
  }
  if (o.streams !== undefined && (!Array.isArray(o.streams) || o.streams.some((x) => typeof x !== 'string'))) throw new TypeError('options.streams must be an array of stream ids');
  for (const k of ['fromSeq', 'toSeq'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`options.${k} must be a non-negative integer; got ${describe(v)}`);
  }
  return { fromSeq: o.fromSeq, toSeq: o.toSeq, since: toNanos(o.since, 'options.since'), until: toNanos(o.until, 'options.until') };
}

/** Chunks of the bundle JSON for the given streams and bounds. */
export async function* exportBundle(reader: Database.Database, cipher: RowCipher | undefined, streams: readonly string[] | undefined, bounds: RangeBounds, counter: { records: number }): AsyncGenerator<string> {
  reader.exec('BEGIN');
  try {
    const names = streams ?? listStreams(reader);
    const rows = reader.prepare(`SELECT ${SELECT_LIST} FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ? ORDER BY seq, log_id`).raw();
    const notes = reader.prepare('SELECT note FROM audit_checkpoints WHERE stream = ? AND size >= ? AND size <= ? ORDER BY size').pluck();
    const algOf = reader.prepare('SELECT hash_alg FROM audit_stream_heads WHERE stream = ?').pluck();
    const lastSeqIn = reader.prepare('SELECT max(seq) FROM audit_logs WHERE stream = ? AND seq >= ? AND seq <= ?').pluck();
    // Ranges and what follows them first: the version depends on whether any stream carries an end.
    const ranges = names.map((stream): [string, StreamRange, End | undefined] => {
      const range = resolveRange(reader, stream, bounds);
      // Rows before the range that break its start are no record a bundle can carry as such: refused, as verify reports them.
      if (range.obstacle !== undefined) {
        throw new BundleExportError(stream, `stream "${stream}": a bundle of the range asked has no verifiable start, because the rows before it are not one record per seq: ${range.obstacle}`);
      }
      const last = lastSeqIn.get(stream, range.lo, range.hi) as number | bigint | null;
      return [stream, range, last === null || last === undefined ? undefined : endAfter(reader, stream, Number(last))];
    });
    const version = ranges.some(([, , end]) => end !== undefined) ? 2 : 1;
    let buf = `{"format":"${BUNDLE_FORMAT}","version":${version},"exportedAt":"${new Date().toISOString()}","streams":[`;
    for (const [i, [stream, { lo, hi, start }, after]] of ranges.entries()) {
      const alg = start?.alg ?? algOf.get(stream) ?? 'sha256';
      const startJson = start ? JSON.stringify({ seq: start.seq, prev: start.prev, compactRange: start.compactRange }) : 'null';
      buf += `${i === 0 ? '' : ','}\n{"stream":${JSON.stringify(stream)},"alg":${JSON.stringify(alg)},"start":${startJson},"records":[`;
      let end = start?.seq ?? 0;
      let first = true;
      for (const raw of rows.iterate(stream, lo, hi) as Iterable<RawRow>) {
        const row = rowToRecord(raw, cipher);
        buf += `${first ? '\n' : ',\n'}${JSON.stringify({ record: row.record, checksum: row.checksum })}`;
        first = false;
        end = row.record.seq + 1;
        counter.records++;
        if (buf.length >= CHUNK_CHARS) {
          yield buf;
          buf = '';
        }
      }
      const cps = notes.all(stream, start?.seq ?? 0, after?.checkpointSize ?? end) as string[];
      buf += `],"checkpoints":${JSON.stringify(cps)}${after ? `,"end":${JSON.stringify({ prev: after.prev, hashes: after.hashes })}` : ''}}`;
    }
    yield `${buf}\n]}\n`;
  } finally {
    reader.exec('COMMIT');
  }
}

const CHUNK_CHARS = 64 * 1024;

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions {
  /**
   * Checkpoint notes kept apart from the bundle (a witness's saved copy),
   * checked as if the bundle carried them: one covering more records than
   * the bundle reaches is `truncated`. A stream they name that the bundle
   * lacks is verified as empty. A `source` (the file they came from) is
   * named in their findings.
   */
  checkpoints?: readonly (string | KeptCheckpoint)[];
}

/**
 * Verify a bundle on its own: every stream from its declared start, against
 * its checkpoints (and `options.checkpoints`) and `keyring`. Tampering is
 * reported; only a container that is not a bundle at all throws
 * `BundleFormatError`.
 *
 * @example
 * const report = verifyBundle(fs.readFileSync('export.json', 'utf8'), Keyring.from([verifierKey]));
 * if (!report.ok) console.error(report.streams.flatMap((s) => s.findings));
 */
export function verifyBundle(bundle: string | Uint8Array | AuditBundle, keyring?: Keyring, options: VerifyBundleOptions = {}): VerificationReport {
  const witness = notesByOrigin(options.checkpoints);
  let doc: unknown = bundle;
  if (typeof bundle === 'string' || bundle instanceof Uint8Array) {
    try {
      doc = JSON.parse(typeof bundle === 'string' ? bundle : Buffer.from(bundle).toString('utf8'));
    } catch (e) {
      throw new BundleFormatError(`bundle is not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  const b = doc as Partial<AuditBundle>;
  if (typeof b !== 'object' || b === null || b.format !== BUNDLE_FORMAT) throw new BundleFormatError(`bundle must be a JSON object with "format": "${BUNDLE_FORMAT}"`);
  if (b.version !== 1 && b.version !== 2) throw new BundleFormatError(`bundle version ${describe(b.version)} is not supported (expected 1 or 2)`);
  if (!Array.isArray(b.streams)) throw new BundleFormatError('bundle.streams must be an array');
  const v = new Verifier(keyring ? { keyring } : {});
  for (const [i, s] of b.streams.entries()) {
    if (typeof s !== 'object' || s === null || typeof s.stream !== 'string' || !Array.isArray(s.records) || !Array.isArray(s.checkpoints)) {
      throw new BundleFormatError(`bundle.streams[${i}] must be { stream, alg, start, checkpoints: [], records: [] }`);
    }
    const carried = s.checkpoints.map((note) => (typeof note === 'string' ? note : JSON.stringify(note)));
    for (const note of carried) v.addCheckpoint(note);
    // Kept apart: copies of the bundle's own notes are not counted twice.
    const own = new Set(carried);
    for (const k of witness.get(s.stream) ?? []) if (!own.has(k.note)) v.addCheckpoint(k.note, sourceOf(k));
    witness.delete(s.stream);
    if (s.start !== null && s.start !== undefined) {
      try {
        v.startStream(s.stream, { alg: s.alg, prev: s.start.prev, compactRange: s.start.compactRange });
      } catch (e) {
        throw new BundleFormatError(`bundle.streams[${i}].start is not a valid start: ${(e as Error).message}`, { cause: e });
      }
    }
    for (const r of s.records) {
      const rec = (r as { record?: unknown })?.record;
      // Not an object: hand the verifier an empty one, which it reports as
      // malformed (core's addRecord throws on the JSON text "null").
      v.addRecord(typeof rec === 'object' && rec !== null && !Array.isArray(rec) ? rec : {}, (r as { checksum?: string })?.checksum);
    }
    if (s.end !== undefined && s.end !== null) {
      try {
        v.endStream(s.stream, s.end);
      } catch (e) {
        throw new BundleFormatError(`bundle.streams[${i}].end is not a valid end: ${(e as Error).message}`, { cause: e });
      }
    }
  }
  // Streams the bundle lacks, and notes that name none.
  for (const kept of witness.values()) for (const k of kept) v.addCheckpoint(k.note, sourceOf(k));
  return v.finish();
}
