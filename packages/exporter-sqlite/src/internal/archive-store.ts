/**
 * Reading `audit_log_archives` (DESIGN §6 retention): the row ↔
 * `ArchiveInfo` mapping, the listing, and one archive with its data —
 * decrypted when it was sealed with encryption at rest (the SHA-256 is over
 * the gzip bytes, so `verifyArchive` checks what was archived, whatever the
 * storage encoding).
 */
import type Database from 'better-sqlite3';
import type { HashAlgorithm } from '@otel-audit/core';
import type { ArchiveInfo, AuditArchive } from '../archive.js';
import { EncryptionKeyError } from '../errors.js';
import type { RowCipher } from './row-cipher.js';

export interface ArchiveRow {
  archive_id: number; stream: string; hash_alg: string; first_seq: number; last_seq: number; record_count: number;
  first_time_unix_nano: bigint; last_time_unix_nano: bigint; prev: string; last_checksum: string; start_compact_range: string;
  compact_range: string; checkpoint_note: string; sha256: string; purged: number;
}

export const ARCHIVE_COLUMNS = `archive_id, stream, hash_alg, first_seq, last_seq, record_count, first_time_unix_nano, last_time_unix_nano, prev,
  last_checksum, start_compact_range, compact_range, checkpoint_note, sha256,
  EXISTS (SELECT 1 FROM audit_log_purges p WHERE p.archive_id = audit_log_archives.archive_id) AS purged`;

export function toArchiveInfo(r: ArchiveRow): ArchiveInfo {
  return {
    archiveId: Number(r.archive_id), stream: r.stream, alg: r.hash_alg as HashAlgorithm, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq),
    records: Number(r.record_count), firstTimeUnixNano: BigInt(r.first_time_unix_nano), lastTimeUnixNano: BigInt(r.last_time_unix_nano),
    prev: r.prev, lastChecksum: r.last_checksum, startCompactRange: JSON.parse(r.start_compact_range), compactRange: JSON.parse(r.compact_range),
    checkpoint: r.checkpoint_note, sha256: r.sha256, purged: Number(r.purged) === 1,
  };
}

/** The archives, of one stream or all, oldest first. */
export function listArchives(db: Database.Database, stream: string | undefined): ArchiveInfo[] {
  if (stream !== undefined && typeof stream !== 'string') throw new TypeError('stream must be a string');
  const rows = stream === undefined
    ? db.prepare(`SELECT ${ARCHIVE_COLUMNS} FROM audit_log_archives ORDER BY stream, last_seq`).safeIntegers().all()
    : db.prepare(`SELECT ${ARCHIVE_COLUMNS} FROM audit_log_archives WHERE stream = ? ORDER BY last_seq`).safeIntegers().all(stream);
  return rows.map((r) => toArchiveInfo(r as ArchiveRow));
}

/** One archive with its (decrypted) data. */
export function readArchive(db: Database.Database, cipher: RowCipher | undefined, archiveId: number): AuditArchive {
  if (!Number.isSafeInteger(archiveId)) throw new TypeError('archiveId must be an integer');
  const row = db.prepare(`SELECT ${ARCHIVE_COLUMNS}, data, enc_key_id FROM audit_log_archives WHERE archive_id = ?`).safeIntegers().get(archiveId) as
    (ArchiveRow & { data: Buffer; enc_key_id: string | null }) | undefined;
  if (row === undefined) throw new RangeError(`archiveId ${archiveId} does not exist`);
  const info = toArchiveInfo(row);
  let data = row.data;
  if (row.enc_key_id !== null) {
    if (cipher === undefined) throw new EncryptionKeyError(row.enc_key_id, `archive ${archiveId} is encrypted with key id "${row.enc_key_id}"; open the store with the encryption option`);
    // Altered ciphertext is handed on as is: its SHA-256 then fails in verifyArchive.
    data = cipher.openBytes(row.data, row.enc_key_id, `archive:${info.stream}:${info.firstSeq}`) ?? row.data;
  }
  return { ...info, data };
}
