/**
 * Retention archives (DESIGN §6): a whole per-stream prefix of the log,
 * stored in `audit_log_archives` as gzip of NDJSON lines
 * `{ record, checksum }`, with its SHA-256, first and last seq, the Merkle
 * compact range at its start and at the cut, and the signed checkpoint at
 * the cut. `verifyArchive` checks one on its own: the SHA-256, then every
 * record from the start range up to the cut, against the checkpoint — so an
 * archive moved off the database can still prove its contents. The
 * checkpoint must be the archive stream's at the cut (size lastSeq + 1): an
 * earlier one leaves the records after it vouched for by nothing, and every
 * record must be of the archive's stream.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { checkpointOfNote, Verifier, type CompactRangeState, type Finding, type HashAlgorithm, type Keyring, type VerificationReport } from '@otel-audit/core';

/** An archive's description (without its data). */
export interface ArchiveInfo {
  archiveId: number;
  stream: string;
  alg: HashAlgorithm;
  firstSeq: number;
  lastSeq: number;
  records: number;
  /** Unix nanoseconds of the first and last record. */
  firstTimeUnixNano: bigint;
  lastTimeUnixNano: bigint;
  /** `prev` of the first record. */
  prev: string;
  /** Checksum of the last record. */
  lastChecksum: string;
  /** Compact range over [0, firstSeq). */
  startCompactRange: CompactRangeState;
  /** Compact range over [0, lastSeq + 1): the cut. */
  compactRange: CompactRangeState;
  /** The signed checkpoint at size lastSeq + 1. */
  checkpoint: string;
  /** Lowercase hex SHA-256 of `data` as stored. */
  sha256: string;
  /** Set when the archive's rows were purged from the log. */
  purged: boolean;
}

/** An archive with its data: gzip of NDJSON `{ record, checksum }` lines. */
export interface AuditArchive extends ArchiveInfo {
  data: Buffer;
}

function finding(stream: string, code: Finding['code'], message: string, extra: Partial<Finding> = {}): Finding {
  return { code, severity: 'error', stream, message, ...extra };
}

/**
 * The archive's description (record count, first and last time, last
 * checksum: unsigned columns that retention and `purgedRanges` go by)
 * against its records: a column that disagrees is a `hash_mismatch`, as an
 * edited stored column is elsewhere.
 */
function describedAsStored(archive: AuditArchive, seen: { records: number; firstTime: unknown; lastTime: unknown; lastChecksum: unknown }): Finding[] {
  const out: Finding[] = [];
  const column = (name: string, stored: string, actual: string): void => {
    if (stored !== actual) out.push(finding(archive.stream, 'hash_mismatch', `the archive's ${name} column says ${stored}, its records say ${actual}`, { expected: actual, actual: stored }));
  };
  if (seen.records === 0) return out; // no records to compare with: reported as truncated
  column('record_count', String(archive.records), String(seen.records));
  column('first_time_unix_nano', String(archive.firstTimeUnixNano), String(seen.firstTime));
  column('last_time_unix_nano', String(archive.lastTimeUnixNano), String(seen.lastTime));
  column('last_checksum', archive.lastChecksum, String(seen.lastChecksum).toLowerCase());
  return out;
}

/**
 * Verify an archive on its own against `keyring`.
 *
 * @example
 * const archive = store.readArchive(store.archives()[0].archiveId);
 * const report = verifyArchive(archive, keyring);
 */
export function verifyArchive(archive: AuditArchive, keyring?: Keyring): VerificationReport {
  if (typeof archive !== 'object' || archive === null || !Buffer.isBuffer(archive.data)) throw new TypeError('archive must be an AuditArchive (see SqliteAuditStore.readArchive)');
  const extra: Finding[] = [];
  const actual = createHash('sha256').update(archive.data).digest('hex');
  if (actual !== archive.sha256) extra.push(finding(archive.stream, 'hash_mismatch', 'the archive data does not match its SHA-256', { expected: archive.sha256, actual }));
  const v = new Verifier(keyring ? { keyring } : {});
  v.addCheckpoint(archive.checkpoint);
  // The note's stream and size, whoever signed it (its signature is the verifier's to judge).
  const cp = checkpointOfNote(archive.checkpoint);
  if (cp !== undefined && cp.origin !== archive.stream) {
    extra.push(finding(archive.stream, 'hash_mismatch', `the archive's checkpoint is of stream ${JSON.stringify(cp.origin.slice(0, 80))}, not of the archive's stream: it vouches for none of its records`,
      { expected: archive.stream, actual: cp.origin }));
  } else if (cp !== undefined && cp.size !== archive.lastSeq + 1) {
    // Its cut is at size lastSeq + 1; a checkpoint at another size is not the one retention stored with it.
    extra.push(finding(archive.stream, 'truncated', cp.size < archive.lastSeq + 1
      ? `the archive's checkpoint is at size ${cp.size}, not at its cut (size ${archive.lastSeq + 1}): records seq ${cp.size}..${archive.lastSeq} are vouched for by no checkpoint`
      : `the archive's checkpoint is at size ${cp.size}, beyond its cut (size ${archive.lastSeq + 1}): records seq ${archive.lastSeq + 1}..${cp.size - 1} are missing`,
    { seq: Math.min(cp.size, archive.lastSeq + 1), size: cp.size, expected: String(archive.lastSeq + 1), actual: String(cp.size) }));
  }
  if (archive.firstSeq > 0) v.startStream(archive.stream, { alg: archive.alg, prev: archive.prev, compactRange: archive.startCompactRange });
  let text = '';
  try {
    text = gunzipSync(archive.data).toString('utf8');
  } catch (e) {
    extra.push(finding(archive.stream, 'malformed', `the archive data is not gzip: ${(e as Error).message}`));
  }
  /** What the archive's description says of its records, read from the records themselves. */
  const seen = { records: 0, firstTime: undefined as unknown, lastTime: undefined as unknown, lastChecksum: undefined as unknown };
  /** Records of another stream: not the archive's, so not verified with it (one finding names how many). */
  const foreign = { records: 0, first: undefined as undefined | { stream: string; seq: unknown } };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let item: { record?: unknown; checksum?: unknown } | undefined;
    try {
      item = JSON.parse(line);
    } catch {
      extra.push(finding(archive.stream, 'malformed', 'an archive line is not JSON'));
      continue;
    }
    const rec = item?.record;
    const record = typeof rec === 'object' && rec !== null && !Array.isArray(rec) ? rec : {};
    const stream = (record as { stream?: unknown }).stream;
    if (typeof stream === 'string' && stream !== archive.stream) {
      foreign.records++;
      foreign.first ??= { stream, seq: (record as { seq?: unknown }).seq };
      continue;
    }
    v.addRecord(record, typeof item?.checksum === 'string' ? item.checksum : undefined);
    seen.records++;
    seen.lastTime = (record as { time?: unknown }).time;
    if (seen.records === 1) seen.firstTime = seen.lastTime;
    seen.lastChecksum = item?.checksum;
  }
  if (foreign.first !== undefined) {
    extra.push(finding(archive.stream, 'malformed', `the archive holds ${foreign.records} record(s) of another stream (the first: seq ${String(foreign.first.seq).slice(0, 40)} of ${JSON.stringify(foreign.first.stream.slice(0, 80))}); an archive holds one stream's records only, so they were not verified`));
  }
  extra.push(...describedAsStored(archive, seen));
  const report = v.finish();
  let s = report.streams.find((x) => x.stream === archive.stream);
  // Always the archive's own stream: its seq range is checked even when none of its records were read.
  if (s === undefined) {
    s = { stream: archive.stream, alg: archive.alg, records: 0, firstSeq: undefined, lastSeq: undefined, duplicatesIgnored: 0, checkpoints: { seen: 0, verified: 0, lastVerifiedSize: 0, mismatched: 0, unchecked: 0 }, findings: [], findingsOmitted: 0, errors: 0, warnings: 0 };
    report.streams.push(s);
  }
  if ((s.firstSeq ?? archive.firstSeq) !== archive.firstSeq) extra.push(finding(archive.stream, 'seq_gap', `the archive starts at seq ${s.firstSeq}, not ${archive.firstSeq}`));
  if (s.lastSeq !== archive.lastSeq) extra.push(finding(archive.stream, 'truncated', `the archive ends at seq ${String(s.lastSeq)}, not ${archive.lastSeq}`));
  for (const f of extra) {
    s.findings.push(f);
    s.errors++;
    report.errors++;
  }
  return { ...report, ok: report.errors === 0 };
}
